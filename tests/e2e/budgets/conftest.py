"""A real Prometheus over a backfilled month (tests/e2e/budgets/month.py), shared by the report tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ...conftest import tool
from ...prom import Prometheus, PrometheusError, rules_config
from . import month

RETENTION = "--storage.tsdb.retention.time=100y"  # the backfilled month is older than the default 15d


def start_over(workdir: Path, openmetrics: str, *flags: str) -> Prometheus:
    """Backfill `openmetrics` into large blocks and start Prometheus on it, with `flags` (the caller stops it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = rules_config(workdir, {})
    source, data = workdir / "data.om", workdir / "data"
    source.write_text(openmetrics)
    data.mkdir(exist_ok=True)
    proc = subprocess.run([tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                           "--max-block-duration=744h", str(source), str(data)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PrometheusError(f"promtool could not backfill {source}:\n{proc.stdout}{proc.stderr}")
    return Prometheus(config, workdir, RETENTION, *flags)


@pytest.fixture(scope="module")
def month_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, Path]]:
    """Prometheus over the month, and a folder holding the month's SLO specs."""
    workdir = tmp_path_factory.mktemp("month")
    specs = workdir / "specs"
    specs.mkdir()
    for name, text in month.SPECS.items():
        (specs / name).write_text(text)
    prom = start_over(workdir / "prom", month.openmetrics())
    try:
        with prom.logs_on_failure():
            yield prom, specs
    finally:
        prom.stop()
