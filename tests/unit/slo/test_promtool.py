"""The generated rules and tests under the real promtool: they pass, and they fail when the rules are wrong.

Also two hand-written scenarios with expectations worked out by hand:
uneven traffic (a busy bad hour outweighs quiet good hours) and no traffic
(zero, not NaN, and the period window keeps its value).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from reliability.slo.compile import write_output
from reliability.slo.promtool import run_checks
from reliability.yamlio import dump

from ...conftest import tool
from .helpers import compile_examples, compile_text, spec_header

SPEC = spec_header("shop") + """\
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
"""
LABELS = '{service="shop",slo="availability",team="payments"}'
SEL = '{service="shop",slo="availability"}'


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], capture_output=True, text=True, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("examples") / "out"
    write_output(compile_examples().files, str(out))
    return out


def test_generated_rules_check_and_tests_pass(examples: Path) -> None:
    tool("promtool")
    ok, report = run_checks(str(examples))  # promtool check rules + promtool test rules, as `sre slo test`
    assert ok, report
    assert "promtool check rules: 4 file(s) ok" in report and "promtool test rules: 4 file(s) ok" in report
    assert "no scenario tests" not in report  # every example SLO is exercised


def test_every_example_slo_has_the_four_scenarios(examples: Path) -> None:
    names = [t["name"] for f in (examples / "tests").glob("*.yaml") for t in yaml.safe_load(f.read_text())["tests"]]
    for slo in ("checkout-api/availability", "checkout-api/latency", "order-worker/processing",
                "order-worker/freshness", "search-api/availability", "search-api/latency",
                "feature-flags/availability"):
        mine = [n for n in names if n.startswith(slo + ":")]
        assert any(": a full outage pages " in n for n in mine), slo
        assert any("just under the objective, never page nor ticket" in n for n in mine), slo
        assert any("burn tickets but does not page" in n for n in mine), slo
        assert any("after recovery the page resolves in" in n for n in mine), slo
        assert any("no traffic is an error ratio of 0" in n for n in mine), slo
    # A 99.9% SLO pages within 2 minutes of a full outage (14.4x over 1h needs 52s of 100% errors).
    for slo in ("checkout-api/availability", "search-api/availability", "order-worker/processing"):
        assert any(n.startswith(f"{slo}: a full outage pages within 2m;") for n in names), slo


def mutate(examples: Path, tmp_path: Path, old: str, new: str, scenario: str) -> str:
    """Run checkout-api's generated `scenario` test on the rules as compiled (it passes), then on the
    rules with one change (it must fail); return promtool's report of the failure."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    rules = (examples / "rules" / "checkout-api.yaml").read_text()
    assert old in rules
    tests = yaml.safe_load((examples / "tests" / "checkout-api.yaml").read_text())
    tests["tests"] = [t for t in tests["tests"] if t["name"].startswith(scenario)]
    assert len(tests["tests"]) == 1
    (tmp_path / "tests" / "checkout-api.yaml").write_text(dump(tests))
    (tmp_path / "rules" / "checkout-api.yaml").write_text(rules)
    assert promtool("test", "rules", "checkout-api.yaml", cwd=tmp_path / "tests").returncode == 0
    (tmp_path / "rules" / "checkout-api.yaml").write_text(rules.replace(old, new))
    result = promtool("test", "rules", "checkout-api.yaml", cwd=tmp_path / "tests")
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_generated_tests_catch_a_wrong_threshold(examples: Path, tmp_path: Path) -> None:
    output = mutate(examples, tmp_path, "> 0.0144", "> 0.144", "checkout-api/availability: a full outage")
    assert "alertname: CheckoutApiAvailabilityBudgetBurn" in output and "severity=\"page\"" in output


def test_generated_tests_catch_a_nan_on_no_traffic(examples: Path, tmp_path: Path) -> None:
    output = mutate(examples, tmp_path,
                    'clamp_min(slo:sli_requests:rate5m{service="checkout-api",slo="availability"}, 1e-300)',
                    'slo:sli_requests:rate5m{service="checkout-api",slo="availability"}',
                    "checkout-api/availability: no traffic")
    assert 'slo:sli_error:ratio_rate5m", domain="commerce", service="checkout-api", slo="availability", ' \
           'team="payments"} NaN' in output


