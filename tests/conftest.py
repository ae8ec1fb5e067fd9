"""Shared test helpers: the repository root, the shared reference data, real tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REFERENCE = (REPO.parent / "shared" / "reference").resolve()


def reference(*parts: str) -> Path:
    """A path under ../shared/reference; skips (with the reason) where a user's clone lacks it."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must provide ../shared/reference")
        pytest.skip(f"{path} not present (shared reference data lives next to the repository in CI)")
    return path


def tool(name: str) -> str:
    """A real binary the tests need; missing is a failure that says what to install."""
    path = shutil.which(name)
    if path is None:
        package = {"promtool": "prometheus", "prometheus": "prometheus", "amtool": "prometheus-alertmanager",
                   "prometheus-alertmanager": "prometheus-alertmanager"}.get(name, name)
        pytest.fail(f"{name} not found on PATH: install Debian's {package} package (make tools does it)")
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The alert timings the end-to-end tests measured (tests/e2e/conftest.py `timing`), shown on every run.

    Read from the reports' user_properties, which pytest-xdist carries back from its workers.
    """
    lines = [value for outcome in ("passed", "failed") for report in terminalreporter.stats.get(outcome, [])
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", ()) if name == "e2e timing"]
    if lines:
        terminalreporter.write_sep("-", "end-to-end alert timings, measured vs predicted from the windows")
        for line in lines:
            terminalreporter.write_line(line)
