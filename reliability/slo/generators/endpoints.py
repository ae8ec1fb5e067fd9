"""Where generated reliability tests reach the platform: pins and in-cluster addresses.

The service names follow components/metrics.py (release `kps`, Thanos query `thanos`);
tests/unit/platform/test_render.py checks they agree. Everything reads
from Thanos query, which merges the Prometheus replicas, so a verdict does not
depend on which replica a k6 run remote-wrote to.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

GATE_NAME = "slo-gate"
GATE_PORT = 8080
LOADTEST_NAMESPACE = "k6-operator"
CHAOS_NAMESPACE = "chaos-mesh"


@cache
def images() -> dict[str, str]:
    """Pinned images (data file next to this module, each with why that pin)."""
    data: Any = yaml.safe_load((Path(__file__).parent / "images.yaml").read_text(encoding="utf-8"))
    return {name: entry["image"] for name, entry in data.items()}


@dataclass(frozen=True)
class Endpoints:
    query: str  # Prometheus HTTP API that verdicts, the gate and canary analysis read
    remote_write: str  # where k6 runs push their metrics
    gate: str  # the SLO gate's base URL

    @classmethod
    def in_namespace(cls, namespace: str) -> Endpoints:
        svc = f"{namespace}.svc.cluster.local"
        return cls(
            query=f"http://thanos-query.{svc}:10902",
            remote_write=f"http://kps-prometheus-0.{svc}:9090/api/v1/write",
            gate=f"http://{GATE_NAME}.{svc}:{GATE_PORT}",
        )
