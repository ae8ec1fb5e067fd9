"""The `loadtest`, `gamedays` and `canary` keys of our format: reliability tests judged by the SLOs.

The JSON Schema checks shapes; this module checks what it cannot: a chaos spec
against Chaos Mesh's own CRD, cron expressions that parse, a run that fits
between two scheduled starts, targets with a host, SLO names that exist.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from ...durations import Duration
from .. import build, cron, promql
from ..build import Ctx
from ..model import SLO, Abort, Canary, GameDay, LoadTest
from . import schemacheck

CHAOS_SCHEMA = "chaos-mesh-2.8.3.json"
# Chaos aimed at these namespaces takes the platform down with the service; refused here
# and by the policy pack (which also knows the stack's own monitoring namespace).
PROTECTED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "chaos-mesh", "monitoring")

Path = tuple[str | int, ...]


def _environments(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _duration(value: Any, ctx: Ctx, path: Path) -> Duration | None:
    if ctx.bad(path) or not isinstance(value, str):
        return None
    try:
        return Duration.parse(value)
    except ValueError as exc:
        ctx.error(path, str(exc))
        return None


def _schedule(value: Any, duration: Duration | None, ctx: Ctx, path: Path, what: str) -> str | None:
    """A cron that parses and leaves room for the whole run before the next start."""
    if value is None or ctx.bad(path) or not isinstance(value, str):
        return None
    try:
        parsed = cron.parse(value)
        interval = parsed.shortest_interval()
    except cron.CronError as exc:
        ctx.error(path, f"invalid cron {value!r}: {exc}")
        return None
    if duration is not None and duration > interval:
        ctx.error(path, f"{what} lasts {duration} but {value!r} starts one every {interval}: runs would overlap "
                        f"(and the next start is skipped); shorten the duration or run less often")
        return None
    return value


def _target(value: Any, ctx: Ctx, path: Path) -> str | None:
    if ctx.bad(path) or not isinstance(value, str):
        return None
    url = urllib.parse.urlsplit(value)
    if url.scheme not in ("http", "https") or not url.hostname:
        ctx.error(path, f"{value!r} is not an http:// or https:// URL with a host, e.g. "
                        "http://checkout-api.shop.svc:8080/api/orders")
        return None
    return value


def _slo_name(value: Any, slos: dict[str, SLO], ctx: Ctx, path: Path) -> str | None:
    """`value` if it names an SLO of this environment; an error if it names none of the spec's SLOs."""
    if ctx.bad(path) or not isinstance(value, str):
        return None
    if value not in slos:
        declared = {build.field_text(s, "name") for s in build.field_list(ctx.doc.data, "slos")}
        if value in declared:  # disabled in this environment: what it judges is left out with it
            return None
        known = ", ".join(sorted(declared - {""})) or "none"
        ctx.error(path, f"no SLO named {value!r} in this service (its SLOs: {known})")
        return None
    return value


def loadtest(data: dict[str, Any], ctx: Ctx) -> LoadTest | None:
    raw = data.get("loadtest")
    path: Path = ("loadtest",)
    if not isinstance(raw, dict) or ctx.bad(path):
        return None
    target = _target(raw.get("target"), ctx, (*path, "target"))
    duration = _duration(raw.get("duration"), ctx, (*path, "duration"))
    schedule = _schedule(raw.get("schedule"), duration, ctx, (*path, "schedule"), "the load test")
    rate = raw.get("rate")
    if target is None or duration is None or not isinstance(rate, int) or ctx.bad((*path, "rate")):
        return None
    if "schedule" in raw and schedule is None:
        return None
    return LoadTest(target=target, method=str(raw.get("method", "GET")), rate=rate, duration=duration,
                    schedule=schedule, environments=_environments(raw.get("environments")),
                    source=ctx.loc(path))


