"""Pinned Helm charts (charts.yaml) and the one way components install them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

CHARTS_FILE = Path(__file__).with_name("charts.yaml")
# Seconds a Release may take: kube-prometheus-stack waits for its hook Jobs and the operator.
RELEASE_TIMEOUT = 900


@dataclass(frozen=True)
class ChartPin:
    key: str
    repo: str
    chart: str
    version: str
    resource: str  # "release" (helm.v3.Release) or "chart" (helm.v4.Chart)


@functools.cache
def pins() -> dict[str, ChartPin]:
    data = yaml.safe_load(CHARTS_FILE.read_text(encoding="utf-8"))
    return {key: ChartPin(key=key, **spec) for key, spec in sorted(data["charts"].items())}


def install(
    name: str,
    chart: str,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
    release_name: str | None = None,
    skip_crds: bool = False,
) -> pulumi.Resource:
    """Install a pinned chart as the resource type charts.yaml chose for it.

    The Helm release name is explicit (never Pulumi's random suffix): Service and
    ServiceAccount names derive from it, and IRSA trust policies and URLs name them.
    """
    pin = pins()[chart]
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on or [])
    if pin.resource == "release":
        return k8s.helm.v3.Release(
            name,
            k8s.helm.v3.ReleaseArgs(
                name=release_name or chart,
                chart=pin.chart,
                version=pin.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pin.repo),
                namespace=namespace,
                values=values,
                skip_crds=skip_crds,
                timeout=RELEASE_TIMEOUT,
                max_history=10,
                cleanup_on_fail=True,
            ),
            opts=opts,
        )
    return k8s.helm.v4.Chart(
        name,
        k8s.helm.v4.ChartArgs(
            name=release_name or chart,
            chart=pin.chart,
            version=pin.version,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=pin.repo),
            namespace=namespace,
            values=values,
            skip_crds=skip_crds,
        ),
        opts=opts,
    )
