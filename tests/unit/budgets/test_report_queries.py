"""`sre report` asks Prometheus each SLI's two questions once, however many SLOs share the SLI.

Every question reads the SLI's samples over the whole interval, so the report's time is
the number of distinct questions; SLOs on one SLI (a 99.9 and a 99.99 objective, a 30d
and a 7d period) differ only in their budget, which the report works out itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from reliability.budgets import report
from reliability.slo.load import load

from ..slo.helpers import spec_header

DAY = 86_400
START, END = 1_790_812_800, 1_790_812_800 + 30 * DAY
HTTP = "{ratio: {errors: 'http_requests_total{code=\"500\"}', total: 'http_requests_total'}}"
SPEC = spec_header("shop-api") + f"""\
  - name: availability
    objective: 99.9
    sli: {HTTP}
  - name: availability-strict
    objective: 99.99
    sli: {HTTP}
  - name: availability-weekly
    objective: 99.5
    period: 7d
    sli: {HTTP}
  - name: checkout
    objective: 99
    sli: {{raw: {{error_ratio: 'sum(rate(checkout_failed_total[{{{{window}}}}])) / sum(rate(checkout_total[{{{{window}}}}]))'}}}}
"""


class FakePrometheus:
    """Answers every question with a constant rate and records the questions asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def query(self, expr: str, at: float | None = None) -> list[tuple[Any, float]]:
        self.asked.append(("query", expr))
        if "checkout" in expr:
            return [((), 0.002)]
        return [((("part", "total"),), 10.0), ((("part", "errors"),), 0.005)]

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict[Any, list[tuple[float, float]]]:
        self.asked.append(("query_range", expr))
        times = [start + i * step for i in range(int((end - start) / step) + 1)]
        if "checkout" in expr:
            return {(): [(t, 0.002) for t in times]}
        return {(("part", "total"),): [(t, 10.0) for t in times], (("part", "errors"),): [(t, 0.005) for t in times]}

    def samples(self, selector: str, start: float, end: float) -> dict[Any, list[tuple[float, float]]]:
        return {}


@pytest.fixture
def built(tmp_path) -> tuple[FakePrometheus, report.Report]:  # type: ignore[no-untyped-def]
    (tmp_path / "shop.yaml").write_text(SPEC)
    services = load([str(tmp_path)]).services
    prom = FakePrometheus()
    return prom, report.build(prom, services, report.Options(start=START, end=END))  # type: ignore[arg-type]


def test_slos_sharing_an_sli_ask_its_questions_once(built) -> None:  # type: ignore[no-untyped-def]
    prom, _ = built
    kinds = sorted(kind for kind, _ in prom.asked)
    assert kinds == ["query", "query", "query_range", "query_range"]  # 3 SLOs on one SLI, 1 raw: 2 SLIs
    assert len(set(prom.asked)) == len(prom.asked)


def test_each_slo_keeps_its_own_budget_from_the_shared_answer(built) -> None:  # type: ignore[no-untyped-def]
    _, built_report = built
    by_name = {r.slo.name: r for r in built_report.slos}
    assert [r.slo.name for r in built_report.slos] == sorted(by_name)
    for name, budget in [("availability", 0.001), ("availability-strict", 0.0001), ("availability-weekly", 0.005)]:
        r = by_name[name]
        assert r.error_ratio == pytest.approx(0.0005)
        assert r.events == pytest.approx(10.0 * 30 * DAY) and r.bad == pytest.approx(0.005 * 30 * DAY)
        assert r.consumed == pytest.approx(0.0005 / budget)
        assert r.burndown[0] == (START, 1.0)
        assert r.burndown[-1][1] == pytest.approx(1 - 0.0005 / budget)
    checkout = by_name["checkout"]
    assert (checkout.error_ratio, checkout.events, checkout.consumed) == (0.002, None, pytest.approx(0.2))
    assert checkout.burndown[-1] == (END, pytest.approx(0.8))


def test_the_burndown_of_an_errors_query_reads_only_the_errors(built) -> None:  # type: ignore[no-untyped-def]
    prom, _ = built
    ranges = sorted(expr for kind, expr in prom.asked if kind == "query_range")
    assert ranges == ['label_replace(sum(sum(rate(http_requests_total{code="500"}[7200s]))), "part", "errors", "", "")',
                      "sum(sum(rate(checkout_failed_total[7200s])) / sum(rate(checkout_total[7200s])))"]


class NoErrorsYet(FakePrometheus):
    """A service that never failed: its errors counter has no series at all."""

    def query(self, expr: str, at: float | None = None) -> list[tuple[Any, float]]:
        return [(labels, v) for labels, v in super().query(expr, at) if labels != (("part", "errors"),)]

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict[Any, list[tuple[float, float]]]:
        return {} if 'code="500"' in expr else super().query_range(expr, start, end, step)


def test_no_errors_series_is_no_errors_not_all_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "shop.yaml").write_text(SPEC)
    built = report.build(NoErrorsYet(), load([str(tmp_path)]).services,  # type: ignore[arg-type]
                         report.Options(start=START, end=END))
    shop = next(r for r in built.slos if r.slo.name == "availability")
    assert (shop.attainment, shop.bad, shop.consumed, shop.met) == (1.0, 0.0, 0.0, True)
    assert shop.events == pytest.approx(10.0 * 30 * DAY)
    assert shop.burndown == [(START, 1.0), (END, 1.0)]