def _selectors(value: Any, path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every `selector` mapping inside a chaos spec (NetworkChaos has a second one under `target`)."""
    found: list[tuple[Path, dict[str, Any]]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "selector" and isinstance(child, dict):
                found.append(((*path, key), child))
            else:
                found.extend(_selectors(child, (*path, key)))
    return found


def _chaos(raw: dict[str, Any], ctx: Ctx, path: Path) -> tuple[str, str] | None:
    chaos_path = (*path, "chaos")
    if ctx.bad(chaos_path) or not isinstance(raw.get("chaos"), dict):
        return None
    kind, spec = raw["chaos"].get("kind"), raw["chaos"].get("spec")
    if not isinstance(kind, str) or not isinstance(spec, dict):
        return None
    if not schemacheck.check_embedded(ctx.doc, CHAOS_SCHEMA, kind, (*chaos_path, "spec"), ctx.problems, ctx.slo):
        return None
    ok = True
    for selector_path, selector in _selectors(spec, (*chaos_path, "spec")):
        namespaces = selector.get("namespaces")
        if not namespaces:
            ctx.error((*selector_path, "namespaces"),
                      "name the target namespaces: without them Chaos Mesh selects the experiment's own namespace")
            ok = False
            continue
        for index, namespace in enumerate(namespaces):
            if namespace in PROTECTED_NAMESPACES:
                ctx.error((*selector_path, "namespaces", index),
                          f"chaos in {namespace!r} is refused: it would break the platform that runs and observes "
                          f"the experiment ({', '.join(PROTECTED_NAMESPACES)} are off limits)")
                ok = False
    return (kind, json.dumps(spec, sort_keys=True)) if ok else None


def gamedays(data: dict[str, Any], slos: dict[str, SLO], ctx: Ctx) -> tuple[GameDay, ...]:
    out: list[GameDay] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(build.field_list(data, "gamedays")):
        path: Path = ("gamedays", index)
        if not isinstance(raw, dict) or ctx.bad(path):
            continue
        name = build.field_text(raw, "name")
        if name in seen:
            ctx.error((*path, "name"), f"duplicate game day name {name!r} (first at line {seen[name]}): give each "
                                       "game day its own name; it names the chaos experiment and its runbook")
            continue
        seen[name] = ctx.loc((*path, "name")).line
        chaos = _chaos(raw, ctx, path)
        duration = _duration(raw.get("duration"), ctx, (*path, "duration"))
        schedule = _schedule(raw.get("schedule"), duration, ctx, (*path, "schedule"), "the game day")
        abort = None
        if isinstance(raw.get("abort"), dict) and not ctx.bad((*path, "abort")):
            slo = _slo_name(raw["abort"].get("slo"), slos, ctx, (*path, "abort", "slo"))
            rate = build.to_decimal(raw["abort"].get("burn_rate"))
            if slo is None or rate is None:
                continue
            abort = Abort(slo=slo, burn_rate=rate.normalize())
        if chaos is None or duration is None or ("schedule" in raw and schedule is None):
            continue
        out.append(GameDay(name=name, kind=chaos[0], spec_json=chaos[1], duration=duration, schedule=schedule,
                           abort=abort, environments=_environments(raw.get("environments")),
                           source=ctx.loc(path), description=build.field_text(raw, "description")))
    return tuple(out)


def canary(data: dict[str, Any], slos: dict[str, SLO], ctx: Ctx) -> Canary | None:
    raw = data.get("canary")
    path: Path = ("canary",)
    if not isinstance(raw, dict) or ctx.bad(path):
        return None
    if "slos" in raw:
        names = [_slo_name(v, slos, ctx, (*path, "slos", i)) for i, v in enumerate(build.field_list(raw, "slos"))]
        if None in names or ctx.bad((*path, "slos")):
            return None
        chosen = tuple(n for n in names if n is not None)
        paths = {name: (*path, "slos", names.index(name)) for name in chosen}
    else:
        chosen = tuple(name for name, slo in slos.items() if slo.sli.kind in ("ratio", "latency"))
        if not chosen:
            raw_slos = ", ".join(slos)
            ctx.error(path, f"no ratio or latency SLO to judge a canary by, and a raw SLI judges one only when "
                            f"named (this service's SLOs: {raw_slos}): list them in canary.slos, e.g. "
                            f"slos: [{next(iter(slos))}], or remove canary")
            return None
        paths = {name: path for name in chosen}
    for name in chosen:
        _check_canary_query(slos[name], ctx, paths[name])
    namespace = raw.get("namespace") if isinstance(raw.get("namespace"), str) else None
    return Canary(slos=chosen, source=ctx.loc(path), namespace=namespace)


def _check_canary_query(slo: SLO, ctx: Ctx, path: Path) -> None:
    """The canary matcher goes into every selector; one that reads another time cannot take it.

    `path` is the SLO's entry in `canary.slos`, or `canary` itself when the SLOs were chosen by default.
    """
    from ..generators.canary import canary_query

    try:
        canary_query(slo, "5m")
    except promql.QueryError as exc:
        ctx.error(path, f"SLO {slo.name!r} cannot judge a canary: {exc}; leave it out of canary.slos (list the "
                        "SLOs that judge the canary) or drop the offset or @ from its SLI")


def environment_paths(data: dict[str, Any]) -> list[tuple[Path, str]]:
    """(path of the entry, environment name) for every `environments` list of these keys."""
    out: list[tuple[Path, str]] = []
    loadtest_envs = build.field_map(data, "loadtest").get("environments")
    lists: list[tuple[Path, Any]] = [(("loadtest", "environments"), loadtest_envs)]
    for index, raw in enumerate(build.field_list(data, "gamedays")):
        lists.append((("gamedays", index, "environments"), raw.get("environments") if isinstance(raw, dict) else None))
    for path, value in lists:
        if isinstance(value, list):
            out.extend(((*path, i), str(name)) for i, name in enumerate(value) if isinstance(name, str))
    return out
