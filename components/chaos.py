"""Chaos Mesh, switched per environment (`chaos.enabled`).

The daemon talks to the node's container runtime: containerd on EKS, and on a local
cluster whatever its distribution runs (reliability/platform/distributions.py).
Installed as a helm.v3.Release: the chart generates new certificates and a random
`rollme` annotation on every render, and a Release diffs on its inputs (chart,
version, values) only, so just a real change upgrades it and rolls the pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.platform.config import StackConfig

from . import helm, kube

NAMESPACE = "chaos-mesh"
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"


def chaos_values(cfg: StackConfig) -> dict[str, Any]:
    res = cfg.resources
    local = cfg.distribution
    return {
        "chaosDaemon": {
            "runtime": local.runtime if local else "containerd",
            "socketPath": local.socket_path if local else CONTAINERD_SOCKET,
            "resources": res.chaos_daemon.as_k8s(),
        },
        "controllerManager": {
            "replicaCount": 1,  # leader election makes more replicas standbys only
            "resources": res.chaos_controller.as_k8s(),
            "chaosdSecurityMode": False,  # no physical-machine chaos (chaosd)
            # Chaos only in namespaces that opt in with the chaos-mesh.org/inject=enabled annotation
            # (policy chaos-namespace-opt-in keeps it on).
            "enableFilterNamespace": True,
            # The chart's default is gcr.io/google-containers/pause:latest, a frozen path and tag.
            "podChaos": {"podFailure": {"pauseImage": "registry.k8s.io/pause:3.10"}},
        },
        "dashboard": {
            "securityMode": True,
            "service": {"type": "ClusterIP"},
            "resources": res.chaos_dashboard.as_k8s(),
        },
        "dnsServer": {"create": False},
    }


@dataclass(frozen=True)
class ChaosArgs:
    config: StackConfig


class ChaosMesh(pulumi.ComponentResource):
    def __init__(self, name: str, args: ChaosArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:chaos:ChaosMesh", name, None, opts)
        # The daemon needs hostPID, the runtime socket and extra capabilities.
        ns = kube.namespace(NAMESPACE, f"{name}-namespace", "privileged", self)
        helm.install(
            f"{name}-chaos-mesh",
            "chaos-mesh",
            NAMESPACE,
            chaos_values(args.config),
            parent=self,
            source=args.config.charts,
            depends_on=[ns],
            release_name="chaos-mesh",
        )
        self.register_outputs({"namespace": NAMESPACE})
