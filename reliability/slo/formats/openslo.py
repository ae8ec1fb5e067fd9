"""OpenSLO `openslo/v1` and `openslo/v1alpha` (the latter as Sloth reads it).

What maps, and how:
- `ratioMetric` good/bad/total (v1) and `ratioMetrics` good/bad/total (v1alpha):
  with `counter: true` (v1alpha: `incremental`/`counter`) a query that is a
  plain counter selector becomes `sum(rate(<selector>[{{window}}]))`, as in a
  native spec, and the selectors inside a larger query (`sum(x{...})`) are
  wrapped in `rate(...[{{window}}])`; otherwise the query must
  carry the `{{window}}` placeholder. Good/total stays good/total, so long
  windows sum events instead of averaging ratios (Sloth turns it into a raw
  ratio).
- `ratioMetric.raw` with `rawType`: a precomputed ratio, averaged over windows.
- `thresholdMetric` with an objective's `op`/`value`: samples that break the
  threshold are bad events, all samples are the total (counted per window
  with a subquery).
- rolling `timeWindow`/`timeWindows` give the period (default 30d);
  `target` or `targetPercent` the objective.
- what our format says with `intended: [low-objective]` and `alerting.page.enabled:
  false`, an openslo/v1 SLO says in the annotation `reliability-as-code/intended`
  (`low-objective`, `tickets-only`, comma-separated): OpenSLO has no such fields and
  allows any string under `metadata.annotations`.
What is refused, with the reason: non-Prometheus metric sources, Timeslices
and RatioTimeslices budgeting, calendar-aligned windows, v2alpha.
AlertPolicy, AlertCondition and AlertNotificationTarget documents are read
and ignored with a warning: alerts come from the burn-rate window catalogs
and routing from the stack configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from ...durations import Duration
from ...problems import Location, Problems
from ...yamlio import Document
from .. import build, promql
from ..build import Ctx
from ..model import SLO, WINDOW, Alerting, AlertSpec, Query, RatioSLI, RawSLI, Service
from ..windows import WindowCatalog
from . import schemacheck

API_VERSIONS = ("openslo/v1", "openslo/v1alpha")
SCHEMA = "openslo.json"
UNOWNED = "unowned"
_READ_KINDS = {"openslo/v1": ("SLO", "SLI", "Service", "DataSource"), "openslo/v1alpha": ("SLO", "Service")}
_IGNORED_KINDS = ("AlertPolicy", "AlertCondition", "AlertNotificationTarget")
_NEGATE = {"lt": ">=", "lte": ">", "gt": "<=", "gte": "<"}
_SHORTHAND = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")
# The opt-ins of an openslo/v1 SLO, in its metadata.annotations (the format has no fields for them).
INTENDED_ANNOTATION = "reliability-as-code/intended"
TICKETS_ONLY = "tickets-only"
_INTENDED = (build.LOW_OBJECTIVE, TICKETS_ONLY)


@dataclass
class _Index:
    slis: dict[str, tuple[Document, Any]]
    sources: dict[str, str]  # DataSource name -> type
    services: dict[str, Document]


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def map_documents(
    docs: list[Document], problems: Problems, catalogs: Mapping[Duration, WindowCatalog], env: str | None
) -> list[Service]:
    index = _Index({}, {}, {})
    slo_docs: list[Document] = []
    for doc in docs:
        api, kind = doc.data.get("apiVersion"), doc.data.get("kind")
        ctx = Ctx(doc, problems)
        if kind in _IGNORED_KINDS:
            ctx.warn(("kind",), f"{kind} is not used: alerts come from the burn-rate window catalogs, "
                               "routing from the stack configuration")
            continue
        if kind not in _READ_KINDS[api]:
            ctx.error(("kind",), f"OpenSLO kind {kind!r} is not supported in {api} "
                                 f"(read: {', '.join(_READ_KINDS[api])})")
            continue
        version = api.split("/")[1]
        failed = schemacheck.check(doc, SCHEMA, problems, partial(_slo_name, doc), definition=f"{version}.{kind}")
        if failed:
            continue
        name = doc.data["metadata"]["name"]
        if kind == "SLO":
            slo_docs.append(doc)
        elif kind == "SLI":
            index.slis[name] = (doc, doc.data["spec"])
        elif kind == "DataSource":
            index.sources[name] = str(doc.data["spec"]["type"])
        elif kind == "Service":
            index.services[name] = doc

    by_service: dict[str, list[SLO]] = {}
    first_doc: dict[str, Document] = {}
    for doc in slo_docs:
        mapped = (_map_v1 if doc.data["apiVersion"] == "openslo/v1" else _map_v1alpha)(doc, index, problems, catalogs)
        for slo in mapped:
            existing = {s.name: s for s in by_service.get(slo.service, [])}
            if slo.name in existing:
                Ctx(doc, problems, slo.name).error(
                    ("metadata", "name"), f"duplicate SLO name '{slo.name}' in service '{slo.service}' "
                                          f"(first defined at {existing[slo.name].source})")
                continue
            by_service.setdefault(slo.service, []).append(slo)
            first_doc.setdefault(slo.service, doc)
    if not slo_docs and docs and not problems:
        for doc in docs[:1]:
            Ctx(doc, problems).warn((), "no OpenSLO SLO documents here: nothing to compile")
    if problems:
        return []
    services = []
    for name, slos in sorted(by_service.items()):
        service_doc = index.services.get(name)
        description = str(service_doc.data.get("spec", {}).get("description", "")) if service_doc else ""
        team = next((s.team for s in slos if s.team != UNOWNED), UNOWNED)
        doc = first_doc[name]
        services.append(Service(
            name=name, team=team, tier=slos[0].tier, description=description, labels=(),
            slos=tuple(slos), source=Location(doc.file, doc.line), spec_format=doc.data["apiVersion"],
        ))
    return services


def _slo_name(doc: Document, path: tuple[str | int, ...]) -> str | None:
    if doc.data.get("kind") != "SLO":
        return None
    meta = doc.data.get("metadata")
    return str(meta.get("name")) if isinstance(meta, dict) and meta.get("name") else None


def _team_and_tier(doc: Document, index: _Index, ctx: Ctx) -> tuple[str, str, str]:
    """Team, tier and runbook from the SLO's metadata, falling back to its Service document."""
    meta = doc.data["metadata"]
    service_doc = index.services.get(str(doc.data["spec"].get("service")))
    service_meta = service_doc.data["metadata"] if service_doc else {}
    sources = [m for m in (meta, service_meta) if isinstance(m, dict)]
    team = tier = runbook = ""
    for source in sources:
        labels = source.get("labels") or {}
        if not team and (labels.get("team") or labels.get("owner")):
            values = labels.get("team") or labels.get("owner")
            team = _first(values)
            if isinstance(values, list) and len(values) > 1:
                ctx.warn(("metadata", "labels", "team"), f"several teams {values}: alerts go to the first, '{team}'")
        tier = tier or _first(labels.get("tier") or labels.get("serviceTier"))
        annotations = source.get("annotations") or {}
        runbook = runbook or next((v for k, v in sorted(annotations.items())
                                   if k.split("/")[-1] in ("runbook_url", "runbook")), "")
    if not team:
        ctx.warn(("metadata", "labels"), f"no owner team (metadata.labels.team or owner): alerts carry "
                                         f"team=\"{UNOWNED}\" and reach the catch-all route")
        team = UNOWNED
    if not runbook:
        ctx.warn(("metadata", "annotations"), "no runbook: add a runbook_url annotation so pages link to what to do")
    return team, tier, runbook


