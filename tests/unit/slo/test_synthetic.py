"""Synthetic traffic: which series a good and a bad event touch, for the SLI shapes people write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reliability.slo.generators.synthetic import NotSynthesizable, event_model, regex_example
from reliability.slo.model import Query, RatioSLI, RawSLI
from reliability.slo.promql import le_matcher


def ratio(errors: str | None, total: str, good: str | None = None) -> RatioSLI:
    return RatioSLI(total=Query(total), errors=Query(errors) if errors else None, good=Query(good) if good else None)


def series(sli) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    return [(s.text, s.good, s.bad) for s in event_model(sli).series]


def test_same_counter_with_a_code_label() -> None:
    sli = ratio('sum(rate(http_requests_total{job="a",code=~"5.."}[{{window}}]))',
                'sum(rate(http_requests_total{job="a"}[{{window}}]))')
    assert series(sli) == [('http_requests_total{code="500",job="a"}', 0, 1),
                           ('http_requests_total{code="synthetic",job="a"}', 1, 0)]


def test_separate_error_and_request_counters() -> None:
    sli = ratio('sum(rate(errors_total{job="a"}[{{window}}]))', 'sum(rate(requests_total{job="a"}[{{window}}]))')
    assert series(sli) == [('errors_total{job="a"}', 0, 1), ('requests_total{job="a"}', 1, 1)]


def test_histogram_good_is_the_bucket() -> None:
    sli = ratio(None, 'sum(rate(lat_seconds_count{job="a"}[{{window}}]))',
                good='sum(rate(lat_seconds_bucket{job="a",le="0.3"}[{{window}}]))')
    assert series(sli) == [('lat_seconds_bucket{job="a",le="+Inf"}', 1, 1), ('lat_seconds_bucket{job="a",le="0.3"}', 1, 0),
                           ('lat_seconds_count{job="a"}', 1, 1)]


LATENCY_GOOD = f'sum(rate(lat_seconds_bucket{{job="a",{le_matcher(Decimal("0.25"))}}}[{{{{window}}}}]))'
LATENCY_TOTAL = 'sum(rate(lat_seconds_count{job="a"}[{{window}}]))'


def latency(threshold: str, buckets: tuple[str, ...]) -> RatioSLI:
    return RatioSLI(total=Query(LATENCY_TOTAL), good=Query(LATENCY_GOOD), kind="latency",
                    threshold_seconds=Decimal(threshold), buckets=buckets)


def test_a_declared_bucket_layout_is_the_histogram_of_the_synthetic_traffic() -> None:
    # A fast request (at the threshold) lands in 0.25 and up, a slow one (just above) in 0.5 and up.
    assert series(latency("0.25", ("0.1", "0.25", "0.5", "1"))) == [
        ('lat_seconds_bucket{job="a",le="+Inf"}', 1, 1), ('lat_seconds_bucket{job="a",le="0.25"}', 1, 0),
        ('lat_seconds_bucket{job="a",le="0.5"}', 1, 1), ('lat_seconds_bucket{job="a",le="1"}', 1, 1),
        ('lat_seconds_count{job="a"}', 1, 1)]


def test_a_threshold_off_the_declared_layout_cannot_be_tested() -> None:
    with pytest.raises(NotSynthesizable) as caught:
        event_model(latency("0.25", ("0.1", "0.3", "0.5")))
    assert str(caught.value) == ("the threshold, 0.25s, is not one of the declared bucket boundaries "
                                 "(0.1, 0.3, 0.5): no bucket series counts a fast request")


def test_errors_as_count_minus_bucket() -> None:
    # Sloth's kubernetes-apiserver latency SLI: errors = count - bucket(le=0.4).
    sli = ratio('(sum(rate(d_seconds_count{verb!="WATCH"}[{{window}}])) - '
                'sum(rate(d_seconds_bucket{le="0.4",verb!="WATCH"}[{{window}}])))',
                'sum(rate(d_seconds_count{verb!="WATCH"}[{{window}}]))')
    found = series(sli)
    assert ('d_seconds_bucket{le="0.4",verb="synthetic"}', 1, 0) in found
    assert ('d_seconds_count{verb="synthetic"}', 1, 1) in found


def test_raw_ratio_of_counters() -> None:
    sli = RawSLI(Query('1 - (sum(rate(ok_total[{{window}}])) / sum(rate(all_total[{{window}}])))'))
    assert series(sli) == [("all_total", 1, 1), ("ok_total", 1, 0)]


@pytest.mark.parametrize("sli", [
    RawSLI(Query("1 - avg_over_time(probe_success[{{window}}])")),
    ratio("sum_over_time((count(x < 0.75))[{{window}}:]) OR on() vector(0)", "sum_over_time((count(x))[{{window}}:])"),
    ratio("sum by (route) (rate(e_total[{{window}}]))", "sum by (route) (rate(t_total[{{window}}]))"),
])
def test_shapes_that_cannot_be_synthesised_say_so(sli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotSynthesizable):
        event_model(sli)


@pytest.mark.parametrize("pattern", ["5..", "(5..|429)", "Unknown|DeadlineExceeded", "[45]\\d\\d", "a+b?c*", "x{2,3}"])
def test_regex_examples_match(pattern: str) -> None:
    import re

    assert re.fullmatch(pattern, regex_example(pattern))
