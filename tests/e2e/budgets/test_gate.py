"""`sre budget status` and `sre budget gate` against a real Prometheus holding the recorded series.

The series the compiled rules record (`slo:error_budget_remaining:ratio`, the 5m error and
request rates) are planted for the last three hours, so each service is in a known state:
healthy, frozen (budget spent; security fixes exempt), low (20% left under a 25% freeze)
and new (no series at all).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.cli import main

from ...alertmanager_proc import free_port
from ...prom import Prometheus
from ...unit.slo.helpers import spec_header
from .conftest import start_over

pytestmark = pytest.mark.e2e

SPEC = """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: {service}
team: payments
runbook_url: https://runbooks.example.com/{service}
{policy}
slos:
  - name: availability
    objective: 99.9
    sli: {{ratio: {{errors: 'http_requests_total{{code="500"}}', total: 'http_requests_total'}}}}
"""
POLICIES = {
    "healthy-api": "",
    "frozen-api": "error_budget_policy: {exempt: [security]}",
    "low-api": "error_budget_policy: {freeze_below: 0.25}",
    "new-api": "",
}
# service -> (remaining budget, errors/s, requests/s, 5m error ratio). The ratio SLIs' burn weighs
# requests, so their recorded 5m ratio (0.5 here, as if an idle minute failed) must not be read.
STATE = {"healthy-api": (0.8, 0.01, 10.0, 0.5), "frozen-api": (-0.2, 0.2, 10.0, 0.5), "low-api": (0.2, 0.0, 5.0, 0.5),
         "probe-api": (0.9, 0, 0, 0.002)}  # a raw SLI: its burn is the recorded ratio (0.2% of a 0.1% budget)
PROBE = spec_header("probe-api") + """\
  - name: availability
    objective: 99.9
    sli: {raw: {error_ratio: '1 - avg_over_time(probe_success{job="probe"}[{{window}}])'}}
