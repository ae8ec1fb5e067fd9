"""Recording rules and multi-window, multi-burn-rate alerts for one service.

Per SLO, two rule groups:

`slo:<service>:<slo>:sli` (the global evaluation interval), in dependency order:
  1. for every window up to 1h, requests and errors per second straight from
     the user's queries, and their ratio: no rule reads more than 1h of raw
     samples, and each raw series is read once per window (errors fall back to
     the recorded requests times 0, and good/total SLIs subtract good from the
     recorded requests, not from a second read of the raw total);
  2. for longer windows, the error ratio alone, formed from the time averages of
     a shorter recorded window's rates, sampled once per tile of that window
     (`avg_over_time(errors1h[1d:1h]) / avg_over_time(requests1h[1d:1h])`: 24
     tiles of an hour, not 1,440 overlapping samples). Errors and requests
     are averaged separately and then divided, so an hour with ten times the
     traffic weighs ten times as much (averaging ratios, as in Sloth #241,
     underestimates outages that hit busy hours); the tiles are the longest
     window's at least 24 times shorter than the window, so a window trails
     the present by at most 1/24 of itself (and, until its first tile has
     passed, reads the tile window's ratio). One rule per long window: its
     averaged rates are not recorded, so each costs one evaluation, not three;
  3. error ratios divide by requests clamped to 1e-300: with no requests at all
     (and so no errors) the error ratio is 0, never NaN, so a quiet night
     cannot poison the 30-day window (Sloth #531);
  4. the page and ticket burn-rate alerts, and a no-data alert (Pyrra #448).
`slo:<service>:<slo>:budget` (every minute): the period window, the error
budget remaining and the objective/budget/period/info series.

Raw SLIs (the query gives the ratio itself) drop samples without traffic (NaN)
and average the ratio over long windows; that is all a ratio alone allows.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from ...durations import Duration
from ...yamlio import format_decimal
from .. import naming
from ..build import camel
from ..model import SLO, RatioSLI, Service
from ..windows import WindowCatalog

MAX_RAW_WINDOW = Duration.parse("1h")
MIN_TILES = 24  # a long window averages at least this many tiles of a shorter window
BUDGET_GROUP_INTERVAL = "1m"
_THRESHOLD_CONTEXT = Context(prec=12)


def quote(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(slo: SLO) -> str:
    return "{" + ",".join(f"{k}={quote(v)}" for k, v in slo.identity) + "}"


def series_labels(slo: SLO) -> dict[str, str]:
    """Labels of every recorded series: the SLO identity, its team and the spec's own labels."""
    labels = dict(slo.labels) | {"service": slo.service, "slo": slo.name, "team": slo.team}
    return dict(sorted(labels.items()))


def threshold_for(budget: Decimal, burn_rate: Decimal) -> Decimal:
    """The error ratio an alert window compares against: burn rate x error budget, 12 significant digits."""
    return _THRESHOLD_CONTEXT.plus(burn_rate * budget)


def threshold(slo: SLO, burn_rate: Decimal) -> Decimal:
    return threshold_for(slo.error_budget, burn_rate)


def windows_of(slo: SLO, catalog: WindowCatalog) -> list[Duration]:
    return sorted(set(catalog.alert_windows) | {slo.period})


def _record(name: str, expr: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"record": name, "expr": expr, "labels": labels}


def raw_windows(catalog: WindowCatalog) -> list[Duration]:
    """The alert windows recorded straight from the user's queries (in the SLI group)."""
    return [w for w in catalog.alert_windows if w <= MAX_RAW_WINDOW]


def tile_of(window: Duration, raw: list[Duration]) -> Duration:
    """The recorded raw window whose tiles make up `window`: the longest one at least
    MIN_TILES times shorter, else the shortest (the base window)."""
    fitting = [w for w in raw if w.ms * MIN_TILES <= window.ms]
    return max(fitting) if fitting else min(raw)


