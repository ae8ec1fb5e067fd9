"""`sre postmortem new`: the template, and its timeline and impact against a real Prometheus whose
backfilled numbers this test knows."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from reliability.cli import main
from reliability.durations import Duration
from reliability.slo import naming

from ...prom import running_prometheus

REPO = Path(__file__).resolve().parents[3]
ALERT = 'ALERTS{{alertname="CheckoutApiAvailabilityBudgetBurn",alertstate="firing",service="checkout-api",' \
        'severity="{severity}",slo="availability",team="payments"}} 1 {t}'


# A service whose SLI is raw: an error ratio the team computes itself (Prometheus records it every 5m window).
LEDGER = """apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: ledger
team: payments
runbook_url: https://runbooks.example.com/ledger
slos:
  - name: correctness
    objective: 99.9
    period: 7d
    sli:
      raw:
        error_ratio: '1 - avg_over_time(ledger_check_success[{{window}}])'
"""


def openmetrics(t0: datetime) -> str:
    """Two hours from t0: 10 good requests a second throughout, 1 failing a second from +30m to +60m;
    the page alert fires from +35m05s to +54m50s, the ticket from +45m05s on, past the window's end.
    Latency: 10 requests a second, all within 300ms but from +30m to +60m, when 2 a second are slower.
    ledger's recorded 5m error ratio: 1% from +30m15s to +45m, 3% from +45m15s to +60m, 0 after."""
    base = int(t0.timestamp())
    seconds = range(0, 7200 + 1, 15)
    slow = lambda s: 2 * min(max(s - 1800, 0), 1800)  # noqa: E731 - slow requests so far
    lines = ["# TYPE http_requests counter"]  # each series whole and in time order, as OpenMetrics wants
    lines += [f'http_requests_total{{code="200",job="checkout-api"}} {10 * s} {base + s}' for s in seconds]
    lines += [f'http_requests_total{{code="500",job="checkout-api"}} {min(max(s - 1800, 0), 1800)} {base + s}'
              for s in seconds]
    histogram = 'http_request_duration_seconds_{}{{job="checkout-api",{}route="/api/orders"}} {} {}'
    lines.append("# TYPE http_request_duration_seconds_bucket gauge")
    lines += [histogram.format("bucket", 'le="0.3",', 10 * s - slow(s), base + s) for s in seconds]
    lines += [histogram.format("bucket", 'le="+Inf",', 10 * s, base + s) for s in seconds]
    lines.append("# TYPE http_request_duration_seconds_count gauge")
    lines += [histogram.format("count", "", 10 * s, base + s) for s in seconds]
    recorded = naming.error_ratio(Duration.parse("5m"))
    lines.append(f"# TYPE {recorded} gauge")
    lines += [f'{recorded}{{service="ledger",slo="correctness"}} {0.01 if s <= 2700 else 0.03 if s <= 3600 else 0} '
              f"{base + s}" for s in seconds if s > 1800]
    lines.append("# TYPE ALERTS gauge")
    lines += [ALERT.format(severity="page", t=base + s) for s in range(35 * 60 + 5, 55 * 60, 15)]
    lines += [ALERT.format(severity="ticket", t=base + s) for s in range(45 * 60 + 5, 70 * 60, 15)]
    body = "\n".join(lines)
    return body + "\n# EOF\n"


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "slo-specs", tmp_path / "slo-specs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---\n")[1])