"""


def recorded(now: float) -> str:
    lines: list[str] = []
    for name, column in (("slo:error_budget_remaining:ratio", 0), ("slo:sli_errors:rate5m", 1),
                         ("slo:sli_requests:rate5m", 2), ("slo:sli_error:ratio_rate5m", 3)):
        lines.append(f"# TYPE {name} unknown")
        for service, values in STATE.items():
            labels = f'{{service="{service}",slo="availability",team="payments"}}'
            t = now - 3 * 3600
            while t < now - 5:
                lines.append(f"{name}{labels} {values[column]} {t:.0f}")
                t += 15
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, Path]]:
    workdir = tmp_path_factory.mktemp("gate")
    specs = workdir / "specs"
    specs.mkdir()
    for service, policy in POLICIES.items():
        (specs / f"{service}.yaml").write_text(SPEC.format(service=service, policy=policy))
    (specs / "probe-api.yaml").write_text(PROBE)
    prom = start_over(workdir / "prom", recorded(time.time()))
    try:
        with prom.logs_on_failure():
            yield prom, specs
    finally:
        prom.stop()


def gate(url: str, specs: Path, *args: str) -> int:
    return main(["budget", "gate", "--prometheus", url, "--specs", str(specs), *args])


def test_healthy_ships(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "healthy-api") == 0
    assert "may ship: 1 service(s), 1 SLO(s)" in capsys.readouterr().out


def test_spent_budget_freezes_and_names_slo_budget_and_policy(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "healthy-api", "--service", "frozen-api") == 1
    out = capsys.readouterr().out
    assert out.endswith(
        "\nrelease frozen by the error-budget policy: frozen-api/availability (remaining error budget -20.0% "
        "is at or under freeze_below 0.0%)\n")
    # the table above the verdict shows every named SLO
    assert [line.split()[0] for line in out.splitlines()[:3]] == ["service", "frozen-api", "healthy-api"]


def test_freeze_below_stops_releases_before_the_budget_is_spent(live) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "low-api") == 1


def test_an_exempt_change_ships_through_the_freeze(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "frozen-api", "--change-labels", "security,docs") == 0
    # a label the policy does not exempt changes nothing
    assert gate(prom.url, specs, "--service", "frozen-api", "--change-labels", "feature") == 1


def test_no_data_is_unknown_and_the_fail_mode_decides(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "new-api") == 3
    assert "no data" in capsys.readouterr().out
    assert gate(prom.url, specs, "--service", "new-api", "--fail-mode", "open") == 0


def test_unreachable_prometheus_in_both_fail_modes(live, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, specs = live
    nobody = f"http://127.0.0.1:{free_port()}"
    assert gate(nobody, specs, "--service", "healthy-api") == 3
    assert f"cannot reach Prometheus at {nobody}" in capsys.readouterr().out
    assert gate(nobody, specs, "--service", "healthy-api", "--fail-mode", "open") == 0


def test_bad_input_exits_2(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "nope-api") == 2
    assert "--service nope-api: no such service" in capsys.readouterr().err
    assert gate(prom.url, specs, "--change-labels", "a b") == 2
    assert main(["budget", "gate", "--prometheus", prom.url, "--specs", str(specs / "missing")]) == 2


def test_step_summary_says_why_and_how_to_ship(live, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    summary = tmp_path / "summary.md"
    assert gate(prom.url, specs, "--service", "frozen-api", "--summary", str(summary)) == 1
    text = summary.read_text()
    assert text.startswith("## Error-budget gate: blocked\n")
    assert "| frozen-api | availability | 99.9% | -20.0% | 20.00x | 20.00x | 20.00x |" in text
    assert "label the change with one of the labels the policy exempts (security)" in text


def test_status_reports_budget_burn_and_decision(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert main(["budget", "status", "--prometheus", prom.url, "--specs", str(specs), "--format", "json"]) == 0
    slos = {s["service"]: s for s in json.loads(capsys.readouterr().out)["slos"]}
    assert [slos[s]["decision"] for s in sorted(slos)] == ["frozen", "ok", "frozen", "unknown", "ok"]
    assert slos["probe-api"]["burn_rate"]["6h"] == pytest.approx(2.0)
    healthy = slos["healthy-api"]
    assert healthy["remaining_budget"] == pytest.approx(0.8)
    # 0.01 errors/s of 10 requests/s is 0.1% errors: exactly the 99.9% budget's pace
    assert healthy["burn_rate"] == {"1d": pytest.approx(1.0), "1h": pytest.approx(1.0), "6h": pytest.approx(1.0)}
    assert slos["low-api"]["burn_rate"]["1h"] == 0.0
    assert slos["new-api"]["remaining_budget"] is None and slos["new-api"]["blocks"] is True
    assert main(["budget", "status", "--prometheus", prom.url, "--specs", str(specs)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].split() == ["service", "slo", "objective", "remaining", "burn", "1h", "burn", "6h", "burn", "1d",
                               "policy", "decision"]
    assert text[1].split() == ["frozen-api", "availability", "99.9%", "-20.0%", "20.00x", "20.00x", "20.00x",
                               "freeze<=0%", "fail-closed", "exempt:security", "frozen", "(blocks)"]


def test_services_are_named_after_one_flag_or_by_repeating_it(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "healthy-api", "frozen-api", "--format", "json") == 1
    one_flag = json.loads(capsys.readouterr().out)
    assert gate(prom.url, specs, "--service", "healthy-api", "--service", "frozen-api", "--format", "json") == 1
    assert json.loads(capsys.readouterr().out) == one_flag
    assert sorted(s["service"] for s in one_flag["slos"]) == ["frozen-api", "healthy-api"]
    assert main(["budget", "status", "--prometheus", prom.url, "--specs", str(specs), "--service", "low-api",
                 "probe-api", "--format", "json"]) == 0
    assert sorted(s["service"] for s in json.loads(capsys.readouterr().out)["slos"]) == ["low-api", "probe-api"]


def test_gate_formats(live, capsys) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    assert gate(prom.url, specs, "--service", "frozen-api", "--format", "json") == 1
    found = json.loads(capsys.readouterr().out)
    assert found["exit_code"] == 1
    assert found["verdict"].startswith("release frozen by the error-budget policy: frozen-api/availability")
    assert [(s["service"], s["decision"]) for s in found["slos"]] == [("frozen-api", "frozen")]
    assert gate(prom.url, specs, "--service", "frozen-api", "--format", "markdown") == 1
    md = capsys.readouterr().out
    assert md.startswith("## Error-budget gate: blocked\n\n| service | slo | objective | remaining |")
    assert "\n**release frozen by the error-budget policy: frozen-api/availability" in md
    assert gate(prom.url, specs, "--service", "healthy-api", "--format", "text") == 0
    text = capsys.readouterr().out.splitlines()
    assert text[1].split()[:4] == ["healthy-api", "availability", "99.9%", "80.0%"]
    assert text[-1] == "may ship: 1 service(s), 1 SLO(s) within their error-budget policy"


def test_bad_input_still_writes_a_step_summary(live, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prom, specs = live
    summary = tmp_path / "summary.md"
    assert gate(prom.url, specs, "--service", "nope-api", "--summary", str(summary)) == 2
    err = capsys.readouterr().err
    assert summary.read_text() == (
        "## Error-budget gate: blocked (bad input)\n\n"
        f"**blocked: bad input — {err.strip()}**\n\n"
        "Nothing was decided: fix the input and run the gate again.\n")
    assert err.startswith("sre budget gate: --service nope-api: no such service in")
    summary.unlink()
    assert gate(prom.url, specs, "--change-labels", "a b", "--summary", str(summary)) == 2
    assert "**blocked: bad input — sre budget gate: --change-labels: 'a b' is not a label" in summary.read_text()
    capsys.readouterr()
    assert gate(prom.url, specs, "--summary", str(tmp_path / "no" / "such" / "dir.md")) == 2
    assert capsys.readouterr().err == (
        f"sre budget gate: --summary {tmp_path / 'no' / 'such' / 'dir.md'}: No such file or directory\n")


def test_a_query_prometheus_refuses_exits_2_and_says_so_in_the_summary(live, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real Prometheus that refuses every query loading more than one sample (HTTP 422)."""
    _, specs = live
    strict = start_over(tmp_path / "strict", recorded(time.time()), "--query.max-samples=1")
    try:
        summary = tmp_path / "summary.md"
        assert gate(strict.url, specs, "--service", "healthy-api", "--summary", str(summary)) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"sre budget gate: --prometheus {strict.url}: Prometheus refused the query: "
                              "query processing would load too many samples into memory"), err
        assert summary.read_text().startswith(
            f"## Error-budget gate: blocked (bad input)\n\n**blocked: bad input — sre budget gate: "
            f"--prometheus {strict.url}: Prometheus refused the query: query processing would load too many")
    finally:
        strict.stop()
