"""`helm template` of the pinned charts from local copies, with exactly the values the program passes.

The helm binary is the one `make tools` builds (tools/versions.toml); the charts come from
../shared/reference/charts-src (tests/reference.yaml says where they came from).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from ..conftest import reference
from ..crds import CRDLoader as RenderLoader  # the CRDs' bare `=` enum value
from ..gotools import built_tool

# Custom resource API versions the cluster has once the CRD charts are installed: charts render
# their ServiceMonitors, PodMonitors and PrometheusRules only when the cluster serves them, as
# pulumi-kubernetes renders against the real cluster's capabilities.
API_VERSIONS = ("monitoring.coreos.com/v1", "monitoring.coreos.com/v1alpha1", "chaos-mesh.org/v1alpha1",
                "k6.io/v1alpha1")
LOCAL_KUBE_VERSION = "1.33"  # what local clusters (kind) run at least; cloud stacks name theirs


def helm() -> str:
    return built_tool("helm")


def chart_dir(chart: str, version: str) -> Path:
    return reference("charts-src", f"{chart}-{version}")


def template(release: dict[str, Any], kube_version: str) -> list[dict[str, Any]]:
    """The objects `helm template` renders for one recorded helm.sh resource (Release or Chart)."""
    inputs = release["inputs"]
    folder = chart_dir(inputs["chart"], inputs["version"])
    args = [helm(), "template", inputs["name"], str(folder), "--namespace", inputs["namespace"],
            "--kube-version", kube_version, "--values", "-",
            *[f"--api-versions={v}" for v in API_VERSIONS]]
    # helm.v3.Release installs crds/ unless skipCrds; helm.v4.Chart registers them unless skipCrds.
    if not inputs.get("skipCrds"):
        args.append("--include-crds")
    done = subprocess.run(args, input=json.dumps(inputs.get("values") or {}), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"helm template {inputs['chart']} {inputs['version']}: {done.stderr}"
    return flatten(doc for doc in yaml.load_all(done.stdout, Loader=RenderLoader) if doc)


def flatten(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """`kind: List` documents as their items, as Helm's client creates them (kube-prometheus-stack's
    per-replica Services come as one List)."""
    out = []
    for doc in docs:
        out.extend(flatten(doc.get("items") or []) if doc.get("kind") == "List" else [doc])
    return out
