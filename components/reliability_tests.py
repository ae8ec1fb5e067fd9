"""Reliability tests from the SLO specs, deployed where their specs name the environment.

- load tests (k6 operator TestRuns, and a CronJob re-creating them on schedule) when the
  stack runs the k6 operator (`loadtest.enabled`);
- game days (Chaos Mesh Workflows and Schedules) and the SLO gate that aborts them, when the
  stack runs Chaos Mesh (`chaos.enabled`);
- canary analysis (Argo Rollouts AnalysisTemplates, in the namespace of the service's Rollouts,
  or ClusterAnalysisTemplates), when the stack config says the cluster runs Argo Rollouts
  (`canary.argoRollouts`). This stack does not install Argo Rollouts; without its CRDs the
  templates could not be created, so by default none is deployed (`sre slo compile` still
  writes them for the team's own deployment).

The specs were compiled for this environment, so a test whose `environments` leave it out is
already gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.durations import Duration
from reliability.platform.config import StackConfig
from reliability.slo.generators import canary, gamedays, loadtests
from reliability.slo.generators.endpoints import Endpoints
from reliability.slo.model import Service
from reliability.slo.windows import WindowCatalog
from reliability.testing.gate_manifests import gate_manifests

from . import kube


def documents(cfg: StackConfig, services: list[Service], catalogs: Mapping[Duration, WindowCatalog],
              monitoring: str) -> list[dict[str, Any]]:
    """Every object to deploy for this stack's reliability tests (pure: tested without the engine)."""
    endpoints = Endpoints.in_namespace(monitoring)
    docs: list[dict[str, Any]] = []
    if cfg.loadtest.enabled:
        for service in services:
            docs.extend(loadtests.service_loadtest(service, endpoints) or [])
    if cfg.chaos.enabled:
        for service in services:
            docs.extend(gamedays.service_gamedays(service, endpoints, dict(catalogs)) or [])
        if any(g.abort for s in services for g in s.gamedays):
            docs.extend(gate_manifests(monitoring, endpoints.query))
    if cfg.canary.argo_rollouts:
        for service in services:
            template = canary.analysis_template(service, dict(catalogs), endpoints)
            if template is not None:
                docs.append(template)
    return docs


@dataclass(frozen=True)
class ReliabilityTestsArgs:
    config: StackConfig
    services: tuple[Service, ...]
    catalogs: Mapping[Duration, WindowCatalog]
    monitoring_namespace: str
    depends_on: tuple[pulumi.Resource, ...] = ()  # the k6 operator and Chaos Mesh (their CRDs)


class ReliabilityTests(pulumi.ComponentResource):
    """Load tests, game days, the SLO gate and canary analysis templates of one environment."""

    object_names: list[str]

    def __init__(self, name: str, args: ReliabilityTestsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:testing:ReliabilityTests", name, None, opts)
        docs = documents(args.config, list(args.services), args.catalogs, args.monitoring_namespace)
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        self.object_names = []
        for doc in docs:
            meta = doc["metadata"]
            where = meta.get("namespace", "cluster")  # a ClusterAnalysisTemplate has no namespace
            kube.apply(f"{name}-{doc['kind'].lower()}-{where}-{meta['name']}", doc, after)
            self.object_names.append(f"{doc['kind']}/{where}/{meta['name']}")
        self.register_outputs({"objects": self.object_names})
