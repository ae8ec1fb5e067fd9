"""`sre loadtest verdict` reads Prometheus through the library's one client (reliability/prometheus.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cli import main

REPO = Path(__file__).resolve().parents[3]


def test_an_unreachable_prometheus_gives_no_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["loadtest", "verdict", "--prometheus", "http://127.0.0.1:1", "--service", "checkout-api",
                 "--from", "2026-12-07T03:00:00Z", "--to", "2026-12-07T03:05:00Z", "--specs", str(REPO / "slo-specs")])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("sre loadtest verdict: cannot reach Prometheus at http://127.0.0.1:1: ")
    assert "Traceback" not in err and err.count("\n") == 1
