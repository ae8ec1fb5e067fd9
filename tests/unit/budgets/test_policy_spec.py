"""`error_budget_policy` in the spec: per service and per SLO, defaults, and one broken field at a time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from reliability.slo.load import load
from reliability.slo.model import BudgetPolicy

SPEC = """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: shop-api
team: payments
runbook_url: https://runbooks.example.com/shop-api
error_budget_policy: {freeze_below: 0.25, exempt: [security, rollback], fail_mode: open}
slos:
  - name: availability
    objective: 99.9
    sli: {ratio: {errors: 'http_requests_total{code="500"}', total: 'http_requests_total'}}
  - name: latency
    objective: 99
    sli: {latency: {histogram: 'http_request_duration_seconds', threshold: 300ms}}
    error_budget_policy: {fail_mode: closed}
"""


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return load([str(path)])


def test_slo_policy_inherits_the_fields_it_leaves_out(tmp_path: Path) -> None:
    result = _load(tmp_path, SPEC)
    assert not result.problems
    availability, latency = result.services[0].slos
    assert availability.budget_policy == BudgetPolicy(Decimal("0.25"), ("rollback", "security"), "open")
    assert latency.budget_policy == BudgetPolicy(Decimal("0.25"), ("rollback", "security"), "closed")


def test_without_a_policy_releases_stop_at_an_empty_budget_and_unknown_is_closed(tmp_path: Path) -> None:
    result = _load(tmp_path, SPEC.replace(SPEC.splitlines()[5] + "\n", ""))
    policy = result.services[0].slos[0].budget_policy
    assert (policy.freeze_below, policy.exempt, policy.fail_mode) == (0, (), "closed")


CASES = {
    "fail mode": ("{fail_mode: ajar}", "F:6: -: error_budget_policy.fail_mode: must be one of 'open', 'closed', "
                                       "got the string 'ajar'"),
    "freeze above 1": ("{freeze_below: 1}", "F:6: -: error_budget_policy.freeze_below: must be less than 1, got 1"),
    "freeze negative": ("{freeze_below: -0.1}",
                        "F:6: -: error_budget_policy.freeze_below: must be at least 0, got -0.1"),
    "freeze as percent": ("{freeze_below: 25%}",
                          "F:6: -: error_budget_policy.freeze_below: expected a number, got the string '25%'"),
    "exempt not a list": ("{exempt: security}",
                          "F:6: -: error_budget_policy.exempt: expected a list, got the string 'security'"),
    "exempt label": ("{exempt: ['security fix']}", "F:6: -: error_budget_policy.exempt[0]: 'security fix' is not "
                                                   "allowed here: must match ^[A-Za-z0-9][A-Za-z0-9._/:-]{0,62}$"),
    "unknown field": ("{freeze_bellow: 0.1}", "F:6: -: error_budget_policy.freeze_bellow: unknown field 'freeze_bellow' "
                                              "(did you mean 'freeze_below'?)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_broken_field(tmp_path: Path, case: str) -> None:
    value, expected = CASES[case]
    text = SPEC.replace("{freeze_below: 0.25, exempt: [security, rollback], fail_mode: open}", value)
    result = _load(tmp_path, text)
    messages = [str(p).replace(str(tmp_path / "spec.yaml"), "F") for p in result.problems.errors]
    assert messages == [expected]


def test_the_slo_level_field_is_checked_too(tmp_path: Path) -> None:
    result = _load(tmp_path, SPEC.replace("{fail_mode: closed}", "{fail_mode: shut}"))
    messages = [str(p).replace(str(tmp_path / "spec.yaml"), "F") for p in result.problems.errors]
    assert messages == ["F:14: latency: slos[1].error_budget_policy.fail_mode: must be one of 'open', 'closed', "
                        "got the string 'shut'"]
