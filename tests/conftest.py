"""Shared test helpers: the repository root, the shared reference data, real tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REFERENCE = (REPO.parent / "shared" / "reference").resolve()
# Set by .ci/run: this project's CI has every tool and the reference data, so nothing may be skipped there.
STRICT = bool(os.environ.get("RAC_STRICT"))


def skip_or_fail(message: str) -> None:
    """Skip with the reason in a user's clone; fail under RAC_STRICT (this project's CI)."""
    if STRICT:
        pytest.fail(f"{message} (RAC_STRICT is set: CI must provide it)")
    pytest.skip(message)


def reference(*parts: str) -> Path:
    """A path under ../shared/reference; skips (with the reason) where a user's clone lacks it."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        skip_or_fail(f"{path} not present (shared reference data lives next to the repository in CI)")
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under RAC_STRICT a skipped test fails the run: CI must not skip anything."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if STRICT and skipped and exitstatus == 0:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(f"RAC_STRICT: {skipped} test(s) skipped; CI must run every test", red=True)


def tool(name: str) -> str:
    """A real binary the tests need; missing is a failure that says what to install."""
    from .gotools import build_tools, built_tool  # it imports this module

    if name in build_tools().load():
        return built_tool(name)
    path = shutil.which(name)
    if path is None:
        package = {"promtool": "prometheus", "prometheus": "prometheus", "amtool": "prometheus-alertmanager",
                   "prometheus-alertmanager": "prometheus-alertmanager"}.get(name, name)
        pytest.fail(f"{name} not found on PATH: install Debian's {package} package (make debian-tools does it)")
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