def _ratio_sli_rules(slo: SLO, sli: RatioSLI, catalog: WindowCatalog, windows: list[Duration]) -> list[dict[str, Any]]:
    labels = series_labels(slo)
    sel = selector(slo)
    raw = raw_windows(catalog)
    rules: list[dict[str, Any]] = []
    for window in windows:
        if window == slo.period and window not in catalog.alert_windows:
            continue  # the period window lives in the budget group, unless an alert reads it too
        rules.extend(_ratio_window(sli, window, raw, labels, sel))
    return rules


def _ratio_window(sli: RatioSLI, window: Duration, raw: list[Duration], labels: dict[str, str],
                  sel: str) -> list[dict[str, Any]]:
    """The rules of one window of a ratio SLI: rates and ratio up to 1h, the ratio alone beyond."""
    if window > MAX_RAW_WINDOW:
        return [_long_ratio_rule(window, tile_of(window, raw), labels, sel)]
    requests, errors = naming.requests_rate(window), naming.errors_rate(window)
    total = sli.total.render(window)
    if sli.errors is not None:
        # No error series at all (nothing failed) is 0 errors wherever requests were seen (only there:
        # long windows average errors and requests over the same samples).
        expr = f"({sli.errors.render(window)})\nor on()\n{requests}{sel} * 0"
    else:
        good = sli.good.render(window) if sli.good else "0"
        # Errors are the requests just recorded minus good, so the raw total is read once per window.
        # Without any good series (a full outage), good counts as 0, not as missing. The recorded
        # requests carry the SLO's labels and the query's result does not: match on the query's own.
        recorded, match = f"{requests}{sel}", f"ignoring({', '.join(labels)})"
        expr = f"clamp_min(\n  {recorded}\n  - {match}\n  (({good}) or {match} {recorded} * 0),\n  0\n)"
    return [_record(requests, total, labels), _record(errors, expr, labels), _ratio_rule(window, labels, sel)]


# Divides by requests where there were any; no requests (and so no errors) gives 0 / 1e-300 = 0, not NaN.
# Any real rate is above 1e-284, where adding or clamping 1e-300 leaves a float unchanged: the
# ratio is exact, in one selector fewer than `errors / (requests > 0) or requests * 0`.
ZERO_TRAFFIC_FLOOR = "1e-300"


def _ratio_rule(window: Duration, labels: dict[str, str], sel: str) -> dict[str, Any]:
    errors = f"{naming.errors_rate(window)}{sel}"
    requests = f"{naming.requests_rate(window)}{sel}"
    return _record(naming.error_ratio(window), f"{errors}\n/\nclamp_min({requests}, {ZERO_TRAFFIC_FLOOR})", labels)


def _long_ratio_rule(window: Duration, tile: Duration, labels: dict[str, str], sel: str) -> dict[str, Any]:
    errors = f"avg_over_time({naming.errors_rate(tile)}{sel}[{window}:{tile}])"
    requests = f"avg_over_time({naming.requests_rate(tile)}{sel}[{window}:{tile}])"
    # Until the first tile has passed (a new SLO) all history is within the tile window itself.
    expr = f"{errors}\n/\nclamp_min({requests}, {ZERO_TRAFFIC_FLOOR})\nor\n{naming.error_ratio(tile)}{sel}"
    return _record(naming.error_ratio(window), expr, labels)


def _raw_sli_rules(slo: SLO, catalog: WindowCatalog, windows: list[Duration]) -> list[dict[str, Any]]:
    labels = series_labels(slo)
    sel = selector(slo)
    base = catalog.base
    rules = []
    for window in windows:
        if window == slo.period and window not in catalog.alert_windows:
            continue
        rules.append(_raw_window(slo, window, base, labels, sel))
    return rules


