"""SLOs: the compiler's PrometheusRules for this environment, applied to the cluster.

Specs are compiled with the stack's environment (`--env`), so per-env overrides
in the specs apply. Invalid specs stop the program with the compiler's
`FILE:LINE: SLO: FIELD: message` lines before anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from reliability.config import StackConfig
from reliability.slo.generators import prometheusrule, rules
from reliability.slo.load import load

PROJECT_DIR = Path(__file__).resolve().parent.parent


def compile_specs(specs: str, env: str, namespace: str) -> list[dict]:
    """PrometheusRule objects of the spec folder; raises pulumi.RunError listing every problem.

    Calls the compiler's generators directly: `compile_services` would also write every
    file as YAML text, which the program does not need (a third of a 500-SLO render).
    """
    path = Path(specs) if Path(specs).is_absolute() else PROJECT_DIR / specs
    result = load([str(path)], env=env)
    if result.problems:
        lines = "\n".join(f"  {p}" for p in result.problems.errors)
        raise pulumi.RunError(
            f"invalid SLO specs in {specs} for environment '{env}' "
            f"({len(result.problems.errors)} problem(s)):\n{lines}"
        )
    return [
        prometheusrule.prometheus_rule(service, rules.service_rules(service, result.catalogs), namespace)
        for service in result.services
    ]


@dataclass(frozen=True)
class SlosArgs:
    config: StackConfig
    namespace: str
    depends_on: tuple[pulumi.Resource, ...] = ()  # the prometheus-operator CRDs


class PrometheusRules(pulumi.ComponentResource):
    rule_names: list[str]

    def __init__(self, name: str, args: SlosArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:slos:PrometheusRules", name, None, opts)
        cfg = args.config
        compiled = compile_specs(cfg.slo_specs, cfg.environment, args.namespace)
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
        self.register_outputs(
            {"rules": self.rule_names, "groups": sum(len(r["spec"]["groups"]) for r in compiled)}
        )
