"""SLOs sharing an SLI, and an SLI without errors, against the real Prometheus over the backfilled month.

A 99.99 objective and a weekly period on shop-api's availability SLI: the report asks
Prometheus that SLI's two questions once, and every SLO gets exactly the figures it gets
when it is the SLI's only SLO, with its own budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reliability.budgets import report
from reliability.prometheus import Prometheus
from reliability.slo.load import load

from . import month

pytestmark = pytest.mark.e2e
SHOP = month.SPECS["shop-api.yaml"]
SLI = SHOP[SHOP.index("    sli:"):]
SHARED = SHOP + "  - name: availability-strict\n    objective: 99.99\n" + SLI \
    + "  - name: availability-weekly\n    objective: 99.5\n    period: 7d\n" + SLI


class Counting(Prometheus):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.asked: list[str] = []

    def query(self, expr: str, at: float | None = None) -> Any:
        self.asked.append(expr)
        return super().query(expr, at)

    def query_range(self, expr: str, start: float, end: float, step: float) -> Any:
        self.asked.append(expr)
        return super().query_range(expr, start, end, step)


def _build(url: str, folder: Path, text: str) -> tuple[Counting, dict[str, report.SLOReport]]:
    folder.mkdir()
    (folder / "shop-api.yaml").write_text(text)
    prom = Counting(url)
    built = report.build(prom, load([str(folder)]).services, report.Options(start=month.START, end=month.END))
    return prom, {r.slo.name: r for r in built.slos}


def test_slos_on_one_sli_share_its_answers_exactly(month_prometheus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prom, _ = month_prometheus
    alone_prom, alone = _build(prom.url, tmp_path / "alone", SHOP)
    shared_prom, shared = _build(prom.url, tmp_path / "shared", SHARED)
    assert len(alone_prom.asked) == len(shared_prom.asked) == 2  # the whole interval and the burn-down steps
    assert alone_prom.asked == shared_prom.asked
    one = alone["availability"]
    for name, budget in [("availability", 0.001), ("availability-strict", 0.0001), ("availability-weekly", 0.005)]:
        r = shared[name]
        assert (r.error_ratio, r.events, r.bad) == (one.error_ratio, one.events, one.bad)
        assert r.consumed == pytest.approx(one.error_ratio / budget, rel=1e-12)  # type: ignore[operator]
        assert [t for t, _ in r.burndown] == [t for t, _ in one.burndown]
        assert r.burndown[-1][1] == pytest.approx(1 - r.consumed, rel=1e-12)  # type: ignore[operator]
    assert shared["availability"].burndown == one.burndown
    assert shared["availability"].incidents == one.incidents and one.incidents


def test_an_errors_counter_without_series_means_no_errors(month_prometheus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Counters appear with their first increment: shop-api never answered 503, so none of its requests did."""
    prom, _ = month_prometheus
    asked, found = _build(prom.url, tmp_path / "never", SHOP.replace('code="500"', 'code="503"'))
    shop = found["availability"]
    assert (shop.attainment, shop.bad, shop.consumed, shop.met) == (1.0, 0.0, 0.0, True)
    assert shop.events == pytest.approx(10 * (month.END - month.START), rel=1e-9)
    assert shop.burndown == [(month.START, 1.0), (month.END, 1.0)]
    assert 'code="503"' in asked.asked[1] and 'job="shop"}' not in asked.asked[1]  # the burn-down reads the errors only
