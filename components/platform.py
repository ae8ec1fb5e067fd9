"""The whole reliability stack of one environment; the only module that knows every component."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from reliability.platform.config import StackConfig

from . import kube, logs, metrics, traces
from .alerting import AlertingArgs, Alertmanager, alertmanager_values
from .chaos import ChaosArgs, ChaosMesh
from .cluster import ClusterArgs, Eks, Local
from .collector import CollectorArgs, OpenTelemetry
from .grafana import GrafanaArgs, Server
from .loadtest import K6Operator, LoadTestArgs
from .logs import LogsArgs, Loki
from .metrics import MetricsArgs, PrometheusStack
from .oncall import OnCallTeam, OnCallTeamArgs
from .reliability_tests import ReliabilityTests, ReliabilityTestsArgs
from .slos import ServiceLevels, SlosArgs
from .storage import Buckets, BucketsArgs, Workload
from .traces import Tempo, TracesArgs

MONITORING = "monitoring"  # Prometheus, Alertmanager, Thanos, Grafana, SLO rules
OBSERVABILITY = "observability"  # Loki, Tempo, the collector


@dataclass(frozen=True)
class NamespacesArgs:
    names: tuple[tuple[str, str], ...]  # (name, pod security level)


class Namespaces(pulumi.ComponentResource):
    resources: dict[str, pulumi.Resource]

    def __init__(self, name: str, args: NamespacesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:index:Namespaces", name, None, opts)
        self.resources = {ns: kube.namespace(ns, f"{name}-{ns}", level, self) for ns, level in args.names}
        self.register_outputs({"names": sorted(self.resources)})


def workloads(cfg: StackConfig) -> tuple[Workload, ...]:
    """Who owns which bucket, and how long objects live there (the longest retention of the workload)."""
    ret = cfg.retention
    return (
        Workload(
            "thanos",
            metrics.thanos_service_accounts(MONITORING),
            max(ret.days("metrics_raw"), ret.days("metrics_5m"), ret.days("metrics_1h")),
        ),
        Workload("loki", ((OBSERVABILITY, logs.SERVICE_ACCOUNT),), ret.days("logs")),
        Workload("tempo", ((OBSERVABILITY, traces.SERVICE_ACCOUNT),), ret.days("traces")),
    )


@dataclass(frozen=True)
class PlatformArgs:
    config: StackConfig


class Platform(pulumi.ComponentResource):
    urls: dict[str, str]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:index:Platform", name, None, opts)
        cfg = args.config
        buckets: dict[str, pulumi.Output[str]] = {}
        roles: dict[str, pulumi.Output[str]] = {}
        self.kubeconfig: pulumi.Output[str] | None = None  # EKS only; local uses the user's kubeconfig
        if cfg.is_cloud:
            aws_provider = aws.Provider(
                f"{name}-aws",
                region=cfg.cluster.region,
                default_tags=aws.ProviderDefaultTagsArgs(
                    tags={"reliability-as-code/environment": cfg.environment}
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            on_aws = pulumi.ResourceOptions(parent=self, providers=[aws_provider])
            eks = Eks(f"{name}-cluster", ClusterArgs(cfg), opts=on_aws)
            storage = Buckets(
                f"{name}-storage",
                BucketsArgs(cfg, eks.oidc_provider_arn, eks.oidc_issuer, workloads(cfg)),
                opts=on_aws,
            )
            buckets, roles = storage.buckets, storage.role_arns
            provider = eks.provider
            self.kubeconfig = eks.kubeconfig
        else:
            provider = Local(
                f"{name}-cluster", ClusterArgs(cfg), opts=pulumi.ResourceOptions(parent=self)
            ).provider
        on_k8s = pulumi.ResourceOptions(parent=self, providers=[provider])

        namespaces = Namespaces(
            f"{name}-namespaces",
            NamespacesArgs(
                (
                    (MONITORING, "privileged"),  # node-exporter: hostNetwork, hostPID, hostPath
                    (OBSERVABILITY, "privileged"),  # the collector reads /var/log/pods from the host
                )
            ),
            opts=on_k8s,
        )
        monitoring_ns = (namespaces.resources[MONITORING],)
        observability_ns = (namespaces.resources[OBSERVABILITY],)

        routing_keys: dict[str, pulumi.Output[str]] = {}
        if cfg.oncall.enabled:  # staging and prod only (config.py refuses it elsewhere)
            for team, spec in sorted(cfg.oncall.teams.items()):
                oncall = OnCallTeam(
                    f"{name}-oncall-{team}",
                    OnCallTeamArgs(team, spec, cfg.pagerduty_services.get(team, ()), cfg.environment),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                routing_keys.update(oncall.routing_keys)
        alerting = Alertmanager(
            f"{name}-alerting",
            AlertingArgs(cfg, MONITORING, depends_on=monitoring_ns, routing_keys=tuple(sorted(routing_keys.items()))),
            opts=on_k8s,
        )
        prom = PrometheusStack(
            f"{name}-metrics",
            MetricsArgs(
                cfg,
                MONITORING,
                alertmanager_values(cfg),
                bucket=buckets.get("thanos"),
                role_arn=roles.get("thanos"),
                depends_on=(*monitoring_ns, *alerting.secrets),
            ),
            opts=on_k8s,
        )
        loki = Loki(
            f"{name}-logs",
            LogsArgs(
                cfg,
                OBSERVABILITY,
                bucket=buckets.get("loki"),
                role_arn=roles.get("loki"),
                depends_on=observability_ns,
            ),
            opts=on_k8s,
        )
        tempo = Tempo(
            f"{name}-traces",
            TracesArgs(
                cfg,
                OBSERVABILITY,
                prom.remote_write_urls,
                bucket=buckets.get("tempo"),
                role_arn=roles.get("tempo"),
                depends_on=observability_ns,
            ),
            opts=on_k8s,
        )
        OpenTelemetry(
            f"{name}-collector",
            CollectorArgs(
                cfg,
                OBSERVABILITY,
                loki.urls["lokiOtlp"],
                tempo.urls["tempoOtlpGrpc"],
                prom.otlp_urls,
                depends_on=observability_ns,
            ),
            opts=on_k8s,
        )
        grafana = Server(
            f"{name}-grafana",
            GrafanaArgs(
                cfg,
                MONITORING,
                prom.urls["thanosQuery"],
                loki.urls["loki"],
                tempo.urls["tempo"],
                depends_on=monitoring_ns,
            ),
            opts=on_k8s,
        )
        operators: list[pulumi.Resource] = []
        if cfg.chaos.enabled:
            operators.append(ChaosMesh(f"{name}-chaos", ChaosArgs(cfg), opts=on_k8s))
        if cfg.loadtest.enabled:
            operators.append(K6Operator(f"{name}-loadtest", LoadTestArgs(cfg), opts=on_k8s))
        slos = ServiceLevels(
            f"{name}-slos", SlosArgs(cfg, MONITORING, depends_on=(prom.crds,)), opts=on_k8s
        )
        tests = ReliabilityTests(
            f"{name}-tests",
            ReliabilityTestsArgs(cfg, slos.compiled.services, slos.compiled.catalogs or {}, MONITORING,
                                 depends_on=(*operators, *monitoring_ns)),
            opts=on_k8s,
        )

        self.urls = {**prom.urls, **loki.urls, **tempo.urls, "grafana": grafana.url}
        self.grafana_admin_password = grafana.admin_password
        self.register_outputs(
            {
                "environment": cfg.environment,
                "urls": self.urls,
                "buckets": buckets,
                "sloRules": slos.rule_names,
                "reliabilityTests": tests.object_names,
            }
        )
