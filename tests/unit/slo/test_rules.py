"""The generated rules: contract names, exact thresholds, cheap long windows, alert metadata."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import promql_parser
import pytest
import yaml

from reliability.durations import Duration

from .helpers import REPO, compile_examples, compile_text, rules_of, spec_header

SPEC = """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: shop-api
team: payments
tier: 1
labels: {domain: commerce}
runbook_url: https://runbooks.example.com/shop
slos:
  - name: availability
    objective: 99.9
    labels: {category: availability}
    sli:
      ratio:
        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
  - name: search
    objective: 99.95
    period: 28d
    sli:
      ratio:
        good: 'sum(rate(grpc_server_handled_total{grpc_code="OK"}[{{window}}]))'
        total: 'sum(rate(grpc_server_handled_total[{{window}}]))'
  - name: freshness
    objective: 95
    period: 7d
    sli:
      raw:
        error_ratio: '1 - avg_over_time(probe_success{job="shop"}[{{window}}])'
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return rules_of(compile_text(tmp_path_factory.mktemp("rules"), SPEC))


def by(rules: list[dict], slo: str) -> list[dict]:
    return [r for r in rules if r["labels"]["slo"] == slo]


def records(rules: list[dict], slo: str) -> dict[str, dict]:
    return {r["record"]: r for r in by(rules, slo) if "record" in r}


def alerts(rules: list[dict], slo: str) -> list[dict]:
    return [r for r in by(rules, slo) if "alert" in r]


def test_every_rule_carries_service_slo_team_and_spec_labels(rules: list[dict]) -> None:
    records_by_name = {(r["labels"]["slo"], r["record"]): r for r in rules if "record" in r}
    for rule in rules:
        labels = dict(rule["labels"])
        assert labels["service"] == "shop-api"
        assert labels["slo"] in ("availability", "search", "freshness")
        assert labels["team"] == "payments"
        if "alert" in rule and "absent(" not in rule["expr"]:
            # Burn-rate alerts name only what the series they read do not carry: the SLO's identity,
            # team and the spec's labels (domain, the availability SLO's category) come with the
            # series; severity does not.
            assert rule["rule_labels"] == {"severity": labels["severity"]}
            assert labels["domain"] == "commerce"
            read = {records_by_name[(labels["slo"], name)]["labels"]["domain"]
                    for name in re.findall(r"(slo:sli_error:ratio_rate\w+)\{", rule["expr"])}
            assert read == {"commerce"}
            continue
        assert labels["domain"] == "commerce"
    assert all(r["labels"]["category"] == "availability" for r in by(rules, "availability") if "record" in r)


@pytest.mark.parametrize(("slo", "windows"), [
    ("availability", ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]),
    ("search", ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"]),
    ("freshness", ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "7d"]),
])
def test_error_ratio_for_every_alert_window_and_the_period(rules: list[dict], slo: str, windows: list[str]) -> None:
    names = set(records(rules, slo))
    for window in windows:
        assert f"slo:sli_error:ratio_rate{window}" in names
    for name in ("slo:error_budget_remaining:ratio", "slo:objective:ratio", "slo:error_budget:ratio",
                 "slo:period:seconds", "slo:info"):
        assert name in names


def test_objective_and_budget_are_exact_decimals(rules: list[dict]) -> None:
    recs = records(rules, "availability")
    assert recs["slo:objective:ratio"]["expr"] == "vector(0.999)"
    assert recs["slo:error_budget:ratio"]["expr"] == "vector(0.001)"
    assert recs["slo:period:seconds"]["expr"] == "vector(2592000)"
    assert recs["slo:error_budget_remaining:ratio"]["expr"] == (
        '1 - slo:sli_error:ratio_rate30d{service="shop-api",slo="availability"} / 0.001')
    search = records(rules, "search")
    assert search["slo:objective:ratio"]["expr"] == "vector(0.9995)"
    assert search["slo:error_budget:ratio"]["expr"] == "vector(0.0005)"
    info = search["slo:info"]["labels"]
    assert (info["objective"], info["period"], info["tier"]) == ("99.95", "28d", "1")


def test_no_float_noise_anywhere(tmp_path: Path) -> None:
    output = compile_text(tmp_path, SPEC)
    for name, text in output.files.items():
        assert not re.search(r"\d\.\d*(0000000\d|9999999)", text), name


def thresholds(alert: dict) -> list[str]:
    return re.findall(r"> ([0-9.]+)", alert["expr"])


def test_burn_rate_thresholds_follow_the_workbook(rules: list[dict]) -> None:
    # 30d, 99.9%: budget 0.001; page 14.4x (1h/5m) and 6x (6h/30m), ticket 3x (1d/2h) and 1x (3d/6h).
    page, ticket = (a for a in alerts(rules, "availability") if a["alert"].endswith("BudgetBurn"))
    assert page["labels"]["severity"] == "page" and ticket["labels"]["severity"] == "ticket"
    assert thresholds(page) == ["0.0144", "0.0144", "0.006", "0.006"]
    assert thresholds(ticket) == ["0.003", "0.003", "0.001", "0.001"]
    windows = re.findall(r"ratio_rate(\w+)\{", page["expr"])
    assert windows == ["1h", "5m", "6h", "30m"]
    assert re.findall(r"ratio_rate(\w+)\{", ticket["expr"]) == ["1d", "2h", "3d", "6h"]