def _raw_window(slo: SLO, window: Duration, base: Duration, labels: dict[str, str], sel: str) -> dict[str, Any]:
    if window <= MAX_RAW_WINDOW:
        # `>= 0` drops NaN (no traffic) instead of recording it.
        expr = f"({slo.sli.error_ratio.render(window)}) >= 0"  # type: ignore[union-attr]
    else:
        expr = f"avg_over_time({naming.error_ratio(base)}{sel}[{window}])"
    return _record(naming.error_ratio(window), expr, labels)


def _budget_rules(slo: SLO, catalog: WindowCatalog) -> list[dict[str, Any]]:
    labels = series_labels(slo)
    sel = selector(slo)
    rules: list[dict[str, Any]] = []
    period = slo.period
    if period not in catalog.alert_windows:
        if isinstance(slo.sli, RatioSLI):
            rules.extend(_ratio_window(slo.sli, period, raw_windows(catalog), labels, sel))
        else:
            rules.append(_raw_window(slo, period, catalog.base, labels, sel))
    budget = format_decimal(slo.error_budget)
    rules.append(_record(naming.BUDGET_REMAINING, f"1 - {naming.error_ratio(period)}{sel} / {budget}", labels))
    rules.append(_record(naming.OBJECTIVE, f"vector({format_decimal(slo.objective)})", labels))
    rules.append(_record(naming.ERROR_BUDGET, f"vector({budget})", labels))
    rules.append(_record(naming.PERIOD_SECONDS, f"vector({period.ms // 1000})", labels))
    info = dict(labels) | {
        "objective": format_decimal(slo.objective_percent),
        "period": str(period),
        "sli_kind": getattr(slo.sli, "kind", "raw"),
        "tier": slo.tier,
        "spec_format": slo.spec_format,
    }
    rules.append(_record(naming.INFO, "vector(1)", dict(sorted(info.items()))))
    return rules


def _fmt_burn(rate: Decimal) -> str:
    """A burn rate for people: 14.4, 0.9333."""
    return format_decimal(rate.quantize(Decimal("0.0001")))


def _exhaustion(period: Duration, burn: Decimal) -> str:
    seconds = int(Decimal(period.ms) / burn / 1000)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes and not days else ""]
    return " ".join(p for p in parts if p) or "under a minute"


def alert_enabled(slo: SLO, catalog: WindowCatalog, severity: str) -> bool:
    """Whether the SLO has a `severity` burn-rate alert here (switched on, and the catalog has windows for it)."""
    spec = slo.alerting.page if severity == "page" else slo.alerting.ticket
    return spec.enabled and bool(catalog.by_severity(severity))


def burn_alert(slo: SLO, catalog: WindowCatalog, severity: str) -> dict[str, Any] | None:
    if not alert_enabled(slo, catalog, severity):
        return None
    spec = slo.alerting.page if severity == "page" else slo.alerting.ticket
    windows = catalog.by_severity(severity)
    sel = selector(slo)
    clauses = []
    lines = []
    for w in windows:
        limit = format_decimal(threshold(slo, w.burn_rate))
        long, short = f"{naming.error_ratio(w.long)}{sel}", f"{naming.error_ratio(w.short)}{sel}"
        clauses.append(f"(\n  {long} > {limit}\n  and\n  {short} > {limit}\n)")
        lines.append(f"{_fmt_burn(w.burn_rate)}x over {w.long} and {w.short}")
    fastest = max(windows, key=lambda w: w.burn_rate)
    objective = format_decimal(slo.objective_percent)
    what = "fast enough to page" if severity == "page" else "faster than sustainable"
    annotations = {
        "summary": f"{slo.service} {slo.name}: error budget burning {what}",
        "description": (
            f"The {slo.name} SLO of {slo.service} ({objective}% over {slo.period}) is burning its error budget at "
            f"{' or '.join(lines)}. At {_fmt_burn(fastest.burn_rate)}x the whole {slo.period} budget is spent in "
            f"{_exhaustion(slo.period, fastest.burn_rate)}."
        ),
        "runbook_url": slo.runbook_url,
    }
    annotations |= dict(slo.alerting.annotations) | dict(spec.annotations)
    rule: dict[str, Any] = {"alert": slo.alerting.name, "expr": "\nor\n".join(clauses)}
    waits = [w.for_ for w in windows if w.for_ is not None]
    if waits:
        rule["for"] = str(max(waits))
    # Prometheus expands every rule label as a template at each evaluation of a firing alert. The
    # series the expression compares carry the SLO's identity, team and the spec's own labels
    # (comparisons keep them), so the rule names only what the alert adds or changes: severity
    # and the alert's own labels. The policy pack reads the rest from those series (fired_labels).
    carried = series_labels(slo)
    rule["labels"] = {k: v for k, v in burn_alert_labels(slo, severity).items() if carried.get(k) != v}
    rule["annotations"] = _annotations(annotations)
    return rule