def _period(doc: Document, ctx: Ctx, catalogs: Mapping[Duration, WindowCatalog]) -> Duration | None:
    spec = doc.data["spec"]
    if doc.data["apiVersion"] == "openslo/v1":
        windows = spec.get("timeWindow") or []
        if not windows:
            return build.period(None, ctx, ("spec",), catalogs)
        window, path = windows[0], ("spec", "timeWindow", 0)
        if window.get("isRolling") is False or "calendar" in window:
            ctx.error(path, "calendar-aligned time windows are not supported: use a rolling window (isRolling: true)")
            return None
        match = _SHORTHAND.match(window["duration"])
        if not match or match.group(2) in "MQY":
            ctx.error((*path, "duration"), f"{window['duration']!r} is not a fixed rolling duration: "
                                           "use minutes, hours, days or weeks (e.g. 28d, 4w)")
            return None
        return build.period(window["duration"], ctx, (*path, "duration"), catalogs)
    windows = spec.get("timeWindows") or []
    if not windows:
        return build.period(None, ctx, ("spec",), catalogs)
    path = ("spec", "timeWindows", 0)
    if len(windows) > 1:
        ctx.error(("spec", "timeWindows"), "only one time window is supported")
        return None
    window = windows[0]
    if window.get("isRolling") is False or "calendar" in window:
        ctx.error(path, "calendar-aligned time windows are not supported: use a rolling window (isRolling: true)")
        return None
    if str(window.get("unit", "")).lower() != "day" or not isinstance(window.get("count"), int):
        ctx.error(path, "time windows must be counted in days (unit: Day), as Sloth reads them")
        return None
    return build.period(f"{window['count']}d", ctx, path, catalogs)


