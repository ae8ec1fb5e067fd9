"""On-call policies: in prod, every team that owns a paging SLO can be reached twice over.

A team owns a paging SLO when a PrometheusRule carries an alert that fires with its `team` label,
an `slo` label and a paging `severity` (policies/alert_labels.py reads them from the rule and the
recorded series it compares). Its PagerDuty escalation policy is the one named after the team
(components/oncall.py names it so); its rotations are the schedules beside that policy (same parent
component). A page nobody acknowledges must reach a second level, and a rotation of one person
is nobody's holiday: both are mandatory in prod.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy

from ._common import Report, environment, get, k8s_group, k8s_kind, listing, schema, settings, string_list
from .alert_labels import fired_labels, recorded_series

ESCALATION_POLICY = "pagerduty:index/escalationPolicy:EscalationPolicy"
SCHEDULE = "pagerduty:index/schedule:Schedule"

_SCHEMA = schema(
    {
        "environments": string_list(default=["prod"], description="Environments where these rules hold."),
        "pageSeverities": string_list(default=["page", "critical"], description="Severities that page."),
    }
)


def paging_teams(resources: list[PolicyResource], severities: list[str]) -> dict[str, set[str]]:
    """Team -> services of the SLO alerts that page it, from every PrometheusRule of the stack
    (an alert's labels as it fires: its own and those of the recorded series it compares)."""
    groups = [group for resource in resources
              if k8s_group(resource.resource_type) == "monitoring.coreos.com"
              and k8s_kind(resource.resource_type) == "PrometheusRule"
              for group in listing(get(resource.props, "spec", "groups"))]
    recorded = recorded_series(groups)
    teams: dict[str, set[str]] = {}
    for group in groups:
        for rule in listing(get(group, "rules")):
            if not get(rule, "alert"):
                continue
            labels = fired_labels(rule, recorded)
            team, slo, severity = labels.get("team"), labels.get("slo"), labels.get("severity")
            if team and slo and severity in severities:
                teams.setdefault(team, set()).add(labels.get("service", slo))
    return teams


def _policies_by_team(resources: list[PolicyResource]) -> dict[str, PolicyResource]:
    return {str(get(r.props, "name")): r for r in resources if r.resource_type == ESCALATION_POLICY}


def _parent_urn(resource: PolicyResource) -> str | None:
    return resource.parent.urn if resource.parent is not None else None


def _applies(args: StackValidationArgs) -> tuple[dict[str, set[str]], dict[str, PolicyResource]] | None:
    cfg = settings(args, _SCHEMA)
    if not args.resources or environment(args.resources[0].urn) not in cfg["environments"]:
        return None
    return paging_teams(list(args.resources), cfg["pageSeverities"]), _policies_by_team(list(args.resources))


def _missing(team: str, services: set[str]) -> str:
    return (f"team '{team}' owns paging SLOs ({', '.join(sorted(services))}) but has no PagerDuty escalation "
            f"policy in this stack: add reliability:oncall.teams.{team} (members, rotations, escalation) and "
            "set reliability:oncall.enabled: true")


def _validate_escalation(args: StackValidationArgs, report: Report) -> None:
    found = _applies(args)
    if found is None:
        return
    teams, policies = found
    for team, services in sorted(teams.items()):
        policy = policies.get(team)
        if policy is None:
            report(_missing(team, services))
            continue
        levels = len(listing(get(policy.props, "rules")))
        if levels < 2:
            report(f"team '{team}' owns paging SLOs ({', '.join(sorted(services))}) but its escalation policy "
                   f"has {levels} level: add a second level to reliability:oncall.teams.{team}.escalation.levels "
                   "(a secondary rotation or the team lead) so an unacknowledged page reaches someone else",
                   policy.urn)


def _people(schedule: PolicyResource) -> Iterator[str]:
    for index, layer in enumerate(listing(get(schedule.props, "layers"))):
        for position, user in enumerate(listing(get(layer, "users"))):
            yield user if isinstance(user, str) else f"unknown-{index}-{position}"


def _validate_rotation(args: StackValidationArgs, report: Report) -> None:
    found = _applies(args)
    if found is None:
        return
    teams, policies = found
    schedules = [r for r in args.resources if r.resource_type == SCHEDULE]
    for team, services in sorted(teams.items()):
        policy = policies.get(team)
        if policy is None:
            report(_missing(team, services))
            continue
        own = [s for s in schedules if _parent_urn(s) is not None and _parent_urn(s) == _parent_urn(policy)]
        largest = max((len(set(_people(s))) for s in own), default=0)
        if largest < 2:
            report(f"team '{team}' owns paging SLOs ({', '.join(sorted(services))}) but no rotation has two "
                   f"people or more ({largest} at most): list at least two members in a layer of "
                   f"reliability:oncall.teams.{team}.rotations, so the on-call can hand over",
                   policy.urn)


oncall_escalation_levels = StackValidationPolicy(
    name="oncall-escalation-levels",
    description="In prod every team that owns a paging SLO has a PagerDuty escalation policy with at least "
    "two levels.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_escalation,
    config_schema=_SCHEMA,
)
oncall_rotation_people = StackValidationPolicy(
    name="oncall-rotation-people",
    description="In prod every team that owns a paging SLO has a rotation of at least two people.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_rotation,
    config_schema=_SCHEMA,
)

POLICIES = [oncall_escalation_levels, oncall_rotation_people]
