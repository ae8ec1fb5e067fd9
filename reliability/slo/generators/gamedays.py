"""Game days for Chaos Mesh: the chaos of the spec, stopped when the SLO burns, and a runbook.

Each game day is a Chaos Mesh `Workflow` (or, with a `schedule`, a `Schedule` of
type Workflow with `concurrencyPolicy: Forbid`, chaos-mesh#2606) whose entry runs
two branches side by side for `duration`: the chaos itself and, with `abort`, a
`StatusCheck` with `abortWithStatusCheck`. Chaos Mesh's StatusCheck only compares
HTTP status codes (chaos-mesh#4749), so it calls the SLO gate (`sre gate serve`),
which answers 200 while the SLO's short-window burn rate is below the threshold
and 503 above it, when Prometheus cannot be reached or has no data.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from ...yamlio import format_decimal
from .. import naming
from ..formats.schemacheck import load_schema
from ..formats.testspecs import CHAOS_SCHEMA
from ..model import GameDay, Service
from ..windows import WindowCatalog
from .endpoints import CHAOS_NAMESPACE, Endpoints

# The gate is asked every 10s; three 503s in a row (30s of burn) abort the experiment.
CHECK_INTERVAL_SECONDS = 10
CHECK_FAILURES = 3

def template_field(kind: str) -> str:
    """The field a Workflow template embeds a chaos kind's spec under (`podChaos`, `physicalmachineChaos`),
    as the bundled copy of the Chaos Mesh CRDs records it from the Schedule CRD."""
    return load_schema(CHAOS_SCHEMA)["templateFields"][kind]


def name_of(service: Service, gameday: GameDay) -> str:
    return naming.k8s_name("gameday", service.name, gameday.name)


def short_window(service: Service, slo_name: str, catalogs: dict[Any, WindowCatalog]) -> str:
    """The shortest window of the SLO's page alerts: the burn rate the gate reads."""
    slo = service.slo(slo_name)
    if slo is None:
        raise KeyError(slo_name)
    catalog = catalogs[slo.period]
    return str(min(w.short for w in catalog.by_severity("page") or catalog.windows))


def gate_url(endpoints: Endpoints, service: Service, gameday: GameDay, window: str) -> str:
    if gameday.abort is None:
        raise ValueError("no abort condition")
    query = urllib.parse.urlencode({"service": service.name, "slo": gameday.abort.slo,
                                    "max_burn": format_decimal(gameday.abort.burn_rate), "window": window})
    return f"{endpoints.gate}/gate?{query}"


def workflow_spec(service: Service, gameday: GameDay, endpoints: Endpoints,
                  catalogs: dict[Any, WindowCatalog]) -> dict[str, Any]:
    deadline = str(gameday.duration)
    chaos = {"name": "chaos", "templateType": gameday.kind, "deadline": deadline,
             template_field(gameday.kind): json.loads(gameday.spec_json)}
    templates: list[dict[str, Any]] = [chaos]
    children = ["chaos"]
    if gameday.abort is not None:
        window = short_window(service, gameday.abort.slo, catalogs)
        templates.append({
            "name": "slo-gate",
            "templateType": "StatusCheck",
            "deadline": deadline,
            "abortWithStatusCheck": True,
            "statusCheck": {
                "mode": "Continuous",
                "type": "HTTP",
                "duration": deadline,
                "intervalSeconds": CHECK_INTERVAL_SECONDS,
                "failureThreshold": CHECK_FAILURES,
                "timeoutSeconds": 5,
                "http": {"url": gate_url(endpoints, service, gameday, window), "method": "GET",
                         "criteria": {"statusCode": "200"}},
            },
        })
        children.append("slo-gate")
    entry = {"name": "gameday", "templateType": "Parallel", "deadline": deadline, "children": children}
    return {"entry": "gameday", "templates": [entry, *templates]}


def _metadata(service: Service, gameday: GameDay) -> dict[str, Any]:
    return {
        "name": name_of(service, gameday),
        "namespace": CHAOS_NAMESPACE,
        "labels": {
            "app.kubernetes.io/name": "gameday",
            "app.kubernetes.io/instance": naming.k8s_name(service.name, gameday.name),
            "app.kubernetes.io/part-of": "reliability-as-code",
            "app.kubernetes.io/managed-by": "sre",
            "slo.reliability-as-code.dev/service": naming.k8s_name(service.name),
            "slo.reliability-as-code.dev/team": naming.k8s_name(service.team),
        },
    }


