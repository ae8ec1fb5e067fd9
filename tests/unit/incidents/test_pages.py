"""Incidents, MTTR, MTBF and change failure rate from timestamps worked out by hand."""

from __future__ import annotations

import pytest

from reliability.budgets.report import Options
from reliability.incidents import pages as inc
from reliability.prometheus import MAX_POINTS


def test_firing_samples_less_than_five_minutes_apart_are_one_incident() -> None:
    samples = [0, 30, 60, 60 + 299, 60 + 299 + 30, 1000, 1000 + 300]
    # 60 -> 359: 299 s apart, merged; 389 -> 1000: a new incident; 1000 -> 1300: exactly 5 minutes, a new one
    assert inc.from_samples(samples) == [inc.Incident(0, 389), inc.Incident(1000, 1000), inc.Incident(1300, 1300)]
    assert inc.from_samples([]) == []


def test_incidents_of_several_slos_merge_into_the_service_outage() -> None:
    found = inc.merge([inc.Incident(100, 400), inc.Incident(0, 200), inc.Incident(650, 700), inc.Incident(2000, 2100)])
    assert found == [inc.Incident(0, 700), inc.Incident(2000, 2100)]  # 400 -> 650 is under 5 minutes


def test_mttr_and_mtbf() -> None:
    rel = inc.reliability([inc.Incident(0, 600), inc.Incident(10_000, 10_300)], 86_400)
    assert (rel.incidents, rel.downtime_seconds, rel.mttr_seconds) == (2, 900, 450)
    assert rel.mtbf_seconds == (86_400 - 900) / 2
    assert inc.reliability([], 86_400).as_json() == {"incidents": 0, "incident_seconds": 0.0,
                                                      "mttr_seconds": None, "mtbf_seconds": None}


def test_a_deploy_fails_when_a_page_starts_within_the_window() -> None:
    pages = [inc.Incident(5_000, 6_000)]
    result = inc.change_failure([1_000, 4_999, 5_000, 9_000], pages, window=3_600)
    # 1000: the window ends at 4600, before the page; 4999 and 5000: the page starts within; 9000: after it
    assert (result.deploys, result.failed, result.rate) == (4, 2, 0.5)
    assert inc.change_failure([], pages, 3_600).rate is None


def test_deploys_are_counter_increases_and_a_reset_counts_its_new_value() -> None:
    samples = [(0, 3.0), (60, 3.0), (120, 5.0), (180, 1.0), (240, 1.0)]
    assert inc.deploy_times(samples) == [120, 120, 180]


@pytest.mark.parametrize("days", [1 / 24, 1, 30, 365, 3650])
def test_burndown_queries_stay_under_prometheus_point_limit(days: float) -> None:
    opts = Options(start=0, end=days * 86_400)
    assert opts.step % 60 == 0 and opts.step >= 60
    assert opts.seconds / opts.step + 1 <= min(MAX_POINTS, 361 + 1)
