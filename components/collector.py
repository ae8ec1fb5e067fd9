"""Collection: one OpenTelemetry Collector DaemonSet instead of one agent per signal.

It tails pod logs (filelog preset) and receives OTLP from applications on each
node; logs go to Loki's OTLP endpoint, traces to Tempo, metrics to Prometheus's
OTLP receiver. The `-k8s` distribution has no prometheusremotewrite exporter,
hence OTLP all the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.platform.config import StackConfig

from . import helm

RELEASE = "otel-collector"
IMAGE = "otel/opentelemetry-collector-k8s"
PIPELINE_PROCESSORS = ["memory_limiter", "batch"]


def collector_values(
    cfg: StackConfig, loki_otlp: str, tempo_otlp_grpc: str, prometheus_otlp: tuple[str, ...]
) -> dict[str, Any]:
    def pipeline(*exporters: str) -> dict[str, Any]:
        return {"receivers": ["otlp"], "processors": PIPELINE_PROCESSORS, "exporters": list(exporters)}

    # One exporter per Prometheus replica: each must receive every metric (metrics.replica_urls).
    prometheus = {f"otlp_http/prometheus-{i}": {"endpoint": url} for i, url in enumerate(prometheus_otlp)}

    return {
        "mode": "daemonset",
        "image": {"repository": IMAGE},
        "command": {"name": "otelcol-k8s"},
        # logsCollection adds the filelog receiver on /var/log/pods to the logs pipeline; it starts
        # at the end of each file, so without stored checkpoints (hostPath /var/lib/otelcol) every
        # collector restart or upgrade would drop the lines written meanwhile.
        # kubernetesAttributes labels every signal with its pod, namespace and workload.
        "presets": {
            "logsCollection": {"enabled": True, "storeCheckpoints": True},
            "kubernetesAttributes": {"enabled": True},
        },
        # In daemonset mode every enabled port becomes a hostPort: keep OTLP only.
        "ports": {
            name: {"enabled": False} for name in ("jaeger-compact", "jaeger-grpc", "jaeger-thrift", "zipkin")
        },
        "config": {
            "exporters": {
                "otlp_http/loki": {"endpoint": loki_otlp},
                "otlp_grpc/tempo": {"endpoint": tempo_otlp_grpc, "tls": {"insecure": True}},
                **prometheus,
            },
            "service": {
                "pipelines": {
                    "logs": pipeline("otlp_http/loki"),
                    "traces": pipeline("otlp_grpc/tempo"),
                    "metrics": pipeline(*prometheus),
                }
            },
        },
        "resources": cfg.resources.collector.as_k8s(),
        # Pod log files on the node are root-owned (opentelemetry-helm-charts#71).
        "securityContext": {"runAsUser": 0, "runAsGroup": 0},
    }


@dataclass(frozen=True)
class CollectorArgs:
    config: StackConfig
    namespace: str
    loki_otlp: str
    tempo_otlp_grpc: str
    prometheus_otlp: tuple[str, ...]
    depends_on: tuple[pulumi.Resource, ...] = ()


class OpenTelemetry(pulumi.ComponentResource):
    def __init__(self, name: str, args: CollectorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:collector:OpenTelemetry", name, None, opts)
        values = collector_values(args.config, args.loki_otlp, args.tempo_otlp_grpc, args.prometheus_otlp)
        helm.install(
            f"{name}-collector",
            "opentelemetry-collector",
            args.namespace,
            values,
            parent=self,
            source=args.config.charts,
            depends_on=list(args.depends_on),
            release_name=RELEASE,
        )
        self.register_outputs({"mode": values["mode"], "exporters": sorted(values["config"]["exporters"])})
