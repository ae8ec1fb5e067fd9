"""The generated dashboards: contract series only, stable uids, links that work, Grafana's datasources."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import promql_parser
import pytest

from components.grafana import datasources
from reliability.slo import naming
from reliability.slo.compile import Output, compile_paths
from reliability.slo.generators import dashboards
from reliability.slo.grafana import UID_MAX_LENGTH, check_uid, targets_of
from reliability.slo.promql import selectors

from ...conftest import REFERENCE, reference
from .helpers import REPO, compile_examples, compile_text, rules_of
from .test_promtool import run_scenario

SPEC = """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: shop-api
team: payments
description: The shop.
runbook_url: https://runbooks.example.com/shop
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
  - name: freshness
    objective: 95
    period: 7d
    sli:
      raw:
        error_ratio: '1 - avg_over_time(probe_success{job="shop"}[{{window}}])'
"""
CONTRACT = {
    "ALERTS",  # Prometheus's series of the compiler's own alerts (labels service, slo, team, severity)
    naming.BUDGET_REMAINING, naming.OBJECTIVE, naming.ERROR_BUDGET, naming.PERIOD_SECONDS, naming.INFO,
}
CONTRACT_PATTERNS = [re.compile(re.escape(t).replace(r"\{window\}", "[0-9smhd]+") + "$")
                     for t in (naming.ERROR_RATIO, naming.ERRORS_RATE, naming.REQUESTS_RATE)]
SLOTH_FILES = sorted(p.name for p in (REFERENCE / "sloth" / "examples").glob("*.y*ml")) or ["(missing)"]


def metric_names(expr: str) -> set[str]:
    concrete = expr.replace("$team", "payments")
    return {s.name for s in selectors(concrete)}


def assert_contract_only(output: Output) -> None:
    for dash in output.dashboards:
        exprs = [t["expr"] for _, t in targets_of(dash.model)]
        exprs += [a["expr"] for a in dash.model["annotations"]["list"]]
        exprs += [v["query"]["query"].removeprefix("label_values(").split(",")[0] for v in
                  dash.model["templating"]["list"] if v["type"] == "query"]
        for expr in exprs:
            for name in metric_names(expr):
                assert name in CONTRACT or any(p.match(name) for p in CONTRACT_PATTERNS), (dash.uid, name, expr)


@pytest.fixture(scope="module")
def examples() -> Output:
    return compile_examples()


def dash(output: Output, uid: str) -> dict:
    return next(d.model for d in output.dashboards if d.uid == uid)


def panels(model: dict, title: str) -> list[dict]:
    return [p for p in model["panels"] if p["title"] == title]


def test_one_dashboard_per_service_and_an_overview(examples: Output) -> None:
    assert [(d.uid, d.folder, d.title) for d in examples.dashboards] == [
        ("slo-checkout-api", "payments", "checkout-api SLOs"),
        ("slo-feature-flags", "platform", "feature-flags SLOs"),
        ("slo-order-worker", "fulfilment", "order-worker SLOs"),
        ("slo-search-api", "search", "search-api SLOs"),
        ("slos-overview", "SLOs", "SLO overview"),
    ]
    for generated in examples.dashboards:
        assert examples.files[f"dashboards/{generated.file}"] == json.dumps(
            generated.model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_queries_read_only_contract_series(examples: Output, tmp_path: Path) -> None:
    assert_contract_only(examples)
    assert_contract_only(compile_text(tmp_path, SPEC))  # raw SLIs too


@pytest.mark.parametrize("name", SLOTH_FILES)
def test_sloth_imports_get_the_same_dashboards(name: str) -> None:
    result, output = compile_paths([str(reference("sloth", "examples", name))])
    assert output is not None, "\n".join(map(str, result.problems.errors))
    assert len(output.dashboards) == len(output.services) + 1
    assert_contract_only(output)


def test_every_query_parses_and_selects_its_slo(examples: Output) -> None:
    model = dash(examples, "slo-checkout-api")
    for panel, target in targets_of(model):
        promql_parser.parse(target["expr"])
        for selector in selectors(target["expr"]):
            matchers = {m.name: m.value for m in selector.matchers.matchers}
            assert matchers["service"] == "checkout-api", (panel["title"], target["expr"])
            assert matchers.get("slo") in ("availability", "latency") or selector.name == "ALERTS"


# An ALERTS selector, and whether the compiler's join with its SLOs' info series follows it.
_ALERTS = re.compile(r"ALERTS\{[^}]*\}( and on\(service, slo\) slo:info\{[^}]*\}\))?")


def test_alert_queries_ignore_alerts_the_compiler_did_not_generate(examples: Output, tmp_path: Path) -> None:
    # Every compiled alert fires with its SLO's service and slo labels...
    alert_rules = [rule for rule in rules_of(examples) if "alert" in rule]
    assert alert_rules
    for rule in alert_rules:
        assert rule["labels"].get("slo") and rule["labels"].get("service"), rule["alert"]
    # ...and every ALERTS selector keeps only the alerts of an SLO the compiler records.
    for output in (examples, compile_text(tmp_path, SPEC)):
        for generated in output.dashboards:
            model = generated.model
            exprs = [t["expr"] for _, t in targets_of(model)] + [a["expr"] for a in model["annotations"]["list"]]
            found = [m for e in exprs for m in _ALERTS.finditer(e)]
            assert found, generated.uid
            for match in found:
                assert match.group(1), (generated.uid, match.group(0))


def test_overview_counts_and_shows_only_the_compilers_alerts(examples: Output, tmp_path: Path) -> None:
    # Beside an SLO page of ours: Pyrra's page for an SLO of the same team (it sets an `slo` label
    # too) and a team's KubePodCrashLooping. Evaluated by Prometheus's own engine (promtool).
    ours = 'service="checkout-api",slo="availability",team="payments"'
    series = [
        {"series": f'ALERTS{{alertname="CheckoutApiAvailabilityBudgetBurn",alertstate="firing",severity="page",{ours}}}',
         "values": "1x5"},
        {"series": 'ALERTS{alertname="ErrorBudgetBurn",alertstate="firing",severity="page",slo="checkout-errors",'
                   'team="payments"}', "values": "1x5"},
        {"series": 'ALERTS{alertname="KubePodCrashLooping",alertstate="firing",severity="page",'
                   'service="checkout-api",team="payments"}', "values": "1x5"},
        {"series": f"slo:info{{{ours}}}", "values": "1x5"},
        {"series": f"slo:objective:ratio{{{ours}}}", "values": "0.999x5"},
    ]
    [overview] = [d for d in examples.dashboards if d.uid == "slos-overview"]
    by_title = {panel.get("title"): target["expr"].replace("$team", ".*") for panel, target in targets_of(overview.model)}
    status = next(expr for expr in by_title.values() if expr.startswith("max by (team, service, slo)"))
    exprs = [
        {"expr": by_title["Paging"], "eval_time": "2m", "exp_samples": [{"labels": "{}", "value": 1}]},
        {"expr": status, "eval_time": "2m", "exp_samples": [{"labels": f"{{{ours}}}", "value": dashboards.PAGE}]},
    ]
    result = run_scenario(tmp_path, "groups: []\n", series, exprs)
    assert result.returncode == 0, result.stdout + result.stderr


def test_datasource_uids_exist_in_grafana() -> None:
    provisioned = {(d["type"], d["uid"]) for d in datasources("thanos", "loki", "tempo")["datasources"]}
    for source in (dashboards.PROVISIONED_PROMETHEUS, dashboards.LOKI, dashboards.TEMPO):
        assert (source.type, source.uid) in provisioned
    for generated in compile_examples().dashboards:
        model = generated.model
        # Prometheus queries go through the datasource variable, whose default Grafana has.
        [picker] = [v for v in model["templating"]["list"] if v["type"] == "datasource"]
        assert (picker["name"], picker["query"]) == ("datasource", "prometheus")
        assert ("prometheus", picker["current"]["value"]) in provisioned
        resolved = {"${datasource}": picker["current"]["value"]}
        refs = [p["datasource"] for p in model["panels"] if "datasource" in p]
        refs += [t["datasource"] for _, t in targets_of(model)]
        refs += [a["datasource"] for a in model["annotations"]["list"]]
        refs += [v["datasource"] for v in model["templating"]["list"] if "datasource" in v]
        assert {r["uid"] for r in refs if r["type"] == "prometheus"} == {"${datasource}"}, generated.uid
        for ref in refs:
            assert (ref["type"], resolved.get(ref["uid"], ref["uid"])) in provisioned, (generated.uid, ref)
        for link in model["links"]:
            if link["url"].startswith("/explore"):
                pane = explore_pane(link["url"])
                assert (pane["queries"][0]["datasource"]["type"], pane["datasource"]) in provisioned


# ------------------------------------------------------------------ uids


@pytest.mark.parametrize(("service", "uid"), [
    ("checkout-api", "slo-checkout-api"),
    ("a-b", "slo-a-b"),
    # Not a valid uid as it stands: a slug plus 8 hex digits of the exact name's SHA-256.
    ("a.b", "slo-a-b-2e7336dc"),
    ("Checkout_API", "slo-checkout-api-3176ea4a"),
    ("x" * 63, "slo-" + "x" * 27 + "-75220b47"),
])
def test_uids_come_from_the_service_name(service: str, uid: str) -> None:
    got = dashboards.dashboard_uid(service)
    assert got == uid
    assert check_uid(got) == got and len(got) <= UID_MAX_LENGTH


def test_similar_names_get_different_uids() -> None:
    names = ["a.b", "a-b", "a_b", "A-B", "x" * 60 + "1", "x" * 60 + "2", "overview", "s-overview"]
    uids = [dashboards.dashboard_uid(n) for n in names]
    assert len(set(uids)) == len(uids)
    assert dashboards.OVERVIEW_UID not in uids


def test_retitling_or_moving_a_service_keeps_its_dashboard(tmp_path: Path) -> None:
    before = compile_text(tmp_path, SPEC, "a.yaml").dashboards[0]
    changed = SPEC.replace("team: payments", "team: checkout").replace("The shop.", "The web shop.") \
        .replace("name: availability", "name: success")
    after = compile_text(tmp_path, changed, "b.yaml").dashboards[0]
    assert (before.uid, after.uid) == ("slo-shop-api", "slo-shop-api")
    assert (before.folder, after.folder) == ("payments", "checkout")
    assert before.model["description"] != after.model["description"]


# ------------------------------------------------------------------ content


def explore_pane(url: str) -> dict:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return json.loads(query["panes"][0])["a"]


def test_logs_and_traces_links_open_explore_with_the_spec_selectors(examples: Output) -> None:
    links = {link["title"]: link["url"] for link in dash(examples, "slo-checkout-api")["links"]}
    logs, traces = explore_pane(links["Logs"]), explore_pane(links["Traces"])
    assert logs["queries"][0]["expr"] == '{k8s_namespace_name="shop", k8s_container_name="checkout-api"}'
    assert logs["datasource"] == "loki"
    assert traces["queries"][0]["query"] == '{resource.service.name="checkout-api"}'
    assert traces["datasource"] == "tempo"
    assert logs["range"] == {"from": "${__from}", "to": "${__to}"}  # Grafana fills in the dashboard's range
    assert "${__from}" in links["Logs"]
    assert links["Runbook: availability"] == "https://runbooks.example.com/checkout-api"
    assert links["Runbook: latency"] == "https://runbooks.example.com/checkout-api#latency"
    assert links["SLO overview"] == "/d/slos-overview"


def test_no_links_where_the_spec_names_none(examples: Output, tmp_path: Path) -> None:
    flags = [link["title"] for link in dash(examples, "slo-feature-flags")["links"]]
    assert flags == ["SLO overview", "platform SLOs", "Runbook", "Logs"]  # the spec has no traces link
    bare = compile_text(tmp_path, SPEC).dashboards[0].model
    assert [link["title"] for link in bare["links"]] == ["SLO overview", "payments SLOs", "Runbook"]
    state = panels(bare, "Alert state")[0]
    assert [link["title"] for link in state["links"]] == ["Runbook"]


def test_each_slo_shows_sli_budget_burn_rates_and_alert_state(examples: Output) -> None:
    model = dash(examples, "slo-checkout-api")
    rows = [p["title"] for p in model["panels"] if p["type"] == "row"]
    assert rows == ["availability: 99.9% over 30d", "latency: 99.5% over 30d, latency threshold 300ms"]
    sli = panels(model, "SLI over 30d")[0]
    assert sli["targets"][0]["expr"] == '1 - slo:sli_error:ratio_rate30d{service="checkout-api",slo="availability"}'
    assert sli["fieldConfig"]["defaults"]["thresholds"]["steps"][1] == {"color": "green", "value": 0.999}
    page = panels(model, "Burn rate: page windows")[0]
    assert [t["legendFormat"] for t in page["targets"]] == ["5m", "30m", "1h", "6h"]
    assert page["targets"][2]["expr"] == (
        'slo:sli_error:ratio_rate1h{service="checkout-api",slo="availability"}'
        ' / slo:error_budget:ratio{service="checkout-api",slo="availability"}')
    # The Workbook's 30d burn rates as dashed reference lines.
    assert [s["value"] for s in page["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None, 6, 14.4]
    assert page["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    ticket = panels(model, "Burn rate: ticket windows")[0]
    assert [s["value"] for s in ticket["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None, 1, 3]
    state = panels(model, "Alert state")[0]
    assert ('(ALERTS{alertstate="firing",service="checkout-api",slo="availability",severity="page"} and on(service, '
            'slo) slo:info{service="checkout-api",slo="availability"}) * 2') in state["targets"][0]["expr"]
    assert [link["title"] for link in state["links"]] == ["Runbook", "Logs", "Traces"]


def test_a_disabled_alert_says_so(examples: Output) -> None:
    output = compile_examples(env="dev")  # checkout-api pages are off in dev
    page = panels(dash(output, "slo-checkout-api"), "Burn rate: page windows")[0]
    assert "The page alert is disabled for this SLO in this environment." in page["description"]
    prod = panels(dash(examples, "slo-checkout-api"), "Burn rate: page windows")[0]
    assert "The page alert fires when 1h and 5m both burn faster than 14.4x (error ratio > 0.0144)" \
        in prod["description"]


def test_raw_slis_have_no_event_rates(tmp_path: Path) -> None:
    model = compile_text(tmp_path, SPEC).dashboards[0].model
    assert len(panels(model, "Events per second (5m)")) == 1  # availability only


def test_overview_is_a_sortable_table_grouped_by_team(examples: Output) -> None:
    model = dash(examples, "slos-overview")
    datasource, variable = model["templating"]["list"]
    assert datasource["name"] == "datasource"
    assert (variable["name"], variable["definition"], variable["includeAll"]) == \
        ("team", "label_values(slo:info, team)", True)
    [table] = [p for p in model["panels"] if p["type"] == "table"]
    assert table["options"]["sortBy"] == [{"desc": False, "displayName": "Budget remaining"}]
    organize = table["transformations"][1]["options"]
    assert organize["renameByName"]["team"] == "Team" and organize["indexByName"]["team"] == 0
    assert all('team=~"$team"' in t["expr"] for t in table["targets"])
    [team_row] = [p for p in model["panels"] if p.get("repeat")]
    assert (team_row["type"], team_row["repeat"], team_row["title"]) == ("row", "team", "Team $team")
    ids = [p["id"] for p in model["panels"]]
    assert ids == list(range(1, len(ids) + 1))


def test_overview_links_services_whose_uid_is_not_the_plain_name(tmp_path: Path) -> None:
    spec = SPEC.replace("service: shop-api", "service: shop.api")
    output = compile_text(tmp_path, spec)
    [table] = [p for p in output.dashboards[-1].model["panels"] if p["type"] == "table"]
    uid = dashboards.dashboard_uid("shop.api")
    assert uid != "slo-shop.api"
    assert f'"dashboard", "{uid}", "service", "shop\\\\.api"' in table["targets"][0]["expr"]


def test_units_and_the_sli_axis_a_responder_can_read(examples: Output) -> None:
    model = dash(examples, "slo-checkout-api")
    # Events are requests per second, not a bare "short" number.
    assert [p["fieldConfig"]["defaults"]["unit"] for p in panels(model, "Events per second (5m)")] == ["reqps"] * 2
    # The SLI axis spans ten budgets below 100%: availability 99.9% -> 99%..100%, latency 99.5% -> 95%..100%,
    # so the objective line stays a tenth of the way down through a dip instead of merging into 100%.
    axes = [(p["fieldConfig"]["defaults"]["min"], p["fieldConfig"]["defaults"]["max"],
             p["fieldConfig"]["defaults"]["decimals"]) for p in panels(model, "SLI and objective")]
    assert axes == [(0.99, 1, 2), (0.95, 1, 2)]
    # Every Prometheus panel reads the datasource picker.
    assert {p["datasource"]["uid"] for p in model["panels"] if p.get("datasource", {}).get("type") == "prometheus"} \
        == {"${datasource}"}


def test_a_99_99_objective_gets_enough_decimals_to_tell_it_from_100(tmp_path: Path) -> None:
    spec = (REPO / "slo-specs" / "feature-flags.yaml").read_text()
    assert "objective: 99.5" in spec
    output = compile_text(tmp_path, spec.replace("objective: 99.5", "objective: 99.99", 1))
    model = dash(output, "slo-feature-flags")
    [sli] = [p for p in model["panels"] if p["title"].startswith("SLI over ")]
    assert sli["fieldConfig"]["defaults"]["decimals"] == 3  # 99.990%, not 100.0%
    [chart] = panels(model, "SLI and objective")
    assert (chart["fieldConfig"]["defaults"]["min"], chart["fieldConfig"]["defaults"]["decimals"]) == (0.999, 3)