def test_28d_shares_give_sloth_compatible_factors(rules: list[dict]) -> None:
    # 28d keeps the Workbook's budget shares: 2%/1h -> 13.44x, 5%/6h -> 5.6x, 10%/1d -> 2.8x, 10%/3d -> 0.9333x.
    page, ticket = (a for a in alerts(rules, "search") if a["alert"].endswith("BudgetBurn"))
    assert thresholds(page) == ["0.00672", "0.00672", "0.0028", "0.0028"]  # 13.44 * 0.0005, 5.6 * 0.0005
    assert thresholds(ticket) == ["0.0014", "0.0014", "0.000466666666667", "0.000466666666667"]


def test_no_rule_reads_more_than_an_hour_of_raw_samples(tmp_path: Path) -> None:
    output = compile_text(tmp_path, SPEC)
    checked = 0
    for rule in rules_of(output) + rules_of(compile_examples()):
        def visit(node: object, rule: dict = rule) -> None:
            nonlocal checked
            if isinstance(node, promql_parser.MatrixSelector):
                window = Duration(int(node.range.total_seconds() * 1000))
                name = node.vector_selector.name or ""
                if not name.startswith("slo:"):
                    checked += 1
                    assert window <= Duration.parse("1h"), rule.get("record") or rule.get("alert")
            if isinstance(node, promql_parser.SubqueryExpr) and node.range.total_seconds() > 3600:
                # A long subquery may only sample recorded series, never raw ones.
                inner: list[str] = []
                promql_parser.walk(node.expr, pre_visit=lambda n: inner.append(n.name or "") if isinstance(
                    n, promql_parser.VectorSelector) else None)
                assert inner and all(n.startswith("slo:") for n in inner), rule.get("record") or rule.get("alert")

        promql_parser.walk(promql_parser.parse(rule["expr"]), pre_visit=visit)
    assert checked > 50


def test_long_windows_average_errors_and_totals_separately(rules: list[dict]) -> None:
    recs = records(rules, "availability")
    sel = '{service="shop-api",slo="availability"}'
    # 6h: 72 tiles of 5m (30m tiles would be only 12); 1d and longer: tiles of an hour. Before
    # the first tile has passed, the tile window's own ratio.
    for window, tile in (("6h", "5m"), ("1d", "1h"), ("3d", "1h")):
        assert recs[f"slo:sli_error:ratio_rate{window}"]["expr"] == (
            f"avg_over_time(slo:sli_errors:rate{tile}{sel}[{window}:{tile}])\n/\n"
            f"clamp_min(avg_over_time(slo:sli_requests:rate{tile}{sel}[{window}:{tile}]), 1e-300)\nor\n"
            f"slo:sli_error:ratio_rate{tile}{sel}")
    # Events per second are recorded for the windows read from raw samples only (the tiles among them).
    assert {name for name in recs if name.startswith(("slo:sli_errors:", "slo:sli_requests:"))} == {
        f"slo:sli_{kind}:rate{window}" for kind in ("errors", "requests") for window in ("5m", "30m", "1h")}


def test_no_traffic_is_zero_errors_not_missing(rules: list[dict]) -> None:
    recs = records(rules, "availability")
    # Without any error series the errors count as 0 wherever requests were seen.
    assert recs["slo:sli_errors:rate5m"]["expr"] == (
        '(sum(rate(http_requests_total{job="shop",code=~"5.."}[5m])))\nor on()\n'
        'slo:sli_requests:rate5m{service="shop-api",slo="availability"} * 0')
    # good/total: a full outage (no good series at all) must not read as zero errors.
    good = records(rules, "search")["slo:sli_errors:rate5m"]["expr"]
    requests = 'slo:sli_requests:rate5m{service="shop-api",slo="search"}'
    assert f"or ignoring(domain, service, slo, team) {requests} * 0" in good.replace("\n", " ")
    assert good.startswith(f"clamp_min(\n  {requests}\n  - ignoring(domain, service, slo, team)\n")


def test_raw_sli_drops_nan_and_averages(rules: list[dict]) -> None:
    recs = records(rules, "freshness")
    assert recs["slo:sli_error:ratio_rate5m"]["expr"] == '(1 - avg_over_time(probe_success{job="shop"}[5m])) >= 0'
    assert recs["slo:sli_error:ratio_rate7d"]["expr"] == (
        'avg_over_time(slo:sli_error:ratio_rate5m{service="shop-api",slo="freshness"}[7d])')


