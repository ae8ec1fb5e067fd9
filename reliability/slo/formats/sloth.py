"""Sloth specs: `version: prometheus/v1` and Kubernetes `PrometheusServiceLevel`.

Mapping choices, where Sloth and this compiler differ:
- the owner team comes from `labels.team`, else `labels.owner`; without either
  the alerts carry `team="unowned"` and reach the catch-all route;
- `severity` labels on page/ticket alerts are dropped (with a warning): routing
  and inhibition rely on `severity` being `page` or `ticket`;
- a runbook comes from the `runbook_url` or `runbook` annotation;
- SLO plugins are not run; `denominator_corrected_rules` is what the long
  windows here do anyway (errors and totals are summed, not ratios averaged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...durations import Duration
from ...problems import Location, Problems
from ...yamlio import Document
from .. import build
from ..build import Ctx
from ..model import SLO, Alerting, Service
from ..windows import WindowCatalog
from . import schemacheck

# The placeholder as Sloth spells it; hints in a Sloth file must use it (Sloth rejects `{{window}}`).
SLOTH_WINDOW = "{{.window}}"

PROMETHEUS_V1 = "prometheus/v1"
K8S_API_VERSION = "sloth.slok.dev/v1"
UNOWNED = "unowned"
DENOMINATOR_CORRECTED = "sloth.dev/contrib/denominator_corrected_rules/v1"

# Field names differ between the two Sloth flavours.
_SNAKE = {"error_ratio_query": "error_ratio_query", "error_query": "error_query", "total_query": "total_query",
          "page_alert": "page_alert", "ticket_alert": "ticket_alert", "slo_plugins": "slo_plugins"}
_CAMEL = {"error_ratio_query": "errorRatioQuery", "error_query": "errorQuery", "total_query": "totalQuery",
          "page_alert": "pageAlert", "ticket_alert": "ticketAlert", "slo_plugins": "sloPlugins"}


def _plugins(value: Any, ctx: Ctx, path: tuple[str | int, ...]) -> None:
    chain = value.get("chain") if isinstance(value, dict) else None
    for index, plugin in enumerate(chain or []):
        if not isinstance(plugin, dict):
            continue
        pid = plugin.get("id")
        where = (*path, "chain", index, "id")
        if pid == DENOMINATOR_CORRECTED:
            ctx.warn(where, "plugin not needed: long windows here already sum errors and totals (traffic-weighted)")
        else:
            ctx.warn(where, f"Sloth SLO plugin {pid!r} is not run by this compiler; its rules are not generated")


def map_document(
    doc: Document, problems: Problems, catalogs: Mapping[Duration, WindowCatalog], env: str | None
) -> list[Service]:
    mark = problems.mark()
    data = doc.data
    k8s = data.get("apiVersion") == K8S_API_VERSION
    keys = _CAMEL if k8s else _SNAKE
    prefix: tuple[str | int, ...] = ("spec",) if k8s else ()
    body: dict[str, Any] = build.field_map(data, "spec") if k8s else data
    spec_format = "sloth.slok.dev/v1 PrometheusServiceLevel" if k8s else "sloth prometheus/v1"

    def slo_of(path: tuple[str | int, ...]) -> str | None:
        rel = path[len(prefix):]
        if len(rel) >= 2 and rel[0] == "slos" and isinstance(rel[1], int) and isinstance(body, dict):
            slos = body.get("slos")
            if isinstance(slos, list) and rel[1] < len(slos) and isinstance(slos[rel[1]], dict):
                return str(slos[rel[1]].get("name", f"slos[{rel[1]}]"))
        return None

    failed = schemacheck.check(doc, "sloth-k8s-v1.json" if k8s else "sloth-prometheus-v1.json", problems, slo_of)
    ctx = Ctx(doc, problems, None, frozenset(failed))
    if not isinstance(body, dict):
        return []
    service = str(body.get("service", "?"))
    raw_labels = build.field_map(body, "labels")
    team = str(raw_labels.get("team") or raw_labels.get("owner") or "")
    tier = str(raw_labels.get("tier", ""))
    label_input = {k: v for k, v in raw_labels.items() if k != "team"}
    service_labels = build.labels(label_input, ctx, (*prefix, "labels"), reserved="drop")
    if not team:
        ctx.warn((*prefix, "labels"), f"no owner team (labels.team or labels.owner): alerts carry team=\"{UNOWNED}\" "
                                      "and reach the catch-all route")
        team = UNOWNED
    if keys["slo_plugins"] in body:
        _plugins(body[keys["slo_plugins"]], ctx, (*prefix, keys["slo_plugins"]))

    slos: list[SLO] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(build.field_list(body, "slos")):
        if not isinstance(raw, dict):
            continue
        path = (*prefix, "slos", index)
        name = str(raw.get("name", f"slos[{index}]"))
        sctx = Ctx(doc, problems, name, ctx.failed)
        if name in seen:
            sctx.error((*path, "name"), f"duplicate SLO name '{name}' in service '{service}' "
                                        f"(first defined at line {seen[name]})")
            continue
        seen[name] = sctx.loc((*path, "name")).line
        slo = _map_slo(raw, sctx, path, keys, service, team, tier, service_labels, catalogs, spec_format)
        if slo is not None:
            slos.append(slo)
    if problems.errors_since(mark) or not slos:  # this document's errors, not an earlier file's
        return []
    return [Service(name=service, team=team, tier=tier, description="", labels=service_labels,
                    slos=tuple(slos), source=Location(doc.file, doc.line), spec_format=spec_format,
                    team_source=ctx.loc((*prefix, "labels", "team" if "team" in raw_labels else "owner")))]


def _map_slo(
    raw: dict[str, Any], ctx: Ctx, path: tuple[str | int, ...], keys: dict[str, str], service: str, team: str,
    tier: str, service_labels: tuple[tuple[str, str], ...], catalogs: Mapping[Duration, WindowCatalog],
    spec_format: str,
) -> SLO | None:
    # Sloth's format has no field to say a tiny objective is meant; our format has `intended`.
    objective = build.objective(raw.get("objective"), ctx, (*path, "objective"),
                                low_fix="write this SLO in the reliability-as-code/v1 format with "
                                        f"`intended: [{build.LOW_OBJECTIVE}]`")
    period = build.period(None, ctx, (*path, "objective"), catalogs)  # Sloth's default period: 30d
    base = catalogs[period].base if period else Duration(300_000)
    if "plugins" in raw:
        _plugins(raw["plugins"], ctx, (*path, "plugins"))
    sli_raw = build.field_map(raw, "sli")
    sli: Any = None
    if isinstance(sli_raw.get("events"), dict):
        events, epath = sli_raw["events"], (*path, "sli", "events")
        errors = build.query(events.get(keys["error_query"]), ctx, (*epath, keys["error_query"]), base,
                             selector_ok=False, placeholder=SLOTH_WINDOW)
        total = build.query(events.get(keys["total_query"]), ctx, (*epath, keys["total_query"]), base,
                            selector_ok=False, placeholder=SLOTH_WINDOW)
        sli = build.ratio_sli(errors, None, total, ctx, (*epath, keys["error_query"]))
    elif isinstance(sli_raw.get("raw"), dict):
        sli = build.raw_sli(sli_raw["raw"].get(keys["error_ratio_query"]), ctx,
                            (*path, "sli", "raw", keys["error_ratio_query"]), base, placeholder=SLOTH_WINDOW)
    elif "plugin" in sli_raw and not ctx.bad((*path, "sli")):
        ctx.error((*path, "sli", "plugin"), "Sloth SLI plugins are not supported: write the SLI as sli.events "
                                            "(error and total queries) or sli.raw")
    labels = dict(service_labels) | dict(build.labels(raw.get("labels"), ctx, (*path, "labels"), reserved="drop"))

    alerting_raw = build.field_map(raw, "alerting")
    apath = (*path, "alerting")
    name = alerting_raw.get("name") or build.default_alert_name(service, str(raw.get("name", "")))
    page = build.alert_spec(alerting_raw.get(keys["page_alert"]), ctx, (*apath, keys["page_alert"]),
                            reserved="drop", disabled_key="disable")
    ticket = build.alert_spec(alerting_raw.get(keys["ticket_alert"]), ctx, (*apath, keys["ticket_alert"]),
                              reserved="drop", disabled_key="disable")
    alerting = Alerting(
        name=str(name),
        labels=build.labels(alerting_raw.get("labels"), ctx, (*apath, "labels"), reserved="drop"),
        annotations=build.annotation_map(alerting_raw.get("annotations"), ctx, (*apath, "annotations")),
        page=page, ticket=ticket,
    )
    annotations = dict(alerting.annotations) | dict(page.annotations)
    runbook = annotations.get("runbook_url") or annotations.get("runbook") or ""
    if not runbook and (page.enabled or ticket.enabled):
        ctx.warn(apath, "no runbook: add annotations.runbook_url so pages link to what to do")
    if objective is None or period is None or sli is None:
        return None
    build.check_burn_thresholds(objective, catalogs[period], ctx, (*path, "objective"),
                                {"page": page.enabled, "ticket": ticket.enabled},
                                f"alerting.{keys['page_alert']}.disable: true")
    return SLO(
        service=service, name=ctx.slo or "", description=str(raw.get("description", "")),
        objective=objective, period=period, sli=sli, team=team, tier=tier,
        labels=tuple(sorted(labels.items())), alerting=alerting, runbook_url=runbook,
        source=ctx.loc(path), spec_format=spec_format,
    )
