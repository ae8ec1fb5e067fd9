"""`sre bench compile`: compile N generated SLOs end to end and report time and memory.

The specs are written to a temporary folder first, so the measurement covers
what a user's `sre slo compile` does: read and parse YAML, validate, generate
rules, PrometheusRules and promtool tests, and write the output folder.
Peak memory: this process's and the largest worker's maximum resident set size (ru_maxrss),
and the peak PSS summed over a separate `sre slo compile` and its workers (bench/memory.py),
which counts the pages a forked worker shares with its parent once.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from ..yamlio import dump
from .memory import PeakMemory

SLOS_PER_SERVICE = 4


def spec_for(index: int) -> dict:  # type: ignore[type-arg]
    """A realistic service: availability and latency of an HTTP API, a job ratio, a good/total query."""
    service = f"service-{index:04d}"
    job = f'job="{service}"'
    return {
        "apiVersion": "reliability-as-code/v1",
        "kind": "ServiceLevelObjectives",
        "service": service,
        "team": f"team-{index % 25:02d}",
        "tier": 1 + index % 3,
        "labels": {"domain": f"domain-{index % 7}"},
        "runbook_url": f"https://runbooks.example.com/{service}",
        "slos": [
            {"name": "availability", "objective": 99.9, "sli": {"ratio": {
                "errors": f'http_requests_total{{{job},code=~"5.."}}', "total": f"http_requests_total{{{job}}}"}}},
            {"name": "latency", "objective": 99.5, "period": "28d", "sli": {"latency": {
                "histogram": f"http_request_duration_seconds{{{job}}}", "threshold": "300ms"}}},
            {"name": "jobs", "objective": 99, "period": "7d", "sli": {"ratio": {
                "errors": f'jobs_processed_total{{{job},status="failed"}}',
                "total": f"jobs_processed_total{{{job}}}"}}},
            {"name": "search", "objective": 99.95, "sli": {"ratio": {
                "good": f'sum(rate(grpc_server_handled_total{{{job},grpc_code="OK"}}[{{{{window}}}}]))',
                "total": f"sum(rate(grpc_server_handled_total{{{job}}}[{{{{window}}}}]))"}}},
        ],
    }


def write_specs(directory: str, slos: int) -> int:
    services = max(1, -(-slos // SLOS_PER_SERVICE))
    count = 0
    for index in range(services):
        spec = spec_for(index)
        spec["slos"] = spec["slos"][: min(SLOS_PER_SERVICE, slos - count)]
        count += len(spec["slos"])
        with open(os.path.join(directory, f"service-{index:04d}.yaml"), "w", encoding="utf-8") as handle:
            handle.write(dump(spec))
    return count


@dataclass(frozen=True)
class CompileBench:
    slos: int
    services: int = 0
    files: int = 0
    megabytes: float = 0.0  # of output text
    read_seconds: float = 0.0  # read, parse and validate the specs
    generate_seconds: float = 0.0  # rules, PrometheusRules, promtool tests, dashboards (forked workers)
    write_seconds: float = 0.0  # the output folder, swapped in whole (bound by the disk)
    peak_mb: float = 0.0  # this process's maximum resident set size
    worker_mb: float = 0.0  # the largest worker process's, 0 when the compile ran in this process
    total_mb: float | None = None  # peak summed PSS of a separate `sre slo compile` and its workers
    errors: tuple[str, ...] = ()  # the first problems, when the generated specs did not compile

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.generate_seconds + self.write_seconds


def bench(slos: int) -> CompileBench:
    """Compile `slos` generated SLOs from a temporary spec folder to a temporary output folder, as
    `sre slo compile` does (compile_paths' calls), timing each phase; then once more as a user runs it
    (`sre slo compile` in a process of its own) for the memory the whole process tree holds at its peak."""
    from ..slo.compile import compile_services, write_output
    from ..slo.load import load
    from ..slo.parallel import worker_count

    with tempfile.TemporaryDirectory(prefix="sre-bench-") as tmp:
        specs = os.path.join(tmp, "specs")
        os.makedirs(specs)
        count = write_specs(specs, slos)
        start = time.perf_counter()
        result = load([specs], workers=worker_count())
        if result.problems:
            return CompileBench(count, errors=tuple(str(p) for p in result.problems.errors[:10]))
        loaded = time.perf_counter()
        output = compile_services(result.services, result.catalogs)
        generated = time.perf_counter()
        write_output(output.files, os.path.join(tmp, "out"))
        written = time.perf_counter()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        total_mb = _compile_memory(specs, os.path.join(tmp, "out-memory"))
    return CompileBench(
        count, len(output.services), len(output.files), sum(map(len, output.files.values())) / 1e6,
        loaded - start, generated - loaded, written - generated, peak_mb, worker_mb, total_mb)


def _compile_memory(specs: str, out: str) -> float | None:
    """Peak summed PSS of `sre slo compile SPECS --out OUT` and its workers (None off Linux)."""
    command = [sys.executable, "-m", "reliability", "slo", "compile", specs, "--out", out]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc, \
            PeakMemory(proc.pid) as peak:
        _, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"sre slo compile failed: {stderr.decode(errors='replace')[-500:]}")
    return peak.mb