def _budgeting(doc: Document, ctx: Ctx) -> bool:
    method = doc.data["spec"].get("budgetingMethod", "Occurrences")
    if method != "Occurrences":
        ctx.error(("spec", "budgetingMethod"), f"budgeting method {method!r} is not supported: this compiler "
                                               "counts events (Occurrences); time slices need another rule model")
        return False
    return True


def _intended(doc: Document, ctx: Ctx) -> set[str]:
    """The entries of the SLO's `reliability-as-code/intended` annotation."""
    annotations = doc.data["metadata"].get("annotations") or {}
    value = annotations.get(INTENDED_ANNOTATION)
    if not isinstance(value, str):
        return set()
    entries = {e.strip() for e in value.split(",") if e.strip()}
    unknown = sorted(entries - set(_INTENDED))
    if unknown:
        known = ", ".join(repr(e) for e in _INTENDED)
        ctx.error(("metadata", "annotations", INTENDED_ANNOTATION),
                  f"unknown entry {', '.join(repr(e) for e in unknown)}: the annotation is a comma-separated "
                  f"list of {known}")
    return entries & set(_INTENDED)


def _objective(raw: dict[str, Any], ctx: Ctx, path: tuple[str | int, ...], intended: set[str]) -> Any:
    if "target" in raw and "targetPercent" in raw:
        ctx.error(path, "give target or targetPercent, not both")
        return None
    if "targetPercent" in raw:
        return build.objective(raw["targetPercent"], ctx, (*path, "targetPercent"),
                               low_intended=build.LOW_OBJECTIVE in intended,
                               low_fix=f"add `{INTENDED_ANNOTATION}: {build.LOW_OBJECTIVE}` "
                                       "to metadata.annotations")
    if "target" in raw:
        return build.objective(raw["target"], ctx, (*path, "target"), as_ratio=True)
    ctx.error(path, "missing target (a ratio such as 0.999) or targetPercent (such as 99.9)")
    return None


def _prometheus_query(source: Any, ctx: Ctx, path: tuple[str | int, ...], index: _Index) -> str | None:
    """The PromQL of a v1 `metricSource`, if it is a Prometheus one."""
    ms = source["metricSource"]
    kind = ms.get("type")
    if kind is None and ms.get("metricSourceRef"):
        kind = index.sources.get(ms["metricSourceRef"])
        if kind is None:
            ctx.error((*path, "metricSource", "metricSourceRef"),
                      f"no DataSource named {ms['metricSourceRef']!r} in the input: add it or set type: Prometheus")
            return None
    if str(kind).lower() != "prometheus":
        ctx.error((*path, "metricSource", "type"),
                  f"metric source type {kind!r} cannot be compiled to Prometheus rules: "
                  "only Prometheus sources are supported")
        return None
    query = ms["spec"].get("query")
    if not isinstance(query, str) or not query.strip():
        ctx.error((*path, "metricSource", "spec", "query"), "missing the PromQL query")
        return None
    return query.strip()