def gameday_object(service: Service, gameday: GameDay, endpoints: Endpoints,
                   catalogs: dict[Any, WindowCatalog]) -> dict[str, Any]:
    workflow = workflow_spec(service, gameday, endpoints, catalogs)
    if gameday.schedule is None:
        return {"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "Workflow",
                "metadata": _metadata(service, gameday), "spec": workflow}
    return {"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "Schedule", "metadata": _metadata(service, gameday),
            "spec": {"schedule": gameday.schedule, "concurrencyPolicy": "Forbid", "historyLimit": 5,
                     "type": "Workflow", "workflow": workflow}}


def service_gamedays(service: Service, endpoints: Endpoints,
                     catalogs: dict[Any, WindowCatalog]) -> list[dict[str, Any]] | None:
    """The documents of `DIR/gamedays/<service>.yaml`, or None without game days."""
    if not service.gamedays:
        return None
    return [gameday_object(service, g, endpoints, catalogs) for g in service.gamedays]


def _targets(spec: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key, value in spec.items():
        if key == "selector" and isinstance(value, dict):
            parts = [f"namespaces {', '.join(value.get('namespaces', []))}"]
            for field in ("labelSelectors", "annotationSelectors", "fieldSelectors"):
                if value.get(field):
                    parts.append(f"{field} " + ", ".join(f"{k}={v}" for k, v in sorted(value[field].items())))
            found.append("; ".join(parts))
        elif isinstance(value, dict):
            found.extend(_targets(value))
    return found


def runbook(service: Service, gameday: GameDay, endpoints: Endpoints, catalogs: dict[Any, WindowCatalog]) -> str:
    """The game day's Markdown runbook: hypothesis, blast radius, abort, manual stop, what to record."""
    spec = json.loads(gameday.spec_json)
    name = name_of(service, gameday)
    kind = "Schedule" if gameday.schedule else "Workflow"
    slos = "\n".join(f"- **{s.name}**: {format_decimal(s.objective_percent)}% over {s.period}"
                     + (f" ({s.description})" if s.description else "") for s in service.slos)
    targets = "\n".join(f"- {t}" for t in _targets(spec)) or "- no pod selector (see the chaos spec)"
    mode = spec.get("mode", "")
    mode_text = f" Mode `{mode}`" + (f" (value `{spec['value']}`)" if "value" in spec else "") + "." if mode else ""
    if gameday.abort is not None:
        window = short_window(service, gameday.abort.slo, catalogs)
        abort = (f"The experiment stops by itself when **{gameday.abort.slo}** burns its error budget faster than "
                 f"**{format_decimal(gameday.abort.burn_rate)}x** over {window}: Chaos Mesh asks the SLO gate every "
                 f"{CHECK_INTERVAL_SECONDS}s and aborts after {CHECK_FAILURES} failed answers in a row. The gate also "
                 f"fails when Prometheus cannot be reached or has no data, so a blind experiment stops too.\n\n"
                 f"Gate: `{gate_url(endpoints, service, gameday, window)}`")
    else:
        abort = ("**None automatic**: this game day has no `abort`. Watch the service's SLO dashboard and stop it "
                 "by hand (below) if the burn-rate alerts fire.")
    when = f"On the cron schedule `{gameday.schedule}` (UTC)" if gameday.schedule else "Once, when deployed"
    environments = ", ".join(gameday.environments) or "every environment but prod"
    return f"""# Game day: {service.name} / {gameday.name}

Generated by `sre slo compile` from {service.source.file}. Do not edit: change the spec and recompile.

{gameday.description or f"What {service.name} does under {gameday.kind}."}

- Owner: team **{service.team}**
- Chaos Mesh {kind} `{CHAOS_NAMESPACE}/{name}`: {gameday.kind} for {gameday.duration}. {when}; in {environments}.

## Hypothesis

While the chaos runs, {service.name} keeps its SLOs:

{slos}

## Blast radius

{gameday.kind}.{mode_text} Targets:

{targets}

Only namespaces that opted in to Chaos Mesh (annotation `chaos-mesh.org/inject=enabled`) can be hit;
kube-system and the monitoring namespace never.

## Abort condition

{abort}

## Stop it by hand

```sh
kubectl -n {CHAOS_NAMESPACE} annotate {kind.lower()} {name} experiment.chaos-mesh.org/pause=true --overwrite
kubectl -n {CHAOS_NAMESPACE} delete {kind.lower()} {name}   # removes the running chaos too
```

Check that nothing is left: `kubectl get podchaos,networkchaos,iochaos,stresschaos,timechaos,dnschaos,httpchaos -A`.

## Record afterwards

- Start and end time, and whether the experiment was aborted (and by what).
- Each SLO's burn rate and error budget spent during the window (the service's SLO dashboard).
- Alerts that fired, and whether they reached the right people.
- What broke that the hypothesis did not expect, and the follow-up tickets.
"""