def run_scenario(tmp_path: Path, rules_text: str, series: list[dict], exprs: list[dict]) -> subprocess.CompletedProcess:
    (tmp_path / "rules.yaml").write_text(rules_text)
    (tmp_path / "test.yaml").write_text(dump({
        "rule_files": ["rules.yaml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": exprs}],
    }))
    return promtool("test", "rules", "test.yaml", cwd=tmp_path)


def between(expr: str, low: float, high: float, at: str) -> dict:
    return {"expr": f"({expr} > bool {low}) * ({expr} < bool {high})", "eval_time": at,
            "exp_samples": [{"labels": LABELS, "value": 1}]}


UNEVEN = [
    # 5 quiet hours: 6 requests a minute, no errors; then 1 busy hour: 600 a minute, 60 of them failing.
    {"series": 'http_requests_total{job="shop",code="200"}', "values": "0+6x300 2340+540x59"},
    {"series": 'http_requests_total{job="shop",code="500"}', "values": "0+0x300 60+60x59"},
]


def test_uneven_traffic_weighs_requests_not_ratios(tmp_path: Path) -> None:
    # By hand: 3600 errors of 1800 + 36000 requests = 9.5%. Averaging 5m ratios would give about
    # 12 busy samples of 10% in 72 = 1.7%, and would miss the ticket threshold (0.3% at 3x) by far less.
    rules = compile_text(tmp_path, SPEC).files["rules/shop.yaml"]
    result = run_scenario(tmp_path, rules, UNEVEN, [between(f"slo:sli_error:ratio_rate6h{SEL}", 0.09, 0.10, "6h")])
    assert result.returncode == 0, result.stdout + result.stderr
    # The same check fails for an average of ratios, so it does tell the two apart.
    averaged = re.sub(r"record: slo:sli_error:ratio_rate6h\n(\s+)expr: \|-\n(?:\1  .*\n)+",
                      lambda m: f"record: slo:sli_error:ratio_rate6h\n{m.group(1)}expr: "
                                f"avg_over_time(slo:sli_error:ratio_rate5m{SEL}[6h])\n", rules)
    assert averaged != rules
    wrong = run_scenario(tmp_path, averaged, UNEVEN, [between(f"slo:sli_error:ratio_rate6h{SEL}", 0.09, 0.10, "6h")])
    assert wrong.returncode != 0


def test_no_traffic_keeps_every_window_defined(tmp_path: Path) -> None:
    # One hour at 60 requests a minute with 10% errors, then two hours without any request.
    series = [
        {"series": 'http_requests_total{job="shop",code="200"}', "values": "0+54x60 3240+0x120"},
        {"series": 'http_requests_total{job="shop",code="500"}', "values": "0+6x60 360+0x120"},
    ]
    exact = [{"expr": f"slo:sli_error:ratio_rate5m{SEL}", "eval_time": "3h",
              "exp_samples": [{"labels": f"slo:sli_error:ratio_rate5m{LABELS}", "value": 0}]}]
    exprs = [
        *exact,
        between(f"slo:sli_error:ratio_rate30d{SEL}", 0.099, 0.101, "3h"),  # still the hour's 10%, not NaN
        between(f"slo:sli_error:ratio_rate6h{SEL}", 0.099, 0.101, "3h"),
        between(f"slo:error_budget_remaining:ratio{SEL}", -99.1, -98.9, "3h"),  # 1 - 0.1 / 0.001
    ]
    result = run_scenario(tmp_path, compile_text(tmp_path, SPEC).files["rules/shop.yaml"], series, exprs)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_time_scaled_catalog_gets_tests_on_its_own_clock(tmp_path: Path) -> None:
    """Sub-minute windows, and a period that is also an alert window (1h here)."""
    from reliability.slo.compile import compile_paths

    data = Path(__file__).parent / "data"
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC.replace("    objective: 99.9\n", "    objective: 99.9\n    period: 1h\n"))
    result, output = compile_paths([str(spec)], windows=[str(data / "windows-1h-scaled.yaml")])
    assert output is not None, "\n".join(map(str, result.problems.errors))
    tests = yaml.safe_load(output.files["tests/shop.yaml"])
    assert tests["evaluation_interval"] == "10s"
    assert {t["interval"] for t in tests["tests"]} == {"10s"}
    rules = yaml.safe_load(output.files["rules/shop.yaml"])
    recorded = [r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r]
    assert recorded.count("slo:sli_error:ratio_rate1h") == 1  # the period window, read by the 1x ticket too
    write_output(output.files, str(tmp_path / "out"))
    tool("promtool")
    ok, report = run_checks(str(tmp_path / "out"))
    assert ok, report


