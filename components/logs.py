"""Logs: Loki (grafana-community chart), Monolithic, tsdb schema v13, retention enforced.

local and dev run one single-binary pod; staging and prod run three replicas on S3
(replication factor 3). Retention is applied by the compactor, which Loki 3 only
allows with a `delete_request_store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.durations import Duration
from reliability.platform.config import StackConfig

from . import helm, kube

RELEASE = "loki"
SERVICE_ACCOUNT = "loki"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
SCHEMA_FROM = "2024-04-01"


def hours(duration: str) -> str:
    """Loki and Tempo want Go durations: `30d` becomes `720h`."""
    return f"{Duration.parse(duration).ms // 3_600_000}h"


def urls(namespace: str) -> dict[str, str]:
    # Monolithic without the nginx gateway: clients talk to the `loki` Service directly.
    return {
        "loki": kube.service_url(RELEASE, namespace, 3100),
        "lokiOtlp": kube.service_url(RELEASE, namespace, 3100, path="/otlp"),
    }


def loki_values(cfg: StackConfig, bucket: str | None, role_arn: str | None) -> dict[str, Any]:
    replicas = cfg.replicas.loki
    store = "s3" if bucket else "filesystem"
    storage: dict[str, Any] = {"type": "filesystem"}
    if bucket:
        storage = {
            "type": "s3",
            "bucketNames": {"chunks": bucket, "ruler": bucket},
            "s3": {"region": cfg.cluster.region},
        }
    return {
        "deploymentMode": "Monolithic",
        "loki": {
            "auth_enabled": False,  # one tenant; Grafana and the collector send no X-Scope-OrgID
            "commonConfig": {"replication_factor": 3 if replicas >= 3 else 1},
            "schemaConfig": {
                "configs": [
                    {
                        "from": SCHEMA_FROM,
                        "store": "tsdb",
                        "object_store": store,
                        "schema": "v13",
                        "index": {"prefix": "loki_index_", "period": "24h"},
                    }
                ]
            },
            "storage": storage,
            "limits_config": {"retention_period": hours(cfg.retention.logs)},
            "compactor": {"retention_enabled": True, "delete_request_store": store},
        },
        "serviceAccount": {
            "name": SERVICE_ACCOUNT,
            "annotations": {IRSA_ANNOTATION: role_arn} if role_arn else {},
        },
        "singleBinary": {
            "replicas": replicas,
            "resources": cfg.resources.loki.as_k8s(),
            "persistence": {
                "enabled": True,
                "size": cfg.volumes.loki,
                "storageClass": cfg.storage.storage_class,
                # The chart writes persistentVolumeClaimRetentionPolicy only with this flag.
                "enableStatefulSetAutoDeletePVC": True,
                **kube.claim_retention(cfg.protect_data),
            },
            # Rendered by the chart only with more than one replica; the chart's default affinity is
            # already a hard anti-affinity on the node.
            "podDisruptionBudget": {"maxUnavailable": 1},
        },
        # Monolithic only: the simple-scalable targets must be zero or the chart refuses to render.
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
        # The caches ask for ~10 GiB by default; the canary and test pod are for chart development.
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "memcached": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        "gateway": {"enabled": False},
        # The rules sidecar watches every ConfigMap for Loki ruler rules; alerts here are Prometheus
        # rules, so it would only be a container without resources.
        "sidecar": {"rules": {"enabled": False}},
        # Without the sidecar the chart's cluster-wide RBAC is a ClusterRole with `rules: []` bound to
        # Loki: it grants nothing, and the API server stores it without `rules`, so every preview
        # showed an update. Namespaced RBAC without the sidecar creates no role at all.
        "rbac": {"namespaced": True},
        "minio": {"enabled": False},
    }


@dataclass(frozen=True)
class LogsArgs:
    config: StackConfig
    namespace: str
    bucket: pulumi.Input[str] | None = None
    role_arn: pulumi.Input[str] | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()


class Loki(pulumi.ComponentResource):
    urls: dict[str, str]

    def __init__(self, name: str, args: LogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:logs:Loki", name, None, opts)
        cfg = args.config
        values = pulumi.Output.all(args.bucket, args.role_arn).apply(lambda a: loki_values(cfg, a[0], a[1]))
        helm.install(
            f"{name}-loki",
            "loki",
            args.namespace,
            values,
            parent=self,
            source=args.config.charts,
            depends_on=list(args.depends_on),
            release_name=RELEASE,
        )
        self.urls = urls(args.namespace)
        self.register_outputs({"urls": self.urls})