def _event_query(text: str, counter: bool, ctx: Ctx, path: tuple[str | int, ...], base: Duration) -> Query | None:
    normalized = promql.normalize_placeholder(text)
    if counter and promql.plain_selector(normalized) is not None:
        # One event count per SLO, as a native spec's plain counter: sum(rate(sel[{{window}}])).
        return build.query(normalized, ctx, path, base, selector_ok=True)
    if counter and WINDOW not in normalized:
        try:
            normalized = promql.wrap_counters(normalized)
        except promql.QueryError as exc:
            ctx.error(path, str(exc))
            return None
    elif not counter and WINDOW not in normalized:
        ctx.error(path, "query has no {{window}} placeholder: set counter: true for plain counters, "
                        "or write ranges as [{{window}}]")
        return None
    return build.query(normalized, ctx, path, base, selector_ok=False)


def _threshold_sli(query: str, objective: dict[str, Any], ctx: Ctx, path: tuple[str | int, ...],
                   opath: tuple[str | int, ...], base: Duration) -> RatioSLI | None:
    """Samples breaking the objective's threshold are bad events; every sample counts."""
    if WINDOW in promql.normalize_placeholder(query):
        ctx.error(path, "a thresholdMetric query is an instant query: remove the {{window}} placeholder")
        return None
    op, value = objective.get("op"), objective.get("value")
    if op not in _NEGATE or value is None:
        ctx.error(opath, "a thresholdMetric objective needs op (lt, lte, gt, gte) and value")
        return None
    threshold = build.to_decimal(value)
    try:
        promql.parse(query)
    except promql.QueryError as exc:
        ctx.error(path, str(exc))
        return None
    bad = f"sum(count_over_time(({query} {_NEGATE[op]} {threshold})[{WINDOW}:]))"
    total = f"sum(count_over_time(({query})[{WINDOW}:]))"
    errors_q = build.query(bad, ctx, path, base, selector_ok=False)
    total_q = build.query(total, ctx, path, base, selector_ok=False)
    return RatioSLI(total=total_q, errors=errors_q) if errors_q and total_q else None


def _v1_sli(spec: dict[str, Any], objective: dict[str, Any], ctx: Ctx, path: tuple[str | int, ...],
            opath: tuple[str | int, ...], index: _Index, base: Duration) -> Any:
    if "thresholdMetric" in spec:
        tpath = (*path, "thresholdMetric")
        query = _prometheus_query(spec["thresholdMetric"], ctx, tpath, index)
        return _threshold_sli(query, objective, ctx, (*tpath, "metricSource", "spec", "query"), opath, base) \
            if query else None
    ratio, rpath = spec["ratioMetric"], (*path, "ratioMetric")
    counter = ratio.get("counter") is True
    if "raw" in ratio:
        qpath = (*rpath, "raw", "metricSource", "spec", "query")
        query = _prometheus_query(ratio["raw"], ctx, (*rpath, "raw"), index)
        if query is None:
            return None
        if ratio.get("rawType") not in ("success", "failure"):
            ctx.error((*rpath, "rawType"), "raw ratios need rawType: success or failure")
            return None
        normalized = promql.normalize_placeholder(query)
        if WINDOW not in normalized:  # a ratio gauge: average it over each window
            normalized = f"avg_over_time(({normalized})[{WINDOW}:])"
        if ratio["rawType"] == "success":
            normalized = f"1 - ({normalized})"
        built = build.query(normalized, ctx, qpath, base, selector_ok=False)
        return RawSLI(built) if built else None
    numerator = "good" if "good" in ratio else "bad" if "bad" in ratio else None
    if numerator is None or "total" not in ratio or ("good" in ratio and "bad" in ratio):
        ctx.error(rpath, "give total with exactly one of good or bad (or raw with rawType)")
        return None
    queries: dict[str, Query | None] = {}
    for key in (numerator, "total"):
        text = _prometheus_query(ratio[key], ctx, (*rpath, key), index)
        qpath = (*rpath, key, "metricSource", "spec", "query")
        queries[key] = _event_query(text, counter, ctx, qpath, base) if text else None
    return _ratio(queries, numerator, ctx, (*rpath, numerator, "metricSource", "spec", "query"))


