"""SLO hygiene policies: alert metadata, and prod pages that reach a pager."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from policies import slo_hygiene
from policies._common import SecretText
from reliability.alerting.generate import render_config
from reliability.alerting.routing import parse_routing

from .helpers import broken, check_resource

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
ALERT = {"alert": "CheckoutApiAvailabilityBudgetBurn", "expr": "x > 1",
         "labels": {"severity": "page", "team": "payments"},
         "annotations": {"summary": "burning", "runbook_url": "https://runbooks.example.com/checkout-api"}}
PROMETHEUS_RULE = {"metadata": {"name": "slo-checkout-api"}, "spec": {"groups": [
    {"name": "slo:checkout-api:alerts", "rules": [{"record": "r", "expr": "1"}, ALERT]}]}}


def first_alert(rule: dict[str, Any]) -> dict[str, Any]:
    return rule["spec"]["groups"][0]["rules"][1]


ALERT_CASES = [
    ("no runbook_url", broken(PROMETHEUS_RULE, lambda r: first_alert(r)["annotations"].pop("runbook_url")),
     ['alert CheckoutApiAvailabilityBudgetBurn (group slo:checkout-api:alerts, rules[1], severity="page") has no '
      "annotations.runbook_url"]),
    ("empty summary, no severity", broken(PROMETHEUS_RULE, lambda r: (first_alert(r)["annotations"].update(summary=" "),
                                                                      first_alert(r)["labels"].pop("severity"))),
     ["alert CheckoutApiAvailabilityBudgetBurn (group slo:checkout-api:alerts, rules[1]) has no labels.severity, "
      "annotations.summary"]),
    ("no annotations at all", broken(PROMETHEUS_RULE, lambda r: first_alert(r).pop("annotations")),
     ['alert CheckoutApiAvailabilityBudgetBurn (group slo:checkout-api:alerts, rules[1], severity="page") has no '
      "annotations.summary, annotations.runbook_url"]),
]


def test_alerts_happy_path() -> None:
    assert check_resource(slo_hygiene.alert_rule_metadata, RULE, PROMETHEUS_RULE) == []


@pytest.mark.parametrize(("case", "props", "messages"), ALERT_CASES, ids=[c[0] for c in ALERT_CASES])
def test_alerts_broken(case: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(slo_hygiene.alert_rule_metadata, RULE, props) == messages


def test_alerts_of_one_name_are_told_apart() -> None:
    """Fast and slow burn alerts share an alertname: each line names its rule, so none repeats."""
    slow = broken(ALERT, lambda a: (a["labels"].update(severity="ticket"), a["annotations"].pop("runbook_url")))
    fast = broken(ALERT, lambda a: a["annotations"].pop("runbook_url"))
    rule = broken(PROMETHEUS_RULE, lambda r: r["spec"]["groups"][0].update(rules=[{"record": "r", "expr": "1"}, fast, slow]))
    assert check_resource(slo_hygiene.alert_rule_metadata, RULE, rule) == [
        'alert CheckoutApiAvailabilityBudgetBurn (group slo:checkout-api:alerts, rules[1], severity="page") has no '
        "annotations.runbook_url",
        'alert CheckoutApiAvailabilityBudgetBurn (group slo:checkout-api:alerts, rules[2], severity="ticket") has no '
        "annotations.runbook_url",
    ]


def test_alerts_in_helm_values() -> None:
    values = {"additionalPrometheusRulesMap": {"extra": {"groups": [
        {"name": "extra", "rules": [broken(ALERT, lambda a: a["annotations"].pop("summary"))]}]}}}
    assert check_resource(slo_hygiene.alert_rule_metadata, "kubernetes:helm.sh/v3:Release", {"values": values}) == [
        'alert CheckoutApiAvailabilityBudgetBurn (group extra, rules[0], severity="page") has no annotations.summary'
    ]


# ------------------------------------------------------------------ pages reach a pager

SECRET = "kubernetes:core/v1:Secret"
# The routing issue 4 builds: receivers <team>-page / <team>-ticket, pages by team + severity="page".
ROUTING = {
    "route": {"receiver": "catch-all", "group_by": ["alertname"], "routes": [
        {"matchers": ['team="payments"', 'severity="page"'], "receiver": "payments-page"},
        {"matchers": ['team="payments"', 'severity="ticket"'], "receiver": "payments-ticket"},
        {"matchers": ['team="search"'], "receiver": "search-ticket", "routes": [
            {"matchers": ['severity=~"page|critical"'], "receiver": "search-page"}]},
        {"match": {"team": "platform", "severity": "page"}, "receiver": "platform-page", "continue": False},
    ]},
    "receivers": [
        {"name": "catch-all", "slack_configs": [{"channel": "#alerts-unrouted", "api_url_file": "/s/catch-all"}]},
        {"name": "payments-page", "pagerduty_configs": [{"routing_key_file": "/s/payments-page"}]},
        {"name": "payments-ticket", "slack_configs": [{"channel": "#payments", "api_url_file": "/s/pt"}]},
        {"name": "search-page", "opsgenie_configs": [{"api_key_file": "/s/search-page"}]},
        {"name": "search-ticket", "slack_configs": [{"channel": "#search", "api_url_file": "/s/st"}]},
        {"name": "platform-page", "pagerduty_configs": [{"routing_key_file": "/s/platform-page"}]},
    ],
}


def config_secret(config: Any) -> dict[str, Any]:
    text = config if isinstance(config, str) else yaml.safe_dump(config)
    return {"metadata": {"name": "alertmanager-config"}, "stringData": {"alertmanager.yaml": text}}


def routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    return config["route"]["routes"]


PAGE_CASES = [
    ("page route to chat", broken(ROUTING, lambda c: routes(c)[0].update(receiver="payments-ticket")),
     ['stringData["alertmanager.yaml"]: route.routes[0] (team="payments", severity="page") sends pages to receiver '
      "'payments-ticket', which has no pagerduty_configs or opsgenie_configs"]),
    ("nested page route to a webhook", broken(ROUTING, lambda c: c["receivers"][3].update(
        opsgenie_configs=[], webhook_configs=[{"url": "http://sink"}])),
     ['stringData["alertmanager.yaml"]: route.routes[2].routes[0] (severity=~"page|critical") sends pages to receiver '
      "'search-page', which has no pagerduty_configs or opsgenie_configs"]),
    ("child inherits a chat receiver", broken(ROUTING, lambda c: routes(c)[0].update(
        receiver="payments-page", routes=[{"matchers": ['service="checkout"'], "receiver": "payments-ticket"}])),
     ['stringData["alertmanager.yaml"]: route.routes[0].routes[0] (service="checkout") sends pages to receiver '
      "'payments-ticket', which has no pagerduty_configs or opsgenie_configs"]),
    ("undefined receiver", broken(ROUTING, lambda c: routes(c)[3].update(receiver="platform-pager")),
     ['stringData["alertmanager.yaml"]: route.routes[3] (severity="page", team="platform") sends pages to receiver '
      "'platform-pager', which is not defined"]),
    ("matchers in one braced string", broken(ROUTING, lambda c: routes(c)[0].update(
        matchers=['{team="payments", severity="page"}'], receiver="catch-all")),
     ['stringData["alertmanager.yaml"]: route.routes[0] (team="payments", severity="page") sends pages to receiver '
      "'catch-all', which has no pagerduty_configs or opsgenie_configs"]),
    # The generator pages on severity=~"page|critical" (the mixins' word): a critical route must page too.
    ("critical route to chat", broken(ROUTING, lambda c: routes(c).insert(
        1, {"matchers": ['team="payments"', 'severity="critical"'], "receiver": "payments-ticket"})),
     ['stringData["alertmanager.yaml"]: route.routes[1] (team="payments", severity="critical") sends pages to '
      "receiver 'payments-ticket', which has no pagerduty_configs or opsgenie_configs"]),
]


def test_pages_happy_path() -> None:
    policy = slo_hygiene.pages_reach_pager
    assert check_resource(policy, SECRET, config_secret(ROUTING)) == []
    # The generator's own config for prod: pages by team and severity=~"page|critical" to PagerDuty/Opsgenie.
    prod, problems = parse_routing({
        "teams": {"payments": {"page": {"pagerduty": {"routingKey": "p"}}, "ticket": {"slack": {
            "channel": "#payments", "webhook": "t"}}}},
        "catchAll": {"slack": {"channel": "#all", "webhook": "c"}},
        "heartbeat": {"webhook": {"url": "https://heartbeat.example.com/ping"}}}, "prod", ["p", "t", "c"])
    assert problems == []
    assert check_resource(policy, SECRET, config_secret(render_config(prod))) == []
    # A page route that goes on to a later route does not end there.
    chat_first = broken(ROUTING, lambda c: routes(c).insert(0, {"matchers": ['severity="page"'], "receiver": "catch-all",
                                                                "continue": True}))
    assert check_resource(policy, SECRET, config_secret(chat_first)) == []
    # Only prod must page.
    to_chat = broken(ROUTING, lambda c: routes(c)[0].update(receiver="payments-ticket"))
    assert check_resource(policy, SECRET, config_secret(to_chat), stack="dev") == []


@pytest.mark.parametrize(("case", "config", "messages"), PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
def test_pages_broken(case: str, config: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(slo_hygiene.pages_reach_pager, SECRET, config_secret(config)) == messages


def test_pages_where_the_config_lives() -> None:
    policy = slo_hygiene.pages_reach_pager
    to_chat = broken(ROUTING, lambda c: routes(c)[0].update(receiver="payments-ticket"))
    text = yaml.safe_dump(to_chat)
    message = ("route.routes[0] (team=\"payments\", severity=\"page\") sends pages to receiver 'payments-ticket', "
               "which has no pagerduty_configs or opsgenie_configs")
    # base64 `data`, a real preview's SecretText, Helm values, and the AlertmanagerConfig CRD.
    data = {"data": {"alertmanager.yaml": base64.b64encode(text.encode()).decode()}}
    assert check_resource(policy, SECRET, data) == [f'data["alertmanager.yaml"]: {message}']
    real = {"stringData": {"alertmanager.yaml": SecretText(text)}}
    assert check_resource(policy, SECRET, real) == [f'stringData["alertmanager.yaml"]: {message}']
    values = {"chart": "kube-prometheus-stack", "values": {"alertmanager": {"config": to_chat}}}
    assert check_resource(policy, "kubernetes:helm.sh/v3:Release", values) == [f"values.alertmanager.config: {message}"]
    crd = {"spec": {"route": {"receiver": "chat", "routes": [{"receiver": "chat", "matchers": [
        {"name": "severity", "value": "page", "matchType": "="}]}]},
        "receivers": [{"name": "chat", "slackConfigs": [{"channel": "#x"}]}, {"name": "pd", "pagerdutyConfigs": [{}]}]}}
    assert check_resource(policy, "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig", crd) == [
        "spec: route.routes[0] (severity=\"page\") sends pages to receiver 'chat', which has no pagerduty_configs or "
        "opsgenie_configs"
    ]


def test_pages_unreadable_config_is_not_applicable() -> None:
    # pulumi-policy raises its private _NotApplicableError.
    with pytest.raises(Exception) as raised:
        check_resource(slo_hygiene.pages_reach_pager, SECRET, {"stringData": {"alertmanager.yaml": "[secret]"}})
    assert type(raised.value).__name__ == "_NotApplicableError"
    assert raised.value.reason == (  # type: ignore[attr-defined]
        'stringData["alertmanager.yaml"] is a secret value here: the Alertmanager config cannot be read'
    )


def test_pages_invalid_yaml() -> None:
    assert check_resource(slo_hygiene.pages_reach_pager, SECRET, config_secret("route: [unclosed")) == [
        'stringData["alertmanager.yaml"] is not valid YAML: while parsing a flow sequence'
    ]


@pytest.mark.parametrize(("text", "page"), [('severity="page"', True), ("severity=~page|critical", True),
                                            ('severity!="ticket"', True), ('severity!~"page"', False),
                                            ('severity="ticket"', False), ("severity =~ \"p.*\"", True)])
def test_matchers(text: str, page: bool) -> None:
    (matcher,) = slo_hygiene.route_matchers({"matchers": [text]})
    assert matcher.accepts("page") is page
