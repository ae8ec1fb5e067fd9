"""Traces: Tempo (grafana-community chart), local disk on local, S3 in cloud envs.

Its metrics generator turns spans into service-graph and span metrics, remote-written
to Prometheus, which Grafana's Tempo service map reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.platform.config import StackConfig

from . import helm, kube
from .logs import hours

RELEASE = "tempo"
SERVICE_ACCOUNT = "tempo"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def urls(namespace: str) -> dict[str, str]:
    return {
        "tempo": kube.service_url(RELEASE, namespace, 3200),
        "tempoOtlpGrpc": kube.service_url(RELEASE, namespace, 4317, scheme=""),
    }


def tempo_values(
    cfg: StackConfig, bucket: str | None, role_arn: str | None, remote_write: tuple[str, ...]
) -> dict[str, Any]:
    trace: dict[str, Any] = {"backend": "local"}
    if bucket:
        region = cfg.cluster.region
        trace = {
            "backend": "s3",
            "s3": {"bucket": bucket, "endpoint": f"s3.{region}.amazonaws.com", "region": region},
        }
    return {
        "tempo": {
            "retention": hours(cfg.retention.traces),
            "reportingEnabled": False,
            "storage": {"trace": trace},
            # Span metrics to every Prometheus replica (metrics.replica_urls).
            "metricsGenerator": {"enabled": True, "storage": {"remote_write": [{"url": u} for u in remote_write]}},
            "overrides": {
                "defaults": {"metrics_generator": {"processors": ["service-graphs", "span-metrics"]}}
            },
            "resources": cfg.resources.tempo.as_k8s(),
        },
        # The WAL (and local blocks) need a volume; without one they would sit in the container layer.
        "persistence": {
            "enabled": True,
            "size": cfg.volumes.tempo,
            "storageClassName": cfg.storage.storage_class,
            # The chart's only policy deletes the claims when the StatefulSet goes or scales down
            # (templates/statefulset.yaml); without it they are retained.
            "enableStatefulSetAutoDeletePVC": not cfg.protect_data,
        },
        "serviceAccount": {
            "name": SERVICE_ACCOUNT,
            "annotations": {IRSA_ANNOTATION: role_arn} if role_arn else {},
        },
    }


@dataclass(frozen=True)
class TracesArgs:
    config: StackConfig
    namespace: str
    prometheus_remote_write: tuple[str, ...]
    bucket: pulumi.Input[str] | None = None
    role_arn: pulumi.Input[str] | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()


class Tempo(pulumi.ComponentResource):
    urls: dict[str, str]

    def __init__(self, name: str, args: TracesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:traces:Tempo", name, None, opts)
        cfg = args.config
        values = pulumi.Output.all(args.bucket, args.role_arn).apply(
            lambda a: tempo_values(cfg, a[0], a[1], args.prometheus_remote_write)
        )
        helm.install(
            f"{name}-tempo",
            "tempo",
            args.namespace,
            values,
            parent=self,
            source=args.config.charts,
            depends_on=list(args.depends_on),
            release_name=RELEASE,
        )
        self.urls = urls(args.namespace)
        self.register_outputs({"urls": self.urls})