def _ratio(queries: dict[str, Query | None], numerator: str, ctx: Ctx,
           part_path: tuple[str | int, ...]) -> RatioSLI | None:
    """good/total or bad/total, once every query is known to be valid."""
    total, part = queries.get("total"), queries.get(numerator)
    if total is None or part is None:
        return None
    if numerator == "good":
        return build.ratio_sli(None, part, total, ctx, part_path)
    return build.ratio_sli(part, None, total, ctx, part_path)


def _map_v1(doc: Document, index: _Index, problems: Problems,
            catalogs: Mapping[Duration, WindowCatalog]) -> list[SLO]:
    spec, name = doc.data["spec"], doc.data["metadata"]["name"]
    ctx = Ctx(doc, problems, name)
    team, tier, runbook = _team_and_tier(doc, index, ctx)
    period = _period(doc, ctx, catalogs)
    ok = _budgeting(doc, ctx)
    if spec.get("alertPolicies"):
        ctx.warn(("spec", "alertPolicies"), "alert policies are not used: alerts come from the burn-rate catalogs")
    base = catalogs[period].base if period else Duration(300_000)
    objectives = spec["objectives"]
    intended = _intended(doc, ctx)
    out = []
    for i, objective in enumerate(objectives):
        opath = ("spec", "objectives", i)
        slo_name = name if len(objectives) == 1 else f"{name}-{i}"
        octx = Ctx(doc, problems, slo_name)
        if "compositeWeight" in objective:
            octx.warn((*opath, "compositeWeight"), "composite SLOs are compiled as one SLO per objective")
        target = _objective(objective, octx, opath, intended)
        sli_spec, spath = _resolve_sli(spec, objective, octx, opath, index)
        # An indicator shared by several objectives is reported once, under the SLO's own name.
        sctx = octx if spath[:3] == opath else ctx
        sli = _v1_sli(sli_spec, objective, sctx, spath, opath, index, base) if sli_spec else None
        if not ok or target is None or period is None or sli is None:
            continue
        out.append(_slo(doc, octx, slo_name, spec, target, catalogs[period], sli, team, tier, runbook, opath,
                        tickets_only=TICKETS_ONLY in intended))
    return out


def _resolve_sli(spec: dict[str, Any], objective: dict[str, Any], ctx: Ctx, opath: tuple[str | int, ...],
                 index: _Index) -> tuple[dict[str, Any] | None, tuple[str | int, ...]]:
    for holder, hpath in ((objective, opath), (spec, ("spec",))):
        if "indicator" in holder:
            return holder["indicator"]["spec"], (*hpath, "indicator", "spec")
        if "indicatorRef" in holder:
            ref = holder["indicatorRef"]
            if ref not in index.slis:
                ctx.error((*hpath, "indicatorRef"), f"no SLI named {ref!r} in the input")
                return None, hpath
            sli_doc, sli_spec = index.slis[ref]
            return sli_spec, ("spec",) if sli_doc is None else (*hpath, "indicatorRef")
    ctx.error(("spec",), "missing indicator or indicatorRef")
    return None, opath


