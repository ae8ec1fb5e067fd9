"""SLOs: what follows from the specs in this environment, applied to the cluster.

- the compiler's PrometheusRules;
- the Grafana dashboards, one ConfigMap each, labelled for Grafana's dashboard
  sidecar (`grafana_dashboard: "1"`) with the `grafana_folder` annotation naming
  its folder: the owning team for a service's dashboard, `SLOs` for the overview
  (components/grafana.py sets the sidecar up to read both);
- the Alertmanager configuration Secret (`alertmanager-config`, key
  `alertmanager.yaml`) that kube-prometheus-stack mounts: routing by team and
  severity from the stack's `alerting` config.

Specs are compiled with the stack's environment (`--env`), so per-env overrides
in the specs apply. Invalid specs, specs whose owner team has no routing in
this environment, and dashboards over the 1 MiB a ConfigMap holds stop the
program with `FILE:LINE: ...` lines before anything is created.

The Kubernetes provider treats ConfigMaps as immutable, so a changed dashboard
replaces its ConfigMap; with a fixed name it deletes the old one first
(pulumi-kubernetes plans delete-before-replace for user-named objects). The
sidecar then removes and rewrites the file and Grafana reloads the dashboard
under the same uid, so links and bookmarks keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from reliability.alerting.generate import RoutingError, checked_config
from reliability.alerting.routing import CONFIG_KEY, CONFIG_SECRET, parse_routing, unrouted
from reliability.durations import Duration
from reliability.platform.config import StackConfig
from reliability.slo.generators import dashboards, prometheusrule, rules
from reliability.slo.load import load
from reliability.yamlio import dump_json_compact

from . import kube
from .grafana import DASHBOARD_LABEL, DASHBOARD_LABEL_VALUE, FOLDER_ANNOTATION

PROJECT_DIR = Path(__file__).resolve().parent.parent
# ValidateConfigMap in Kubernetes: the sum of all data values may not exceed MaxSecretSize.
CONFIGMAP_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CompiledSlos:
    rules: list[dict[str, Any]]  # PrometheusRule objects
    dashboards: list[dashboards.GeneratedDashboard]
    alertmanager_yaml: str
    services: tuple[Any, ...] = ()  # the model, for the reliability tests of the same specs
    catalogs: dict[Duration, Any] | None = None


def compile_specs(cfg: StackConfig, namespace: str) -> CompiledSlos:
    """PrometheusRules, dashboards and alertmanager.yaml; raises pulumi.RunError listing every problem.

    Calls the compiler's generators directly: `compile_services` would also write every
    rule file as YAML text, which the program does not need (a third of a 500-SLO render).
    """
    specs, env = cfg.slo_specs, cfg.environment
    path = Path(specs) if Path(specs).is_absolute() else PROJECT_DIR / specs
    result = load([str(path)], env=env)
    routing, routing_problems = parse_routing(cfg.alerting, env, cfg.credential_keys)
    problems = [str(p) for p in result.problems.errors] + routing_problems
    if not problems:
        missing = unrouted(result.services, routing, f"stacks/Pulumi.{cfg.stack}.yaml")
        problems = [f"{service.team_source or service.source}: -: team: {message}" for service, message in missing]
    if problems:
        # Name files as users see them in the repository, not by absolute path.
        lines = "\n".join(f"  {p}".replace(f"{PROJECT_DIR}/", "") for p in problems)
        raise pulumi.RunError(
            f"invalid SLO specs in {specs} for environment '{env}' ({len(problems)} problem(s)):\n{lines}"
        )
    try:
        alertmanager_yaml = checked_config(routing)
    except RoutingError as err:
        raise pulumi.RunError(f"the generated alertmanager.yaml for '{env}' is invalid:\n{err}") from None
    warning = short_history(result.services, cfg.retention.prometheus, env)
    if warning:
        pulumi.log.warn(warning)
    services = dashboards.with_dashboard_links(result.services, result.catalogs, cfg.grafana_url)
    return CompiledSlos(
        [
            prometheusrule.prometheus_rule(service, rules.service_rules(service, result.catalogs), namespace)
            for service in services
        ],
        dashboards.all_dashboards(services, result.catalogs) if services else [],
        alertmanager_yaml,
        tuple(result.services),
        result.catalogs,
    )


# Where an error budget must cover the whole SLO period. local and dev keep a short history on
# purpose (cost): their budgets cover at most the retention, as docs/operations.md says, so a
# warning on every run there would only teach people to ignore warnings.
FULL_BUDGET_ENVIRONMENTS = ("staging", "prod")


def short_history(services: list[Any], retention: str, environment: str) -> str | None:
    """A warning when Prometheus keeps less history than an SLO period: rules see only what it keeps."""
    if environment not in FULL_BUDGET_ENVIRONMENTS:
        return None
    kept = Duration.parse(retention)
    short = sorted(f"{service.name}/{slo.name} ({slo.period})" for service in services for slo in service.slos
                   if slo.period > kept)
    if not short:
        return None
    named = ", ".join(short[:5]) + (f" and {len(short) - 5} more" if len(short) > 5 else "")
    return (f"Prometheus in {environment} keeps {retention} of history, so the error budget of "
            f"{len(short)} SLO(s) covers at most that: {named}; raise retention.prometheus "
            "to the longest SLO period")


def dashboard_configmaps(generated: list[dashboards.GeneratedDashboard], namespace: str) -> list[dict[str, Any]]:
    """One ConfigMap per dashboard for the Grafana sidecar; raises pulumi.RunError naming every one over 1 MiB."""
    maps, too_big = [], []
    for dash in generated:
        # Compact: Grafana reads it, people review `sre slo compile`'s indented files; indenting
        # 12 MB of dashboards for a 500-SLO stack took a fifth of the render.
        text = dump_json_compact(dash.model)
        size = len(text.encode("utf-8"))
        if size > CONFIGMAP_MAX_BYTES:
            too_big.append(f"  {dash.file} ({dash.title}): {size} bytes")
        labels = kube.labels("slo-dashboard", dash.uid) | {DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE}
        if dash.team:
            labels["slo.reliability-as-code.dev/team"] = prometheusrule.label_value(dash.team)
        maps.append({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"dashboard-{dash.uid}",
                "namespace": namespace,
                "labels": labels,
                "annotations": {FOLDER_ANNOTATION: dash.folder},
            },
            "data": {dash.file: text},
        })
    if too_big:
        raise pulumi.RunError(
            f"{len(too_big)} SLO dashboard(s) exceed the {CONFIGMAP_MAX_BYTES} bytes a ConfigMap can hold; "
            "split the service's SLOs over more services or specs:\n" + "\n".join(too_big)
        )
    return maps


@dataclass(frozen=True)
class SlosArgs:
    config: StackConfig
    namespace: str
    depends_on: tuple[pulumi.Resource, ...] = ()  # the prometheus-operator CRDs (after the namespace)


class ServiceLevels(pulumi.ComponentResource):
    """The SLOs of one environment: PrometheusRules, dashboard ConfigMaps, the Alertmanager config Secret."""

    rule_names: list[str]
    dashboard_names: list[str]
    alertmanager_config: pulumi.Resource
    compiled: CompiledSlos  # what the specs say in this environment, for the reliability tests

    def __init__(self, name: str, args: SlosArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:slos:ServiceLevels", name, None, opts)
        cfg = args.config
        compiled = compile_specs(cfg, args.namespace)
        self.compiled = compiled
        configmaps = dashboard_configmaps(compiled.dashboards, args.namespace)
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        self.rule_names = []
        for rule in compiled.rules:
            meta = rule["metadata"]
            k8s.apiextensions.CustomResource(
                f"{name}-{meta['name']}",
                api_version=rule["apiVersion"],
                kind=rule["kind"],
                metadata=meta,
                spec=rule["spec"],
                opts=after,
            )
            self.rule_names.append(meta["name"])
        self.dashboard_names = []
        for cm in configmaps:
            meta = cm["metadata"]
            k8s.core.v1.ConfigMap(
                f"{name}-{meta['name']}",
                metadata=k8s.meta.v1.ObjectMetaArgs(**meta),
                data=cm["data"],
                opts=after,
            )
            self.dashboard_names.append(meta["name"])
        # No credential in here (they are files), but the operator reads the config from a Secret.
        self.alertmanager_config = kube.secret(
            f"{name}-alertmanager-config",
            CONFIG_SECRET,
            args.namespace,
            pulumi.Output.secret({CONFIG_KEY: compiled.alertmanager_yaml}),
            "alertmanager",
            self,
            list(args.depends_on),
        )
        self.register_outputs(
            {
                "rules": self.rule_names,
                "groups": sum(len(r["spec"]["groups"]) for r in compiled.rules),
                "dashboards": self.dashboard_names,
                "alertmanagerConfigSecret": self.alertmanager_config.metadata.name,
            }
        )