def test_timeline_and_impact_from_prometheus(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = (datetime.now(UTC) - timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    start, end = t0 + timedelta(minutes=30), t0 + timedelta(minutes=60)
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    (workspace / "slo-specs" / "ledger.yaml").write_text(LEDGER)
    with running_prometheus(workspace / "prom", {}, openmetrics(t0)) as prom:
        assert main(["postmortem", "new", "--service", "checkout-api", "--from", iso(start), "--to", iso(end),
                     "--prometheus", prom.url, "--title", "Checkout 5xx after deploy", "--tag", "deploy",
                     "--severity", "SEV2"]) == 0
        path = workspace / capsys.readouterr().out.strip()
        assert main(["postmortem", "new", "--service", "ledger", "--from", iso(start), "--to", iso(end),
                     "--prometheus", prom.url, "--title", "Ledger mismatches"]) == 0
        ledger = workspace / capsys.readouterr().out.strip()
    assert path == workspace / "postmortems" / f"{start:%Y-%m-%d}-checkout-api-checkout-5xx-after-deploy.md"
    meta = front_matter(path)
    assert meta == {
        "title": "Checkout 5xx after deploy", "service": "checkout-api", "team": "payments", "severity": "SEV2",
        "status": "draft", "start": iso(start), "end": iso(end),
        # The first step (60s) with a sample of the page alert, 35m05s after t0.
        "detected": iso(t0 + timedelta(minutes=36)),
        "resolved": None,  # the ticket still fires at the end of the window
        "tags": ["deploy"], "alerts": ["CheckoutApiAvailabilityBudgetBurn"], "actions": [],
    }
    text = path.read_text()
    # 30 minutes: 1800 failed of 19800 requests = 9.091%; 30m of a 30d period at a 0.1% budget:
    # 0.0909 * (1800 / 2592000) / 0.001 = 6.3% of the budget.
    assert "| availability | 9.091% | 1800 | 19800 | 6.3% |" in text
    # 30 minutes at 10 requests a second: 18000 requests, 2 a second over 300ms = 3600 = 20%;
    # 0.2 * (1800 / 2592000) / 0.005 (99.5%) = 2.8% of the budget.
    assert "| latency | 20.000% | 3600 | 18000 | 2.8% |" in text
    assert f"| {iso(t0 + timedelta(minutes=36))} | `CheckoutApiAvailabilityBudgetBurn` (page, SLO availability) " \
           "fired. |" in text
    assert f"| {iso(t0 + timedelta(minutes=55))} | `CheckoutApiAvailabilityBudgetBurn` (page, SLO availability) " \
           "resolved. |" in text
    assert f"| {iso(t0 + timedelta(minutes=46))} | `CheckoutApiAvailabilityBudgetBurn` (ticket, SLO " \
           "availability) fired. |" in text
    assert "(ticket, SLO availability) still firing at the end of the window. |" in text
    assert "`CheckoutApiAvailabilityBudgetBurn` (page) fired at " f"{iso(t0 + timedelta(minutes=36))}, 6m after " \
           "the start of the window." in text
    # A raw SLI is a ratio already: its recorded error ratio averaged over the window, (1% + 3%) / 2 = 2%,
    # no request counts; 0.02 * (1800 / 604800) / 0.001 (99.9% over 7d) = 6.0% of the budget.
    assert "| correctness | 2.000% | n/a | n/a | 6.0% |" in ledger.read_text()


def test_without_prometheus_the_template_leaves_the_facts_to_the_authors(workspace: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["postmortem", "new", "--service", "order-worker", "--from", "2026-11-02T08:15:00+01:00",
                 "--to", "2026-11-02T09:00:00+01:00"]) == 0
    path = workspace / capsys.readouterr().out.strip()
    assert path.name == "2026-11-02-order-worker-incident.md"
    meta = front_matter(path)
    assert (meta["start"], meta["end"], meta["detected"], meta["resolved"], meta["team"]) == (
        "2026-11-02T07:15:00Z", "2026-11-02T08:00:00Z", None, None, "fulfilment")
    text = path.read_text()
    for section in ("Summary", "Impact", "Timeline", "Contributing factors", "Trigger", "Detection", "Resolution",
                    "Action items", "Lessons learned"):
        assert f"\n## {section}\n" in text
    # The record reads what the template writes.
    assert main(["incidents", "--format", "json"]) == 0
    assert '"incidents": 1' in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--service", "checkout-api", "--from", "yesterday", "--to", "now"],
     "sre postmortem new: --from 'yesterday' is not a time: give ISO 8601 such as 2026-12-01T10:00:00Z, or now"),
    (["--service", "checkout-api", "--from", "2026-12-01T11:00:00Z", "--to", "2026-12-01T10:00:00Z"],
     "sre postmortem new: --to 2026-12-01T10:00:00Z is not after --from 2026-12-01T11:00:00Z: the window must "
     "have a length"),
    (["--service", "checkout-api", "--from", "2026-12-01T10:00:00Z", "--to", "now", "--severity", "high"],
     "sre postmortem new: --severity 'high' is not one of SEV1, SEV2, SEV3, SEV4, SEV5"),
    (["--service", "checkout", "--from", "2026-12-01T10:00:00Z", "--to", "now"],
     "sre postmortem new: --service 'checkout': no such service in slo-specs (services: checkout-api, "
     "feature-flags, order-worker, search-api)"),
    (["--service", "checkout-api", "--from", "2026-12-01T10:00:00Z", "--to", "now",
      "--prometheus", "http://127.0.0.1:1"],
     "sre postmortem new: --prometheus: cannot reach Prometheus at http://127.0.0.1:1: "),
])
def test_bad_input_exits_2_and_writes_nothing(workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                              message: str) -> None:
    assert main(["postmortem", "new", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err
    assert not (workspace / "postmortems").exists() or not list((workspace / "postmortems").iterdir())


def test_an_existing_postmortem_is_never_overwritten(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["postmortem", "new", "--service", "search-api", "--from", "2026-12-01T10:00:00Z",
            "--to", "2026-12-01T10:30:00Z"]
    assert main(argv) == 0
    path = workspace / capsys.readouterr().out.strip()
    path.write_text("ours\n")
    assert main(argv) == 2
    assert capsys.readouterr().err == (f"sre postmortem new: postmortems/{path.name} exists: a post-mortem is never "
                                       "overwritten; give another --title\n")
    assert path.read_text() == "ours\n"