def _map_v1alpha(doc: Document, index: _Index, problems: Problems,
                 catalogs: Mapping[Duration, WindowCatalog]) -> list[SLO]:
    spec, name = doc.data["spec"], doc.data["metadata"]["name"]
    ctx = Ctx(doc, problems, name)
    team, tier, runbook = _team_and_tier(doc, index, ctx)
    period = _period(doc, ctx, catalogs)
    ok = _budgeting(doc, ctx)
    base = catalogs[period].base if period else Duration(300_000)
    out = []
    for i, objective in enumerate(spec["objectives"]):
        opath = ("spec", "objectives", i)
        slo_name = f"{name}-{i}"  # as Sloth names them
        octx = Ctx(doc, problems, slo_name)
        target = build.objective(objective.get("target"), octx, (*opath, "target"), as_ratio=True) \
            if "target" in objective else None
        if "target" not in objective:
            octx.error(opath, "missing target (a ratio such as 0.999)")
        sli: Any = None
        if "ratioMetrics" in objective:
            sli = _v1alpha_ratio(objective["ratioMetrics"], octx, (*opath, "ratioMetrics"), base)
        elif "thresholdMetric" in (spec.get("indicator") or {}):
            tm, tpath = spec["indicator"]["thresholdMetric"], ("spec", "indicator", "thresholdMetric")
            if _v1alpha_source_ok(tm, octx, tpath):
                sli = _threshold_sli(tm["query"], objective, octx, (*tpath, "query"), opath, base)
        else:
            octx.error(opath, "missing ratioMetrics (or a thresholdMetric indicator)")
        if not ok or target is None or period is None or sli is None:
            continue
        out.append(_slo(doc, octx, slo_name, spec, target, catalogs[period], sli, team, tier, runbook, opath))
    return out


def _v1alpha_source_ok(query: dict[str, Any], ctx: Ctx, path: tuple[str | int, ...]) -> bool:
    if str(query.get("source", "prometheus")).lower() not in ("prometheus", "sloth"):
        ctx.error((*path, "source"), f"source {query.get('source')!r} cannot be compiled: use prometheus")
        return False
    if str(query.get("queryType", "promql")).lower() != "promql":
        ctx.error((*path, "queryType"), f"query type {query.get('queryType')!r} is not supported: use promql")
        return False
    return True


def _v1alpha_ratio(ratio: dict[str, Any], ctx: Ctx, path: tuple[str | int, ...], base: Duration) -> RatioSLI | None:
    numerator = "good" if "good" in ratio else "bad" if "bad" in ratio else None
    if numerator is None or ("good" in ratio and "bad" in ratio):
        ctx.error(path, "give total with exactly one of good or bad")
        return None
    counter = ratio.get("incremental") is True or ratio.get("counter") is True
    queries: dict[str, Query | None] = {}
    for key in (numerator, "total"):
        if not _v1alpha_source_ok(ratio[key], ctx, (*path, key)):
            return None
        queries[key] = _event_query(ratio[key]["query"], counter, ctx, (*path, key, "query"), base)
    return _ratio(queries, numerator, ctx, (*path, numerator, "query"))


def _slo(doc: Document, ctx: Ctx, name: str, spec: dict[str, Any], target: Any, catalog: WindowCatalog,
         sli: Any, team: str, tier: str, runbook: str, opath: tuple[str | int, ...], *,
         tickets_only: bool = False) -> SLO:
    service = str(spec["service"])
    period = catalog.period
    # OpenSLO has no switch for our page alert; an openslo/v1 SLO's annotation is one (v1alpha has no annotations).
    page_off = (f"`{INTENDED_ANNOTATION}: {TICKETS_ONLY}` in metadata.annotations"
                if doc.data["apiVersion"] == "openslo/v1" else None)
    build.check_burn_thresholds(target, catalog, ctx, opath, {"page": not tickets_only}, page_off)
    return SLO(
        service=service, name=name, description=str(spec.get("description", "")), objective=target,
        period=period, sli=sli, team=team, tier=tier, labels=(),
        alerting=Alerting(name=build.default_alert_name(service, name), page=AlertSpec(enabled=not tickets_only)),
        runbook_url=runbook,
        source=ctx.loc(opath), spec_format=doc.data["apiVersion"],
    )

