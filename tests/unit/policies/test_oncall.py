"""oncall-escalation-levels and oncall-rotation-people: a passing prod stack, then one thing broken."""

from __future__ import annotations

from typing import Any

import pytest

from policies.oncall import ESCALATION_POLICY, SCHEDULE, oncall_escalation_levels, oncall_rotation_people

from .helpers import check_stack, resource

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def rule(team: str, severity: str = "page", slo: str | None = "availability") -> dict[str, Any]:
    labels = {"team": team, "service": "checkout-api", "severity": severity}
    if slo:
        labels["slo"] = slo
    return {"spec": {"groups": [{"name": "g", "rules": [
        {"record": "slo:sli_error:ratio_rate5m", "expr": "1", "labels": {"team": team}},
        {"alert": "CheckoutApiAvailabilityBudgetBurn", "expr": "1", "labels": labels}]}]}}


def stack(levels: int = 2, people: tuple[str, ...] = ("PANA", "PBO"), env: str = "prod",
          team: str = "payments", paging: dict[str, Any] | None = None) -> list[Any]:
    parent = resource("reliability:incidents:OnCallTeam", {}, f"reliability-oncall-{team}", stack=env)
    policy = resource(ESCALATION_POLICY, {"name": team, "rules": [
        {"escalationDelayInMinutes": 15, "targets": [{"type": "schedule_reference", "id": "S"}]}] * levels},
        f"reliability-oncall-{team}-escalation", stack=env)
    schedule = resource(SCHEDULE, {"name": f"{team} primary", "layers": [{"users": list(people)}]},
                        f"reliability-oncall-{team}-primary", stack=env)
    policy.parent = schedule.parent = parent
    rules = resource(RULE, paging or rule("payments"), "slo-checkout-api", stack=env)
    return [rules, parent, policy, schedule]


def test_a_team_with_two_levels_and_two_people_passes():
    assert check_stack(oncall_escalation_levels, stack()) == []
    assert check_stack(oncall_rotation_people, stack()) == []


def test_one_level_is_named_with_the_team_and_the_fix():
    assert check_stack(oncall_escalation_levels, stack(levels=1)) == [(
        "team 'payments' owns paging SLOs (checkout-api) but its escalation policy has 1 level: add a second "
        "level to reliability:oncall.teams.payments.escalation.levels (a secondary rotation or the team lead) "
        "so an unacknowledged page reaches someone else", "reliability-oncall-payments-escalation")]


def test_a_rotation_of_one_person_is_named_with_the_team_and_the_fix():
    assert check_stack(oncall_rotation_people, stack(people=("PANA", "PANA"))) == [(
        "team 'payments' owns paging SLOs (checkout-api) but no rotation has two people or more (1 at most): "
        "list at least two members in a layer of reliability:oncall.teams.payments.rotations, so the on-call "
        "can hand over", "reliability-oncall-payments-escalation")]


@pytest.mark.parametrize("policy", [oncall_escalation_levels, oncall_rotation_people])
def test_a_paging_team_without_any_on_call(policy):
    resources = stack(team="search")  # search has on-call, payments (which owns the paging SLO) none
    assert check_stack(policy, resources) == [(
        "team 'payments' owns paging SLOs (checkout-api) but has no PagerDuty escalation policy in this stack: "
        "add reliability:oncall.teams.payments (members, rotations, escalation) and set "
        "reliability:oncall.enabled: true", "-")]


@pytest.mark.parametrize("policy", [oncall_escalation_levels, oncall_rotation_people])
@pytest.mark.parametrize("case", [
    {"env": "staging", "levels": 1, "people": ("PANA",)},                  # only prod by default
    {"paging": rule("payments", severity="ticket"), "levels": 1, "people": ("PANA",)},  # tickets do not page
    {"paging": rule("payments", slo=None), "levels": 1, "people": ("PANA",)},           # not an SLO alert
])
def test_where_the_rules_do_not_apply(policy, case):
    assert check_stack(policy, stack(**case)) == []


def test_the_environments_are_configurable():
    assert check_stack(oncall_escalation_levels, stack(env="staging", levels=1),
                       {"environments": ["staging", "prod"]})[0][0].startswith("team 'payments'")
