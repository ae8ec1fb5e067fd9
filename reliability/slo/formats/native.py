"""Our own spec format, `apiVersion: reliability-as-code/v1`, one file per service.

The JSON Schema in `schema/slo-spec-v1.json` is the contract for editors and
the first check; this module adds what a schema cannot say (PromQL that
parses, periods a catalog covers, reserved labels) and applies the
per-environment overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, NamedTuple

from ...durations import Duration
from ...problems import Location, Problems, join_path
from ...yamlio import Document, line_at
from .. import build
from ..build import Ctx
from ..model import SLO, Alerting, AlertSpec, BudgetPolicy, Service, runs_in
from ..windows import WindowCatalog
from . import schemacheck, testspecs

API_VERSION = "reliability-as-code/v1"
KIND = "ServiceLevelObjectives"
SCHEMA = "slo-spec-v1.json"
# Also the schema's `errorMessage` for the same rule, so editors and the CLI say the same.
NO_RUNBOOK = "no runbook: set runbook_url on the SLO or on the service, so every page links to what to do"


def _slo_name_at(data: Any, path: tuple[str | int, ...]) -> str | None:
    if len(path) >= 2 and path[0] == "slos" and isinstance(path[1], int):
        slos = data.get("slos") if isinstance(data, dict) else None
        if isinstance(slos, list) and path[1] < len(slos) and isinstance(slos[path[1]], dict):
            name = slos[path[1]].get("name")
            return str(name) if name is not None else f"slos[{path[1]}]"
    return None


def _alerting(
    value: Any, ctx: Ctx, path: tuple[str | int, ...], base: Alerting
) -> Alerting:
    """Merge an `alerting` block (or an environment's override of it) over `base`."""
    if not isinstance(value, dict):
        return base
    name = build.field_text(value, "name", base.name)
    extra_labels = dict(build.labels(value.get("labels"), ctx, (*path, "labels")))
    extra_ann = dict(build.annotation_map(value.get("annotations"), ctx, (*path, "annotations")))
    return Alerting(
        name=name,
        labels=tuple(sorted((dict(base.labels) | extra_labels).items())),
        annotations=tuple(sorted((dict(base.annotations) | extra_ann).items())),
        page=build.alert_spec(value.get("page"), ctx, (*path, "page"), base=base.page),
        ticket=build.alert_spec(value.get("ticket"), ctx, (*path, "ticket"), base=base.ticket),
        no_data=build.alert_spec(value.get("no_data"), ctx, (*path, "no_data"), base=base.no_data),
    )


def _sli(value: Any, ctx: Ctx, path: tuple[str | int, ...], base: Duration) -> Any:
    if not isinstance(value, dict) or ctx.bad(path):
        return None
    if "ratio" in value and isinstance(value["ratio"], dict):
        ratio, rpath = value["ratio"], (*path, "ratio")
        errors = build.query(ratio.get("errors"), ctx, (*rpath, "errors"), base) if "errors" in ratio else None
        good = build.query(ratio.get("good"), ctx, (*rpath, "good"), base) if "good" in ratio else None
        total = build.query(ratio.get("total"), ctx, (*rpath, "total"), base)
        return build.ratio_sli(errors, good, total, ctx, (*rpath, "errors" if "errors" in ratio else "good"))
    if "latency" in value and isinstance(value["latency"], dict):
        lat = value["latency"]
        return build.latency_sli(lat.get("histogram"), lat.get("threshold"), ctx, (*path, "latency"),
                                 buckets=lat.get("buckets"))
    if "raw" in value and isinstance(value["raw"], dict):
        return build.raw_sli(value["raw"].get("error_ratio"), ctx, (*path, "raw", "error_ratio"), base)
    return None


class EnvironmentRef(NamedTuple):
    """An `environments:` key of a spec: the override applies only where a stack has that name."""

    env: str
    field: str
    location: Location
    slo: str | None


def environment_refs(doc: Document) -> list[EnvironmentRef]:
    data = doc.data
    if not isinstance(data, dict) or data.get("apiVersion") != API_VERSION:
        return []
    refs = [EnvironmentRef(str(name), f"environments.{name}",
                           Location(doc.file, line_at(data, ("environments", name))), None)
            for name in build.field_map(data, "environments")]
    for index, raw in enumerate(build.field_list(data, "slos")):
        for name in build.field_map(raw, "environments"):
            path = ("slos", index, "environments", name)
            refs.append(EnvironmentRef(str(name), join_path(*path), Location(doc.file, line_at(data, path)),
                                       _slo_name_at(data, path)))
    for entry_path, name in testspecs.environment_paths(data):
        refs.append(EnvironmentRef(name, join_path(*entry_path), Location(doc.file, line_at(data, entry_path)), None))
    return refs


def map_document(
    doc: Document,
    problems: Problems,
    catalogs: Mapping[Duration, WindowCatalog],
    env: str | None,
) -> list[Service]:
    mark = problems.mark()
    data = doc.data
    failed = schemacheck.check(doc, SCHEMA, problems, lambda p: _slo_name_at(data, p))
    ctx = Ctx(doc, problems, None, frozenset(failed))
    if not isinstance(data, dict):
        return []
    service = build.field_text(data, "service", "?")
    team = build.field_text(data, "team")
    tier = str(data.get("tier", "")) if isinstance(data.get("tier"), (int, str)) else ""
    service_labels = build.labels(data.get("labels"), ctx, ("labels",))
    service_runbook = build.field_text(data, "runbook_url")
    links = build.field_map(data, "links")
    service_policy = budget_policy(data.get("error_budget_policy"), BudgetPolicy())

    # Service-wide environment overrides: checked for every env, applied for the chosen one.
    service_env: dict[str, Any] = {}
    envs = build.field_map(data, "environments")
    probe = Alerting(name="")
    for env_name, override in envs.items():
        if isinstance(override, dict):
            _alerting(override.get("alerting"), ctx, ("environments", env_name, "alerting"), probe)
            if env_name == env:
                service_env = override
    if service_env.get("disabled") is True:
        return []

    slos: list[SLO] = []
    seen: dict[str, int] = {}
    raw_slos = build.field_list(data, "slos")
    for index, raw in enumerate(raw_slos):
        if not isinstance(raw, dict):
            continue
        name = build.field_text(raw, "name", f"slos[{index}]")
        sctx = Ctx(doc, problems, name, ctx.failed)
        path: tuple[str | int, ...] = ("slos", index)
        if name in seen:
            sctx.error((*path, "name"), f"duplicate SLO name '{name}' in service '{service}' "
                                        f"(first defined at line {seen[name]})")
            continue
        seen[name] = sctx.loc((*path, "name")).line
        slo = _map_slo(raw, sctx, path, service, team, tier, service_labels, service_runbook,
                       service_env, catalogs, env)
        if slo is not None:
            slo = replace(slo, budget_policy=budget_policy(raw.get("error_budget_policy"), service_policy))
        if slo is not None:
            slos.append(slo)
    by_name = {slo.name: slo for slo in slos}
    loadtest = testspecs.loadtest(data, ctx)
    gamedays = testspecs.gamedays(data, by_name, ctx)
    canary = testspecs.canary(data, by_name, ctx) if slos else None
    if problems.errors_since(mark) or not slos:  # this document's errors, not an earlier file's
        return []
    return [Service(
        name=service, team=team, tier=tier,
        description=str(data.get("description", "")),
        labels=service_labels, slos=tuple(slos),
        source=Location(doc.file, doc.line), spec_format=API_VERSION,
        log_selector=str(links.get("logs", "")), trace_service=str(links.get("traces", "")),
        team_source=ctx.loc(("team",)),
        loadtest=loadtest if loadtest and runs_in(loadtest.environments, env) else None,
        gamedays=tuple(g for g in gamedays if runs_in(g.environments, env)),
        canary=canary,
    )]


def budget_policy(value: Any, inherited: BudgetPolicy) -> BudgetPolicy:
    """The fields `value` sets over `inherited`; the schema has checked their types and ranges."""
    if not isinstance(value, dict):
        return inherited
    policy = inherited
    freeze = value.get("freeze_below")
    if isinstance(freeze, (int, float)) and not isinstance(freeze, bool):
        policy = replace(policy, freeze_below=Decimal(str(freeze)))
    exempt = value.get("exempt")
    if isinstance(exempt, list):
        policy = replace(policy, exempt=tuple(sorted({str(e) for e in exempt})))
    if value.get("fail_mode") in ("open", "closed"):
        policy = replace(policy, fail_mode=value["fail_mode"])
    return policy


def _map_slo(
    raw: dict[str, Any], ctx: Ctx, path: tuple[str | int, ...], service: str, team: str, tier: str,
    service_labels: tuple[tuple[str, str], ...], service_runbook: str, service_env: dict[str, Any],
    catalogs: Mapping[Duration, WindowCatalog], env: str | None,
) -> SLO | None:
    low_intended = build.LOW_OBJECTIVE in build.field_list(raw, "intended")
    objective = build.objective(raw.get("objective"), ctx, (*path, "objective"), low_intended=low_intended)
    period = build.period(raw.get("period"), ctx, (*path, "period"), catalogs)
    base = catalogs[period].base if period else min((c.base for c in catalogs.values()), default=Duration(300_000))
    sli = _sli(raw.get("sli"), ctx, (*path, "sli"), base)
    own_labels = build.labels(raw.get("labels"), ctx, (*path, "labels"))
    default_name = build.default_alert_name(service, str(raw.get("name", "")))
    alerting = _alerting(raw.get("alerting"), ctx, (*path, "alerting"), Alerting(name=default_name))

    # Every environment's override is checked; the chosen one is applied.
    chosen: dict[str, Any] = {}
    envs = build.field_map(raw, "environments")
    for env_name, override in envs.items():
        if not isinstance(override, dict):
            continue
        epath = (*path, "environments", env_name)
        env_objective = (build.objective(override["objective"], ctx, (*epath, "objective"), low_intended=low_intended)
                         if "objective" in override else None)
        env_period = (build.period(override["period"], ctx, (*epath, "period"), catalogs)
                      if "period" in override else None)
        env_alerting = _alerting(override.get("alerting"), ctx, (*epath, "alerting"), alerting)
        if env_name == env:
            chosen = {"objective": env_objective, "period": env_period, "alerting": env_alerting,
                      "disabled": override.get("disabled") is True}

    runbook = build.field_text(raw, "runbook_url", service_runbook)
    if not runbook and not ctx.bad((*path, "runbook_url")):  # the schema's if/then usually reports it first
        ctx.error((*path, "runbook_url"), NO_RUNBOOK)
    if objective is None or period is None or sli is None:
        return None
    if service_env.get("alerting"):
        alerting = _alerting(service_env["alerting"], ctx, ("environments", str(env), "alerting"), alerting)
    if chosen:
        if chosen["disabled"]:
            return None
        objective = chosen["objective"] or objective
        period = chosen["period"] or period
        alerting = _alerting((raw.get("environments") or {}).get(env, {}).get("alerting"), ctx,
                             (*path, "environments", str(env), "alerting"), alerting)
    build.check_burn_thresholds(objective, catalogs[period], ctx, (*path, "objective"),
                                {"page": alerting.page.enabled, "ticket": alerting.ticket.enabled},
                                "alerting.page.enabled: false")
    labels = tuple(sorted((dict(service_labels) | dict(own_labels)).items()))
    return SLO(
        service=service, name=ctx.slo or "", description=str(raw.get("description", "")),
        objective=objective, period=period, sli=sli, team=team, tier=tier, labels=labels,
        alerting=alerting, runbook_url=runbook, source=ctx.loc(path), spec_format=API_VERSION,
    )


__all__ = ["API_VERSION", "KIND", "AlertSpec", "map_document"]
