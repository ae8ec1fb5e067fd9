"""Canary analysis for Argo Rollouts: an `AnalysisTemplate` judged by the SLOs.

One metric per SLO named in `canary`: the SLI's own queries over the shortest
window of its page alerts, with a matcher for the canary's pods injected into
every selector by the PromQL parser. Argo Rollouts names a canary's pods
`<rollout>-<pod-template-hash>-<suffix>`, so the matcher is
`pod=~".+-{{args.canary-hash}}-[a-z0-9]+"`; the Rollout passes the hash with
`valueFrom: {podTemplateHashValue: Latest}`.

A measurement succeeds while the canary's error ratio stays under the SLO's
budget times the burn rate of that shortest page window (14.4 for 30 days: what
would page if the whole service behaved like the canary), and fails above it.

No canary traffic yet gives an empty result (the ratio divides only where there
were requests, so never NaN; `isNaN` is still guarded for raw SLIs). Empty or NaN
matches neither condition, so Argo records the measurement as Inconclusive, not
as an Error (argo-rollouts#1466, #2101): the analysis carries on, and only after
`inconclusiveLimit` such measurements in a row does it end Inconclusive, which
pauses the rollout for a person to decide instead of promoting blind.
"""

from __future__ import annotations

from typing import Any

import promql_parser

from ...yamlio import format_decimal
from .. import naming, promql
from ..model import SLO, RatioSLI, RawSLI, Service
from ..windows import WindowCatalog
from .endpoints import Endpoints

HASH_ARG = "canary-hash"
ADDRESS_ARG = "prometheus-address"
# A regex the parser accepts, replaced by Argo's argument placeholder after printing.
_SENTINEL = "CANARYHASHSENTINEL"
POD_REGEX = f".+-{{{{args.{HASH_ARG}}}}}-[a-z0-9]+"
INTERVAL = "1m"
# Ten minutes without canary traffic end the analysis Inconclusive (the rollout pauses).
INCONCLUSIVE_LIMIT = 10


def canary_query(slo: SLO, window: str) -> str:
    """The canary's error ratio over `window`: empty while the canary served no requests."""
    sli = slo.sli
    matcher = promql_parser.Matcher(promql_parser.MatchOp.Re, "pod", POD_REGEX.replace(
        f"{{{{args.{HASH_ARG}}}}}", _SENTINEL))

    def canary(text: str) -> str:
        return promql.with_matcher(text, matcher).replace(_SENTINEL, f"{{{{args.{HASH_ARG}}}}}")

    if isinstance(sli, RawSLI):
        return canary(sli.error_ratio.render(window))
    if not isinstance(sli, RatioSLI):
        raise TypeError(f"unknown SLI {sli!r}")
    total = canary(sli.total.render(window))
    if sli.errors is not None:
        errors = f"({canary(sli.errors.render(window))}) or ({total}) * 0"
    else:
        good = canary(sli.good.render(window)) if sli.good else "0"
        errors = f"clamp_min(({total}) - (({good}) or ({total}) * 0), 0)"
    return f"({errors}) / (({total}) > 0)"


def page_threshold(slo: SLO, catalog: WindowCatalog) -> tuple[str, str]:
    """(window, highest passing error ratio): the shortest page window and budget x its burn rate."""
    pages = catalog.by_severity("page") or catalog.windows
    shortest = min(pages, key=lambda w: (w.short, -w.burn_rate))
    return str(shortest.short), format_decimal((slo.error_budget * shortest.burn_rate).normalize())


def metric(slo: SLO, catalog: WindowCatalog) -> dict[str, Any]:
    window, limit = page_threshold(slo, catalog)
    measured = "len(result) > 0 && !isNaN(result[0])"
    return {
        "name": slo.name,
        "interval": INTERVAL,
        "failureLimit": 0,
        "inconclusiveLimit": INCONCLUSIVE_LIMIT,
        "successCondition": f"{measured} && result[0] < {limit}",
        "failureCondition": f"{measured} && result[0] >= {limit}",
        "provider": {"prometheus": {"address": f"{{{{args.{ADDRESS_ARG}}}}}",
                                    "query": canary_query(slo, window)}},
    }


def name_of(service: Service) -> str:
    return naming.k8s_name("slo", service.name)


def analysis_template(service: Service, catalogs: dict[Any, WindowCatalog],
                      endpoints: Endpoints) -> dict[str, Any] | None:
    """The `DIR/canary/<service>.yaml` document, or None without `canary`.

    An AnalysisTemplate in the Rollouts' namespace when the spec names it, else a
    ClusterAnalysisTemplate (a Rollout refers to it with `clusterScope: true`).
    """
    if service.canary is None:
        return None
    slos = [s for s in service.slos if s.name in service.canary.slos]
    if not slos:
        return None
    namespace = service.canary.namespace
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate" if namespace else "ClusterAnalysisTemplate",
        "metadata": {
            "name": name_of(service),
            **({"namespace": namespace} if namespace else {}),
            "labels": {
                "app.kubernetes.io/name": "canary-analysis",
                "app.kubernetes.io/instance": naming.k8s_name(service.name),
                "app.kubernetes.io/part-of": "reliability-as-code",
                "app.kubernetes.io/managed-by": "sre",
                "slo.reliability-as-code.dev/service": naming.k8s_name(service.name),
            },
        },
        "spec": {
            "args": [{"name": HASH_ARG}, {"name": ADDRESS_ARG, "value": endpoints.query}],
            "metrics": [metric(s, catalogs[s.period]) for s in slos],
        },
    }