def test_slo_test_names_the_slos_it_has_no_scenario_tests_for(tmp_path: Path) -> None:
    tool("promtool")
    # A templated annotation cannot be predicted, so compile writes no tests for that SLO (and warns).
    spec = SPEC + """\
  - name: latency
    objective: 99
    sli: {latency: {histogram: 'http_request_duration_seconds{job="shop"}', threshold: 300ms}}
    alerting: {annotations: {summary: 'burning at {{ $value }}'}}
"""
    write_output(compile_text(tmp_path, spec).files, str(tmp_path / "out"))
    ok, report = run_checks(str(tmp_path / "out"))
    assert ok, report
    assert report.splitlines()[-3:] == [
        "promtool check rules: 1 file(s) ok",
        "promtool test rules: 1 file(s) ok",
        "warning: no scenario tests for 1 SLO(s): shop/latency (`sre slo compile` printed why for each)",
    ]
@pytest.mark.parametrize("waits", ["for: 7m", "for: 0s"])
def test_generated_tests_catch_a_shorter_no_data_wait(examples: Path, tmp_path: Path, waits: str) -> None:
    # The series vanish at 30m, their 5m rate at 35m: the alert must not fire before 45m.
    absent = 'expr: absent(slo:sli_requests:rate5m{service="checkout-api",slo="availability"})\n        '
    output = mutate(examples, tmp_path, absent + "for: 10m", absent + waits, "checkout-api/availability: vanished")
    assert "alertname: CheckoutApiAvailabilitySLIAbsent, time: 43m" in output


def test_a_new_slo_has_long_windows_before_their_first_tile(tmp_path: Path) -> None:
    # 20 minutes of history: no hourly tile has passed yet, the 1d, 3d and 30d windows read the 1h one.
    series = [
        {"series": 'http_requests_total{job="shop",code="200"}', "values": "0+54x20"},
        {"series": 'http_requests_total{job="shop",code="500"}', "values": "0+6x20"},
    ]
    exprs = [between(f"slo:sli_error:ratio_rate{w}{SEL}", 0.099, 0.101, "20m") for w in ("1d", "3d", "30d")]
    exprs.append(between(f"slo:error_budget_remaining:ratio{SEL}", -99.1, -98.9, "20m"))  # 1 - 0.1 / 0.001
    result = run_scenario(tmp_path, compile_text(tmp_path, SPEC).files["rules/shop.yaml"], series, exprs)
    assert result.returncode == 0, result.stdout + result.stderr


GOOD_SPEC = SPEC.replace(
    """        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'""",
    """        good: 'sum by (region) (rate(http_requests_total{job="shop",code="200"}[{{window}}]))'
        total: 'sum by (region) (rate(http_requests_total{job="shop"}[{{window}}]))'""")


def test_good_over_total_subtracts_good_from_the_recorded_requests(tmp_path: Path) -> None:
    # Per region (the queries keep `region`, the recorded series add the SLO's labels): in eu 60
    # requests a minute with 6 failing; us fails completely, so it has no good series at all.
    rules = compile_text(tmp_path, GOOD_SPEC).files["rules/shop.yaml"]
    assert rules.count('http_requests_total{job="shop"}[5m]') == 1  # the raw total is read once per window
    series = [
        {"series": 'http_requests_total{job="shop",code="200",region="eu"}', "values": "0+54x30"},
        {"series": 'http_requests_total{job="shop",code="500",region="eu"}', "values": "0+6x30"},
        {"series": 'http_requests_total{job="shop",code="500",region="us"}', "values": "0+60x30"},
    ]
    # Error ratio in thousandths: eu 6 of 60 per minute (0.1, up to float rounding); us all of them, with no
    # good series at all.
    exprs = [{"expr": f"round({name}{SEL} * 1000)", "eval_time": "20m",
              "exp_samples": [{"labels": LABELS[:-1] + f',region="{region}"}}', "value": value}
                              for region, value in (("eu", 100), ("us", 1000))]}
             for name in ("slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate30m")]
    result = run_scenario(tmp_path, rules, series, exprs)
    assert result.returncode == 0, result.stdout + result.stderr
