"""`sre slo bench`: compile N generated SLOs end to end and report time and memory.

The specs are written to a temporary folder first, so the measurement covers
what a user's `sre slo compile` does: read and parse YAML, validate, generate
rules, PrometheusRules and promtool tests, and write the output folder.
Peak memory is the process's maximum resident set size (ru_maxrss).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from dataclasses import dataclass

from ..yamlio import dump

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
    services: int
    files: int
    seconds: float
    peak_mb: float  # this process's maximum resident set size
    worker_mb: float  # the largest worker process's, 0 when the compile ran in this process
    errors: tuple[str, ...] = ()  # the first problems, when the generated specs did not compile


def bench(slos: int) -> CompileBench:
    """Compile `slos` generated SLOs from a temporary spec folder to a temporary output folder."""
    from ..slo.compile import compile_paths, write_output

    with tempfile.TemporaryDirectory(prefix="sre-bench-") as tmp:
        specs = os.path.join(tmp, "specs")
        os.makedirs(specs)
        count = write_specs(specs, slos)
        start = time.perf_counter()
        result, output = compile_paths([specs])
        if output is None:
            return CompileBench(count, 0, 0, 0.0, 0.0, 0.0, tuple(str(p) for p in result.problems.errors[:10]))
        write_output(output.files, os.path.join(tmp, "out"))
        elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return CompileBench(count, len(output.services), len(output.files), elapsed, peak_mb, worker_mb)
