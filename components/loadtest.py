"""The k6 operator (TestRun CRDs), switched per environment (`loadtest.enabled`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.platform.config import StackConfig

from . import helm, kube

NAMESPACE = "k6-operator"


def k6_values(cfg: StackConfig) -> dict[str, Any]:
    return {
        "namespace": {"create": False},  # Pulumi owns the namespace
        "installCRDs": True,
        "manager": {
            "replicas": 1,
            "logging": {"development": False},
            "resources": cfg.resources.k6_operator.as_k8s(),
            # The chart sets none, so the manager ran as the image's user, unchecked; the image is
            # distroless nonroot (65532), as the operator's own kustomize manifests require.
            "podSecurityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containerSecurityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        },
    }


@dataclass(frozen=True)
class LoadTestArgs:
    config: StackConfig


class K6Operator(pulumi.ComponentResource):
    def __init__(self, name: str, args: LoadTestArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:loadtest:K6Operator", name, None, opts)
        ns = kube.namespace(NAMESPACE, f"{name}-namespace", "baseline", self)
        helm.install(
            f"{name}-k6-operator",
            "k6-operator",
            NAMESPACE,
            k6_values(args.config),
            parent=self,
            source=args.config.charts,
            depends_on=[ns],
            release_name="k6-operator",
        )
        self.register_outputs({"namespace": NAMESPACE})
