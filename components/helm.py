"""Pinned Helm charts (charts.yaml) and the one way components install them."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from reliability.platform.charts import locate, pins
from reliability.platform.config import Charts

# Seconds a Release may take: kube-prometheus-stack waits for its hook Jobs and the operator.
RELEASE_TIMEOUT = 900


def install(
    name: str,
    chart: str,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    parent: pulumi.Resource,
    source: Charts,
    depends_on: list[pulumi.Resource] | None = None,
    release_name: str | None = None,
    skip_crds: bool = False,
) -> pulumi.Resource:
    """Install a pinned chart as the resource type charts.yaml chose for it.

    The Helm release name is explicit (never Pulumi's random suffix): Service and
    ServiceAccount names derive from it, and IRSA trust policies and URLs name them.
    `source` is the stack's `charts` setting: upstream, a folder of unpacked charts or a mirror.
    """
    pin = pins()[chart]
    ref = locate(pin, source.folder, source.repository)
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on or [])
    # What a v3 Release and a v4 Chart are both given; each wraps the repository in its own type.
    common: dict[str, Any] = {"name": release_name or chart, "chart": ref.chart, "version": ref.version,
                              "namespace": namespace, "values": values, "skip_crds": skip_crds}
    if pin.resource == "release":
        return k8s.helm.v3.Release(
            name,
            k8s.helm.v3.ReleaseArgs(
                **common,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=ref.repo) if ref.repo else None,
                timeout=RELEASE_TIMEOUT,
                max_history=10,
                cleanup_on_fail=True,
            ),
            opts=opts,
        )
    args = k8s.helm.v4.ChartArgs(
        **common, repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=ref.repo) if ref.repo else None)
    ChartInputs(name, args, ref.repo, parent)
    return k8s.helm.v4.Chart(name, args, opts=opts)


class ChartInputs(pulumi.ComponentResource):
    """What a helm.v4.Chart is given, where the policy pack can read it.

    helm.v4.Chart is a component the Kubernetes provider constructs; the engine hands policies
    its registration with no properties at all (seen with the real engine and the pack: every
    Chart had neither chart, version nor values), so the pin, values and Grafana checks would
    pass unseen. This sibling of the same name carries the same inputs and creates nothing.
    """

    TYPE = "reliability:helm:Chart"

    def __init__(self, name: str, args: k8s.helm.v4.ChartArgs, repo: str | None, parent: pulumi.Resource):
        props = {"name": args.name, "chart": args.chart, "version": args.version, "namespace": args.namespace,
                 "values": args.values, "skipCrds": args.skip_crds,
                 "repositoryOpts": {"repo": repo} if repo else None}
        super().__init__(self.TYPE, name, {k: v for k, v in props.items() if v is not None},
                         pulumi.ResourceOptions(parent=parent))
        self.register_outputs({})
