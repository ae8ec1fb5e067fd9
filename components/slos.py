"""SLOs: what follows from the specs in this environment, applied to the cluster.

The PrometheusRules of the compiled specs and the Alertmanager configuration
Secret (`alertmanager-config`, key `alertmanager.yaml`) that kube-prometheus-stack
mounts: routing by team and severity from the stack's `alerting` config.
Specs are compiled with the stack's environment (`--env`), so per-env overrides
in the specs apply. Invalid specs, and specs whose owner team has no routing in
this environment, stop the program with `FILE:LINE: ...` lines before anything
is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from reliability import alertmanager
from reliability.config import StackConfig
from reliability.slo.generators import prometheusrule, rules
from reliability.slo.load import load

from . import kube

PROJECT_DIR = Path(__file__).resolve().parent.parent


def compile_specs(cfg: StackConfig, namespace: str) -> tuple[list[dict], str]:
    """PrometheusRule objects and alertmanager.yaml; raises pulumi.RunError listing every problem.

    Calls the compiler's generators directly: `compile_services` would also write every
    file as YAML text, which the program does not need (a third of a 500-SLO render).
    """
    specs, env = cfg.slo_specs, cfg.environment
    path = Path(specs) if Path(specs).is_absolute() else PROJECT_DIR / specs
    result = load([str(path)], env=env)
    routing, routing_problems = alertmanager.parse_routing(cfg.alerting, env, cfg.credential_keys)
    problems = [str(p) for p in result.problems.errors] + routing_problems
    if not problems:
        problems = [f"{service.team_source or service.source}: -: team: {message}"
                    for service, message in alertmanager.unrouted(result.services, routing, cfg.stack)]
    if problems:
        # Name files as users see them in the repository, not by absolute path.
        lines = "\n".join(f"  {p}".replace(f"{PROJECT_DIR}/", "") for p in problems)
        raise pulumi.RunError(
            f"invalid SLO specs in {specs} for environment '{env}' ({len(problems)} problem(s)):\n{lines}"
        )
    rule_objects = [
        prometheusrule.prometheus_rule(service, rules.service_rules(service, result.catalogs), namespace)
        for service in result.services
    ]
    return rule_objects, alertmanager.render_config(routing)


@dataclass(frozen=True)
class SlosArgs:
    config: StackConfig
    namespace: str
    depends_on: tuple[pulumi.Resource, ...] = ()  # the prometheus-operator CRDs


class PrometheusRules(pulumi.ComponentResource):
    rule_names: list[str]
    alertmanager_config: pulumi.Resource

    def __init__(self, name: str, args: SlosArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:slos:PrometheusRules", name, None, opts)
        cfg = args.config
        compiled, alertmanager_yaml = compile_specs(cfg, args.namespace)
        # No credential in here (they are files), but the operator reads the config from a Secret.
        self.alertmanager_config = kube.secret(
            f"{name}-alertmanager-config",
            alertmanager.CONFIG_SECRET,
            args.namespace,
            {alertmanager.CONFIG_KEY: alertmanager_yaml},
            "alertmanager",
            self,
            list(args.depends_on),
        )
        self.rule_names = []
        for rule in compiled:
            meta = rule["metadata"]
            k8s.apiextensions.CustomResource(
                f"{name}-{meta['name']}",
                api_version=rule["apiVersion"],
                kind=rule["kind"],
                metadata=meta,
                spec=rule["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
            )
            self.rule_names.append(meta["name"])
        self.register_outputs({
            "rules": self.rule_names,
            "groups": sum(len(r["spec"]["groups"]) for r in compiled),
            "alertmanagerConfigSecret": self.alertmanager_config.metadata.name,
        })