def test_alert_metadata(rules: list[dict]) -> None:
    burn = [a for a in alerts(rules, "availability") if a["alert"] == "ShopApiAvailabilityBudgetBurn"]
    assert {a["labels"]["severity"] for a in burn} == {"page", "ticket"}
    for alert in burn:
        assert alert["labels"]["team"] == "payments"
        assert set(alert["annotations"]) == {"summary", "description", "runbook_url"}
        assert alert["annotations"]["runbook_url"] == "https://runbooks.example.com/shop"
    page = next(a for a in burn if a["labels"]["severity"] == "page")
    assert page["annotations"]["description"] == (
        "The availability SLO of shop-api (99.9% over 30d) is burning its error budget at 14.4x over 1h and 5m "
        "or 6x over 6h and 30m. At 14.4x the whole 30d budget is spent in 2d 2h.")
    nodata = next(a for a in alerts(rules, "availability") if a["alert"] == "ShopApiAvailabilitySLIAbsent")
    assert nodata["expr"] == 'absent(slo:sli_requests:rate5m{service="shop-api",slo="availability"})'
    assert nodata["for"] == "10m" and nodata["labels"]["severity"] == "ticket"


def test_alerting_overrides_and_disabled_alerts(tmp_path: Path) -> None:
    spec = SPEC.replace("    labels: {category: availability}\n", """\
    labels: {category: availability}
    alerting:
      name: ShopDown
      labels: {escalation: fast}
      annotations: {dashboard: https://grafana.example.com/d/shop}
      page: {labels: {pager: primary}}
      ticket: {enabled: false}
      no_data: {enabled: false}
""")
    rules = rules_of(compile_text(tmp_path, spec))
    found = alerts(rules, "availability")
    assert [(a["alert"], a["labels"]["severity"]) for a in found] == [("ShopDown", "page")]
    assert found[0]["labels"]["escalation"] == "fast" and found[0]["labels"]["pager"] == "primary"
    assert found[0]["annotations"]["dashboard"] == "https://grafana.example.com/d/shop"


def test_environment_overrides(tmp_path: Path) -> None:
    spec = SPEC.replace("    labels: {category: availability}\n", """\
    labels: {category: availability}
    environments:
      dev: {objective: 99, alerting: {page: {enabled: false}}}
      staging: {disabled: true}
""")
    dev = rules_of(compile_text(tmp_path, spec, env="dev"))
    assert records(dev, "availability")["slo:objective:ratio"]["expr"] == "vector(0.99)"
    assert [a["labels"]["severity"] for a in alerts(dev, "availability")] == ["ticket", "ticket"]
    staging = rules_of(compile_text(tmp_path, spec, env="staging"))
    assert by(staging, "availability") == []
    prod = rules_of(compile_text(tmp_path, spec, env="prod"))
    assert records(prod, "availability")["slo:objective:ratio"]["expr"] == "vector(0.999)"


def test_latency_threshold_is_normalised(tmp_path: Path) -> None:
    base = spec_header("api") + """\
  - name: latency
    objective: 99
    sli:
      latency: {histogram: 'http_request_duration_seconds_bucket{job="api", le="9"}', threshold: THRESHOLD}
"""
    exprs = {}
    for threshold in ("300ms", "0.3s", "0.30s", "300.0ms"):
        recs = records(rules_of(compile_text(tmp_path, base.replace("THRESHOLD", threshold))), "latency")
        exprs[threshold] = recs["slo:sli_errors:rate5m"]["expr"]
    assert len(set(exprs.values())) == 1
    assert 'http_request_duration_seconds_bucket{job="api",le="0.3"}[5m]' in exprs["300ms"]
    assert 'http_request_duration_seconds_count{job="api"}[5m]' in recs["slo:sli_requests:rate5m"]["expr"]
    # A whole second is stored as le="1" by Prometheus 2 with Go clients and as le="1.0" by Prometheus 3.
    one = records(rules_of(compile_text(tmp_path, base.replace("THRESHOLD", "1s"))), "latency")
    assert 'le=~"1|1\\\\.0"' in one["slo:sli_errors:rate5m"]["expr"]


def test_one_document_per_rule_file_and_sorted_groups(tmp_path: Path) -> None:
    output = compile_text(tmp_path, SPEC)
    text = output.files["rules/shop-api.yaml"]
    assert len(list(yaml.safe_load_all(text))) == 1
    names = [g["name"] for g in yaml.safe_load(text)["groups"]]
    assert names == ["slo:shop-api:availability:sli", "slo:shop-api:availability:budget",
                     "slo:shop-api:freshness:sli", "slo:shop-api:freshness:budget",
                     "slo:shop-api:search:sli", "slo:shop-api:search:budget"]


def test_byte_identical_across_runs(tmp_path: Path) -> None:
    """Two compiles in separate processes with different string hash seeds: iterating a set or
    a dict keyed by hash order anywhere in the compiler would show up as a difference."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "compile", str(spec), "--out", str(out)],
                              capture_output=True, text=True, env=env, cwd=REPO, check=False)
        assert proc.returncode == 0, proc.stderr
        outputs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) >= 4  # rules, PrometheusRule, tests, dashboards
