"""Reading the labels an alert fires with: through the compiler's burn-rate alerts, and not
through expressions whose result labels the rule files cannot tell."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from policies import oncall, slo_hygiene
from policies.alert_labels import fired_labels, recorded_series
from reliability.slo import naming
from reliability.slo.generators import rules as rule_generator

from ..slo.helpers import compile_examples
from .helpers import check_resource, check_stack, resource
from .test_oncall import stack

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SERIES = {"service": "checkout-api", "slo": "availability", "team": "payments", "domain": "commerce"}
RECORDS = [
    {"record": "slo:sli_error:ratio_rate5m", "expr": "x", "labels": SERIES},
    {"record": "slo:sli_error:ratio_rate1h", "expr": "y", "labels": SERIES},
    {"record": "slo:sli_error:ratio_rate1h", "expr": "z", "labels": SERIES | {"slo": "latency", "team": "web"}},
]
SEL = '{service="checkout-api",slo="availability"}'
BURN = f"slo:sli_error:ratio_rate1h{SEL} > 0.0144\nand\nslo:sli_error:ratio_rate5m{SEL} > 0.0144"


def alert(expr: str, **labels: str) -> dict[str, Any]:
    return {"alert": "CheckoutApiAvailabilityBudgetBurn", "expr": expr, "labels": {"severity": "page"} | labels}


def test_every_compiled_burn_rate_alert_fires_with_the_labels_its_promtool_tests_expect() -> None:
    # The generated promtool tests check these labels on the firing alert in Prometheus itself.
    output = compile_examples()
    checked = 0
    for service in output.services:
        groups = yaml.safe_load(output.files[f"rules/{naming.slug(service.name)}.yaml"])["groups"]
        recorded = recorded_series(groups)
        for slo in service.slos:
            group = next(g for g in groups if g["name"] == naming.group_name(slo.service, slo.name, "sli"))
            for rule in (r for r in group["rules"] if r.get("alert") == slo.alerting.name):
                severity = rule["labels"]["severity"]
                assert fired_labels(rule, recorded) == rule_generator.burn_alert_labels(slo, severity)
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize(("case", "expr", "expected"), [
    ("compares recorded series", BURN, SERIES | {"severity": "page"}),
    ("or of recorded series", f"slo:sli_error:ratio_rate1h{SEL} > 1 or slo:sli_error:ratio_rate5m{SEL} > 2",
     SERIES | {"severity": "page"}),
    ("two recordings match: only what they share",
     'slo:sli_error:ratio_rate1h{service="checkout-api"} > 1', {"service": "checkout-api", "domain": "commerce",
                                                              "severity": "page"}),
    ("an aggregation", f"max by (slo) (slo:sli_error:ratio_rate1h{SEL}) > 1", {"severity": "page"}),
    ("vector matching", f"slo:sli_error:ratio_rate1h{SEL} > on(slo) slo:sli_error:ratio_rate5m{SEL}",
     {"severity": "page"}),
    ("a series nobody records here", 'http_requests_total{job="checkout"} > 1', {"severity": "page"}),
    ("a bare metric name", f"slo:sli_error:ratio_rate1h{SEL} > 1 or up == 0", {"severity": "page"}),
    ("a regex matcher", 'slo:sli_error:ratio_rate1h{slo=~"avail.*"} > 1', {"severity": "page"}),
    ("a label rewrite", f'label_replace(slo:sli_error:ratio_rate1h{SEL}, "team", "x", "", "") > 1',
     {"severity": "page"}),
])
def test_what_the_rule_files_tell(case: str, expr: str, expected: dict[str, str]) -> None:
    assert fired_labels(alert(expr), recorded_series([{"rules": RECORDS}])) == expected


def test_the_rules_own_label_wins() -> None:
    assert fired_labels(alert(BURN, team="sre"), recorded_series([{"rules": RECORDS}]))["team"] == "sre"


def test_required_labels_count_those_the_series_carry() -> None:
    cfg = {"requiredLabels": ["severity", "team"]}
    ok = {"spec": {"groups": [{"name": "g", "rules": [*RECORDS, alert(BURN) | {
        "annotations": {"summary": "s", "runbook_url": "https://runbooks.example.com/x"}}]}]}}
    assert check_resource(slo_hygiene.alert_rule_metadata, RULE, ok, config=cfg) == []
    hand_written = {"spec": {"groups": [{"name": "g", "rules": [alert("up == 0") | {
        "annotations": {"summary": "s", "runbook_url": "https://runbooks.example.com/x"}}]}]}}
    assert check_resource(slo_hygiene.alert_rule_metadata, RULE, hand_written, config=cfg) == [
        'alert CheckoutApiAvailabilityBudgetBurn (group g, rules[0], severity="page") has no labels.team']


def test_a_team_owns_the_paging_slos_whose_series_carry_its_name() -> None:
    # The compiler's page names only severity; the team comes with the recorded ratios.
    paging = {"spec": {"groups": [{"name": "g", "rules": [*RECORDS, alert(BURN)]}]}}
    resources = stack(team="search", paging=paging)
    rules = resource(RULE, paging, "slo-checkout-api", stack="prod")
    assert oncall.paging_teams([rules], ["page"]) == {"payments": {"checkout-api"}}
    assert check_stack(oncall.oncall_escalation_levels, resources)[0][0].startswith(
        "team 'payments' owns paging SLOs (checkout-api) but has no PagerDuty escalation policy")
