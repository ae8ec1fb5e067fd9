"""Metrics: prometheus-operator CRDs, kube-prometheus-stack and Thanos.

Prometheus (with the Thanos sidecar shipping 2h blocks to S3 in cloud envs),
Alertmanager, node-exporter and kube-state-metrics come from
kube-prometheus-stack; Thanos query, store gateway and compactor from
stevehipwell/thanos. Query is the one metrics endpoint Grafana uses: it merges
the Prometheus replicas (deduplicated on `prometheus_replica`) and the bucket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.platform.config import StackConfig

from . import helm, kube

KPS = "kps"  # release name and fullnameOverride: Service and ServiceAccount names derive from it
THANOS = "thanos"
PROMETHEUS_SA = "prometheus"
STORE_SA = "thanos-store-gateway"
COMPACT_SA = "thanos-compact"
OBJSTORE_SECRET = "thanos-objstore"
OBJSTORE_KEY = "objstore.yml"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# OTLP resource attributes Prometheus keeps as labels on pushed metrics.
PROMOTED_ATTRIBUTES = ["k8s.namespace.name", "service.name", "service.namespace"]
# Control-plane targets that are unreachable on EKS (managed) and kind (bound to localhost):
# scraping them only produces always-firing *Down alerts.
UNREACHABLE_TARGETS = ("kubeControllerManager", "kubeEtcd", "kubeProxy", "kubeScheduler")


def thanos_service_accounts(namespace: str) -> tuple[tuple[str, str], ...]:
    """Who reads or writes the Thanos bucket: the sidecar (Prometheus pod), store gateway, compactor."""
    return ((namespace, PROMETHEUS_SA), (namespace, STORE_SA), (namespace, COMPACT_SA))


def urls(namespace: str) -> dict[str, str]:
    return {
        "prometheus": kube.service_url(f"{KPS}-prometheus", namespace, 9090),
        "alertmanager": kube.service_url(f"{KPS}-alertmanager", namespace, 9093),
        "thanosQuery": kube.service_url(f"{THANOS}-query", namespace, 10902),
    }


def replica_urls(namespace: str, replicas: int, path: str) -> tuple[str, ...]:
    """`path` on every Prometheus replica, through the chart's per-replica Services.

    Pushed metrics (OTLP, remote write) must reach every replica, as scraped ones do:
    through the shared Service each push lands on one replica, which then evaluates
    rules and alerts on part of the data while its twin disagrees.
    """
    return tuple(kube.service_url(f"{KPS}-prometheus-{i}", namespace, 9090, path=path) for i in range(replicas))


def retention_size(volume: str) -> str:
    """85% of the volume, so Prometheus deletes old blocks before the disk fills."""
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi|Ti)", volume).groups()  # type: ignore[union-attr]
    mib = int(number) * {"Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}[unit] * 85 // 100
    return f"{mib // 1024}GiB" if mib >= 1024 else f"{mib}MiB"


def objstore_config(bucket: str, region: str) -> str:
    """Thanos S3 config; credentials come from IRSA (aws_sdk_auth), never from this file."""
    return (
        f"type: S3\nconfig:\n  bucket: {bucket}\n  endpoint: s3.{region}.amazonaws.com\n"
        f"  region: {region}\n  aws_sdk_auth: true\n"
    )


def _anti_affinity(component: str, hard: bool) -> dict[str, Any]:
    term = {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": {"app.kubernetes.io/component": component}},
    }
    if hard:
        return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]
        }
    }


def kps_values(
    cfg: StackConfig, namespace: str, alertmanager: dict[str, Any], thanos_role_arn: str | None
) -> dict[str, Any]:
    res = cfg.resources
    replicas = cfg.replicas.prometheus
    ha = replicas > 1
    selectors = {
        f"{kind}SelectorNilUsesHelmValues": False
        for kind in ("rule", "serviceMonitor", "podMonitor", "probe", "scrapeConfig")
    }
    thanos: dict[str, Any] = {"resources": res.thanos_sidecar.as_k8s()}
    if cfg.is_cloud:
        thanos["objectStorageConfig"] = {"existingSecret": {"name": OBJSTORE_SECRET, "key": OBJSTORE_KEY}}
    values: dict[str, Any] = {
        "fullnameOverride": KPS,
        # CRDs come from the prometheus-operator-crds release, which upgrades them.
        "crds": {"enabled": False},
        # Grafana is its own chart; still ship kube-prometheus-stack's dashboards for its sidecar.
        "grafana": {"enabled": False, "forceDeployDashboards": True},
        "defaultRules": {"create": True, "additionalRuleLabels": {"team": "platform"}},
        **{target: {"enabled": False} for target in UNREACHABLE_TARGETS},
        "prometheusOperator": {
            "resources": res.prometheus_operator.as_k8s(),
            "prometheusConfigReloader": {"resources": res.config_reloader.as_k8s()},
            # Validate rules strictly, except on first install before the hook Job patched the CA in.
            # The hook Jobs that create and patch the webhook certificate (kube-webhook-certgen).
            "admissionWebhooks": {"failurePolicy": "IgnoreOnInstallOnly",
                                  "patch": {"resources": res.webhook_job.as_k8s()}},
        },
        "kube-state-metrics": {"resources": res.kube_state_metrics.as_k8s()},
        "prometheus-node-exporter": {
            "resources": res.node_exporter.as_k8s(),
            # Docker Desktop's `/` is a private mount: a HostToContainer mount of it never starts.
            "hostRootFsMount": {"enabled": cfg.distribution.host_root_fs if cfg.distribution else True},
        },
        "prometheus": {
            "serviceAccount": {
                "create": True,
                "name": PROMETHEUS_SA,
                "annotations": {IRSA_ANNOTATION: thanos_role_arn} if thanos_role_arn else {},
            },
            "podDisruptionBudget": {"enabled": ha, "minAvailable": 1},
            # kps-prometheus-<i>: pushes reach every replica (replica_urls).
            "servicePerReplica": {"enabled": True},
            "thanosService": {"enabled": True},
            "thanosServiceMonitor": {"enabled": True},
            "prometheusSpec": {
                "replicas": replicas,
                "retention": cfg.retention.prometheus,
                "retentionSize": retention_size(cfg.volumes.prometheus),
                "resources": res.prometheus.as_k8s(),
                "persistentVolumeClaimRetentionPolicy": kube.claim_retention(cfg.protect_data),
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": cfg.storage.storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": cfg.volumes.prometheus}},
                        }
                    }
                },
                "podAntiAffinity": "hard" if ha else "soft",
                "podAntiAffinityTopologyKey": "kubernetes.io/hostname",
                "externalLabels": {"cluster": cfg.cluster_name, "environment": cfg.environment},
                **selectors,
                # The collector pushes OTLP metrics; Tempo's metrics generator remote-writes span metrics.
                "enableOTLPReceiver": True,
                "enableRemoteWriteReceiver": True,
                "otlp": {"promoteResourceAttributes": PROMOTED_ATTRIBUTES},
                "enableFeatures": ["exemplar-storage"],
                "tsdb": {"outOfOrderTimeWindow": "30m"},
                "thanos": thanos,
            },
        },
        "alertmanager": alertmanager,
    }
    return values


def thanos_values(cfg: StackConfig, namespace: str, role_arn: str | None) -> dict[str, Any]:
    res = cfg.resources
    rep = cfg.replicas
    cloud = cfg.is_cloud
    irsa = {IRSA_ANNOTATION: role_arn} if role_arn else {}
    ret = cfg.retention
    values: dict[str, Any] = {
        "fullnameOverride": THANOS,
        # The sidecars of every Prometheus replica, found through kube-prometheus-stack's headless Service.
        "additionalEndpoints": [f"dnssrv+_grpc._tcp.{KPS}-thanos-discovery.{namespace}.svc.cluster.local"],
        "additionalReplicaLabels": ["prometheus_replica"],
        "serviceMonitor": {"enabled": True},
        "query": {
            "enabled": True,
            "replicas": rep.thanos_query,
            "resources": res.thanos_query.as_k8s(),
            "podDisruptionBudget": {"enabled": rep.thanos_query > 1, "maxUnavailable": 1},
            "affinity": _anti_affinity("query", hard=False),
        },
        # Without a bucket (local) there is nothing for the store gateway and compactor to read.
        "storeGateway": {"enabled": cloud},
        "compact": {"enabled": cloud},
    }
    # The chart writes persistentVolumeClaimRetentionPolicy from these two flags.
    retention = kube.claim_retention(cfg.protect_data)
    thanos_claims = {"retainDeleted": retention["whenDeleted"] == "Retain",
                     "retainScaled": retention["whenScaled"] == "Retain"}
    if cloud:
        values["objstoreConfig"] = {"create": False, "name": OBJSTORE_SECRET, "key": OBJSTORE_KEY}
        values["storeGateway"] = {
            "enabled": True,
            "replicas": rep.thanos_store,
            "resources": res.thanos_store.as_k8s(),
            "persistence": {
                "enabled": True,
                "storageClass": cfg.storage.storage_class,
                "size": cfg.volumes.thanos_store,
                **thanos_claims,
            },
            "podDisruptionBudget": {"enabled": rep.thanos_store > 1, "maxUnavailable": 1},
            "affinity": _anti_affinity("store-gateway", hard=False),
            "serviceAccount": {"name": STORE_SA, "annotations": irsa},
        }
        values["compact"] = {
            "enabled": True,
            "resources": res.thanos_compact.as_k8s(),
            "persistence": {
                "enabled": True,
                "storageClass": cfg.storage.storage_class,
                "size": cfg.volumes.thanos_compact,
                **thanos_claims,
            },
            "deduplication": {"enabled": True, "func": "penalty"},
            # Per-resolution retention; downsampling (5m after 40h, 1h after 10d) is on by default.
            "extraArgs": [
                f"--retention.resolution-raw={ret.metrics_raw}",
                f"--retention.resolution-5m={ret.metrics_5m}",
                f"--retention.resolution-1h={ret.metrics_1h}",
            ],
            "serviceAccount": {"name": COMPACT_SA, "annotations": irsa},
        }
    return values


@dataclass(frozen=True)
class MetricsArgs:
    config: StackConfig
    namespace: str
    alertmanager_values: dict[str, Any]
    # Cloud envs: the Thanos bucket and its IRSA role; None on local (no object storage).
    bucket: pulumi.Input[str] | None = None
    role_arn: pulumi.Input[str] | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()


class PrometheusStack(pulumi.ComponentResource):
    urls: dict[str, str]
    crds: pulumi.Resource

    def __init__(self, name: str, args: MetricsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:metrics:PrometheusStack", name, None, opts)
        cfg = args.config
        ns = args.namespace
        after = list(args.depends_on)
        if args.bucket is not None:
            after.append(
                kube.secret(
                    f"{name}-objstore",
                    OBJSTORE_SECRET,
                    ns,
                    # Bucket and region only (IRSA supplies the credentials); secret because it is a Secret.
                    pulumi.Output.secret(args.bucket).apply(
                        lambda b: {OBJSTORE_KEY: objstore_config(b, cfg.cluster.region or "")}
                    ),
                    "thanos",
                    self,
                    list(args.depends_on),
                )
            )
        self.crds = helm.install(
            f"{name}-crds",
            "prometheus-operator-crds",
            ns,
            parent=self,
            source=args.config.charts,
            depends_on=list(args.depends_on),
            # Keep the CRDs (and with them every PrometheusRule) if the release is ever removed.
            values={"crds": {"annotations": {"helm.sh/resource-policy": "keep"}}},
            release_name="prometheus-operator-crds",
        )
        role = (
            pulumi.Output.from_input(args.role_arn)
            if args.role_arn is not None
            else pulumi.Output.from_input("")
        )
        kps = helm.install(
            f"{name}-kps",
            "kube-prometheus-stack",
            ns,
            parent=self,
            source=args.config.charts,
            depends_on=[*after, self.crds],
            values=role.apply(lambda arn: kps_values(cfg, ns, args.alertmanager_values, arn or None)),
            release_name=KPS,
            skip_crds=True,
        )
        helm.install(
            f"{name}-thanos",
            "thanos",
            ns,
            parent=self,
            source=args.config.charts,
            depends_on=[*after, kps],
            values=role.apply(lambda arn: thanos_values(cfg, ns, arn or None)),
            release_name=THANOS,
        )
        self.urls = urls(ns)
        self.otlp_urls = replica_urls(ns, cfg.replicas.prometheus, "/api/v1/otlp")
        self.remote_write_urls = replica_urls(ns, cfg.replicas.prometheus, "/api/v1/write")
        self.register_outputs(
            {"urls": self.urls, "otlpUrls": self.otlp_urls, "remoteWriteUrls": self.remote_write_urls}
        )
