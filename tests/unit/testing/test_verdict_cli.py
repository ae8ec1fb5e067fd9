"""`sre loadtest verdict` refuses bad input with exit 2 and says what to fix, before asking Prometheus anything.

Its pass, fail and no-data answers against a real Prometheus are in tests/e2e/test_reliability_verdicts.py.
The Prometheus URL here is a closed port: reaching it would be exit 3, not 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cli import main

from ...alertmanager_proc import free_port
from ...unit.slo.helpers import EXAMPLES

EXAMPLE_SPECS = str(EXAMPLES)
RUN = ["--from", "2026-12-07T03:00:00Z", "--to", "2026-12-07T03:05:00Z"]


def verdict(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["loadtest", "verdict", "--prometheus", f"http://127.0.0.1:{free_port()}", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("times", "message"), [
    (["--from", "yesterday", "--to", "2026-12-07T03:05:00Z"],
     "sre loadtest verdict: --from: 'yesterday' is not a time: use RFC 3339 (2026-12-04T03:00:00Z) or Unix "
     "seconds"),
    (["--from", "2026-12-07T03:00:00Z", "--to", "03:05"],
     "sre loadtest verdict: --to: '03:05' is not a time: use RFC 3339 (2026-12-04T03:00:00Z) or Unix seconds"),
    (["--from", "2026-12-07T03:05:00Z", "--to", "2026-12-07T03:00:00Z"],
     "sre loadtest verdict: --to 2026-12-07T03:00:00Z is not later than --from 2026-12-07T03:05:00Z: give the "
     "run's start and end, in that order"),
    (["--from", "1765076400", "--to", "1765076400"],
     "sre loadtest verdict: --to 1765076400 is not later than --from 1765076400: give the run's start and end, "
     "in that order"),
], ids=["bad-from", "bad-to", "to-before-from", "empty-run"])
def test_bad_times(capsys: pytest.CaptureFixture[str], times: list[str], message: str) -> None:
    code, out, err = verdict(capsys, "--service", "checkout-api", "--specs", EXAMPLE_SPECS, *times)
    assert (code, out, err) == (2, "", message + "\n")


def test_an_unknown_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verdict(capsys, "--service", "checkout", "--specs", EXAMPLE_SPECS, *RUN)
    assert code == 2 and out == ""
    assert err.startswith(f"sre loadtest verdict: no service 'checkout' in {EXAMPLE_SPECS} (services: "), err
    assert "checkout-api" in err


def test_a_service_without_a_load_test(capsys: pytest.CaptureFixture[str]) -> None:
    """Its SLOs would give thresholds, but no run of it was ever generated: most likely the wrong --service."""
    code, out, err = verdict(capsys, "--service", "order-worker", "--specs", EXAMPLE_SPECS, *RUN)
    assert (code, out) == (2, "")
    assert err == (f"sre loadtest verdict: service 'order-worker' has no load test in {EXAMPLE_SPECS}: its "
                   "thresholds come from the spec's `loadtest` key (docs/reliability-tests.md); add one, or name "
                   "the service whose run this was\n")


def test_a_load_test_left_out_of_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    """checkout-api's load test runs in dev and staging only."""
    code, out, err = verdict(capsys, "--service", "checkout-api", "--specs", EXAMPLE_SPECS, "--env", "prod", *RUN)
    assert (code, out) == (2, "")
    assert err == (f"sre loadtest verdict: service 'checkout-api' has no load test in environment 'prod' in "
                   f"{EXAMPLE_SPECS}: its thresholds come from the spec's `loadtest` key "
                   "(docs/reliability-tests.md); add one, or list this environment in loadtest.environments, or "
                   "name the service whose run this was\n")


def test_a_spec_with_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("apiVersion: reliability-as-code/v1\nkind: ServiceLevelObjectives\nservice: a\n")
    code, out, err = verdict(capsys, "--service", "a", "--specs", str(spec), *RUN)
    assert code == 2 and f"{spec}:1: -: team: missing required field 'team'" in out + err


def test_an_unreachable_prometheus_gives_no_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["loadtest", "verdict", "--prometheus", "http://127.0.0.1:1", "--service", "checkout-api",
                 "--from", "2026-12-07T03:00:00Z", "--to", "2026-12-07T03:05:00Z", "--specs", EXAMPLE_SPECS])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("sre loadtest verdict: cannot reach Prometheus at http://127.0.0.1:1: ")
    assert "Traceback" not in err and err.count("\n") == 1