def _annotations(annotations: dict[str, str]) -> dict[str, str]:
    """Sorted, without empty ones (a spec without a runbook): Prometheus expands every annotation as a
    template at each evaluation of a firing alert, and an empty one reads the same as none."""
    return {k: v for k, v in sorted(annotations.items()) if v}


def burn_alert_labels(slo: SLO, severity: str) -> dict[str, str]:
    """The labels a burn-rate alert fires with: the SLO's series labels, the spec's alert labels, severity."""
    spec = slo.alerting.page if severity == "page" else slo.alerting.ticket
    labels = series_labels(slo) | dict(slo.alerting.labels) | dict(spec.labels) | {"severity": severity}
    return dict(sorted(labels.items()))


def no_data_alert_name(slo: SLO) -> str:
    return camel(slo.service, slo.name) + "SLIAbsent"


def no_data_alert(slo: SLO, catalog: WindowCatalog) -> dict[str, Any] | None:
    if not slo.alerting.no_data.enabled:
        return None
    base = catalog.base
    watched = naming.requests_rate(base) if isinstance(slo.sli, RatioSLI) else naming.error_ratio(base)
    labels = series_labels(slo) | dict(slo.alerting.labels) | dict(slo.alerting.no_data.labels) | {"severity": "ticket"}
    annotations = {
        "summary": f"{slo.service} {slo.name}: SLI data missing",
        "description": (
            f"No {watched} samples for the {slo.name} SLO of {slo.service} for {catalog.no_data_for}: the service, "
            "its scrape target or the metric is gone, so its burn-rate alerts cannot fire."
        ),
        "runbook_url": slo.runbook_url,
    } | dict(slo.alerting.annotations) | dict(slo.alerting.no_data.annotations)
    return {
        "alert": no_data_alert_name(slo),
        "expr": f"absent({watched}{selector(slo)})",
        "for": str(catalog.no_data_for),
        "labels": dict(sorted(labels.items())),
        "annotations": _annotations(annotations),
    }


def slo_groups(slo: SLO, catalog: WindowCatalog) -> list[dict[str, Any]]:
    windows = windows_of(slo, catalog)
    if isinstance(slo.sli, RatioSLI):
        sli_rules = _ratio_sli_rules(slo, slo.sli, catalog, windows)
    else:
        sli_rules = _raw_sli_rules(slo, catalog, windows)
    alerts = [a for a in (burn_alert(slo, catalog, "page"), burn_alert(slo, catalog, "ticket"),
                          no_data_alert(slo, catalog)) if a]
    return [
        {"name": naming.group_name(slo.service, slo.name, "sli"), "rules": sli_rules + alerts},
        {"name": naming.group_name(slo.service, slo.name, "budget"), "interval": BUDGET_GROUP_INTERVAL,
         "rules": _budget_rules(slo, catalog)},
    ]


def service_rules(service: Service, catalogs: dict[Duration, WindowCatalog]) -> dict[str, Any]:
    """The Prometheus rule file content for one service."""
    groups: list[dict[str, Any]] = []
    for slo in sorted(service.slos, key=lambda s: s.name):
        groups.extend(slo_groups(slo, catalogs[slo.period]))
    return {"groups": groups}
