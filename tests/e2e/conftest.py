"""Fixtures of the end-to-end tests: one pipeline per test, and the timing report."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import tool
from .pipeline import SLACK, Pipeline, pipeline

TIMING_PROPERTY = "e2e timing"  # read by pytest_terminal_summary in tests/conftest.py


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def e2e(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pipeline]:
    """A fresh pipeline on free loopback ports in this test's temp dir; its logs are printed if the test fails."""
    for binary in ("prometheus", "prometheus-alertmanager", "amtool"):
        tool(binary)
    with pipeline(tmp_path) as running:
        yield running
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            print("notifications:", *(f"  {n.at:.1f} {n}" for n in running.sink.notifications), sep="\n")
            for log in sorted(tmp_path.rglob("*.log")):
                print(f"--- {log.relative_to(tmp_path)} (last 40 lines)")
                print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))


@pytest.fixture
def timing(record_property: Callable[[str, object], None]) -> Callable[[str, float, float, str], None]:
    """Report a measured time next to its prediction (printed with -s, a JUnit property, the terminal
    summary), and fail when it is later than the prediction plus the pipeline's SLACK."""

    def report(what: str, measured: float, predicted: float, why: str) -> None:
        line = f"{what}: measured {measured:.1f}s, predicted <= {predicted:.1f}s [{why}]"
        print(line)
        record_property(TIMING_PROPERTY, line)
        record_property(f"{what} (s)", round(measured, 2))
        assert measured <= predicted + SLACK, f"{what} took {measured:.1f}s, more than the predicted " \
            f"{predicted:.1f}s + {SLACK:g}s of slack for a busy machine [{why}]"

    return report
