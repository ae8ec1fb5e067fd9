"""`sre bench render`: wall time of a full offline render with N generated SLOs.

Generates N ratio SLOs (10 per service) in a temporary spec folder, points the
stack's `sloSpecs` at it and times `render` end to end (config, compile,
program under mocks, serialisation).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from ..platform.config import PROJECT
from ..platform.render import render

PER_SERVICE = 10


def write_specs(folder: Path, count: int) -> None:
    for first in range(0, count, PER_SERVICE):
        service = f"bench-{first // PER_SERVICE:04d}"
        slos = [
            {
                "name": f"availability-{i:02d}",
                "objective": 99.9,
                "period": "30d",
                "sli": {
                    "ratio": {
                        "errors": f'http_requests_total{{job="{service}", route="/r{i}", code=~"5.."}}',
                        "total": f'http_requests_total{{job="{service}", route="/r{i}"}}',
                    }
                },
            }
            for i in range(min(PER_SERVICE, count - first))
        ]
        spec = {
            "apiVersion": "reliability-as-code/v1",
            "kind": "ServiceLevelObjectives",
            "service": service,
            "team": "platform",
            "runbook_url": f"https://runbooks.example.com/{service}",
            "slos": slos,
        }
        (folder / f"{service}.yaml").write_text(json.dumps(spec), encoding="utf-8")


def bench(stack: str, slos: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, resource count) of one render of `stack` with `slos` generated SLOs.

    CPU time is reported next to wall time because it holds steady when other jobs share the machine.
    """
    with tempfile.TemporaryDirectory(prefix="sre-bench-") as tmp:
        write_specs(Path(tmp), slos)
        start, cpu = time.perf_counter(), time.process_time()
        files = render(stack, overrides={f"{PROJECT}:sloSpecs": tmp})
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu_seconds, len(json.loads(files["resources.json"]))
