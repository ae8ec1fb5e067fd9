"""Shared checks and constructors the spec formats use to build the model.

Each format module knows its own field names; the rules for what an objective,
a period, a query or a label may be live here once, so every format reports
the same problem with the same words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..durations import Duration
from ..problems import Location, Problems, join_path
from ..yamlio import Document, format_decimal, line_at
from . import promql
from .model import WINDOW, AlertSpec, Query, RatioSLI, RawSLI
from .windows import WindowCatalog

# Labels the compiler sets itself; a spec may not set them.
RESERVED_LABELS = ("service", "slo", "team", "severity", "alertname")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
DEFAULT_PERIOD = Duration.parse("30d")


@dataclass
class Ctx:
    """Where we are in a document, for problem reports."""

    doc: Document
    problems: Problems
    slo: str | None = None
    # Paths the schema check already reported; builders stay quiet about them.
    failed: frozenset[tuple[str | int, ...]] = frozenset()

    def bad(self, path: tuple[str | int, ...]) -> bool:
        n = len(path)
        return any(f[:n] == path or path[: len(f)] == f for f in self.failed)

    def loc(self, path: tuple[str | int, ...]) -> Location:
        return Location(self.doc.file, line_at(self.doc.data, path))

    def error(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.add(self.loc(path), self.slo, join_path(*path) or None, message)

    def warn(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.warn(self.loc(path), self.slo, join_path(*path) or None, message)


def field_map(data: Any, key: str) -> dict[str, Any]:
    """`data[key]` if it is a mapping, else an empty one (the schema check reports wrong types)."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def field_list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def field_text(data: Any, key: str, default: str = "") -> str:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else default


def to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# The spec's `intended` entry that accepts an objective below 1%.
LOW_OBJECTIVE = "low-objective"


def objective(
    value: Any, ctx: Ctx, path: tuple[str | int, ...], *, as_ratio: bool = False,
    low_intended: bool = False, low_fix: str = f"add `intended: [{LOW_OBJECTIVE}]` to this SLO",
) -> Decimal | None:
    """Check an objective and return it as a ratio (0.999).

    `as_ratio` is for formats that write targets as ratios (OpenSLO `target: 0.999`).
    An objective below 1% is nearly always a ratio written where a percentage belongs,
    and its alerts can never fire: refused unless `low_intended`; `low_fix` says how to opt in.
    """
    if ctx.bad(path):
        return None
    number = to_decimal(value)
    if number is None:
        ctx.error(path, f"expected a number, got {value!r}")
        return None
    percent = number * 100 if as_ratio else number
    if not Decimal(0) < percent < Decimal(100):
        if as_ratio:
            ctx.error(path, f"must be greater than 0 and less than 1 (a ratio such as 0.999), got {value}")
        else:
            ctx.error(path, f"must be greater than 0 and less than 100 (a percentage such as 99.9), got {value}")
        return None
    if not as_ratio and percent < 1 and not low_intended:
        ctx.error(path, f"objective {value}% is very low: objectives are percentages, "
                        f"did you mean {format_decimal(percent * 100)}? (if {value}% is intended, {low_fix})")
    return (percent / 100).normalize()


def period(
    value: Any, ctx: Ctx, path: tuple[str | int, ...], catalogs: Mapping[Duration, WindowCatalog]
) -> Duration | None:
    if ctx.bad(path):
        return None
    if value is None:
        parsed = DEFAULT_PERIOD
    elif not isinstance(value, str):
        ctx.error(path, f"expected a duration such as 30d, got {value!r}")
        return None
    else:
        try:
            parsed = Duration.parse(value)
        except ValueError as exc:
            ctx.error(path, str(exc))
            return None
    if parsed not in catalogs:
        known = ", ".join(str(p) for p in sorted(catalogs))
        ctx.error(
            path,
            f"no burn-rate window catalog covers a {parsed} period (catalogs: {known}); "
            "use one of those periods or add a catalog with --windows DIR",
        )
        return None
    return parsed


def query(
    text: Any, ctx: Ctx, path: tuple[str | int, ...], base: Duration, *, selector_ok: bool = True,
    placeholder: str = WINDOW,
) -> Query | None:
    """A PromQL SLI query: a plain counter selector, or a template with {{window}}.

    `placeholder` is the spelling a hint tells the user to write: Sloth rejects `{{window}}`
    and wants `{{.window}}`.
    """
    if ctx.bad(path):
        return None
    if not isinstance(text, str) or not text.strip():
        ctx.error(path, f"expected a PromQL query, got {text!r}")
        return None
    normalized = promql.normalize_placeholder(text.strip())
    if WINDOW not in normalized:
        selector = promql.plain_selector(normalized) if selector_ok else None
        if selector is not None:
            return Query(promql.counter_rate(selector))
        try:
            promql.parse(normalized)
        except promql.QueryError as exc:
            ctx.error(path, str(exc))
            return None
        hint = " or give a plain counter selector" if selector_ok else ""
        ctx.error(path, f"query has no {placeholder} placeholder: write ranges as [{placeholder}]{hint}")
        return None
    try:
        promql.check_template(normalized, base)
    except promql.QueryError as exc:
        ctx.error(path, str(exc))
        return None
    return Query(normalized)


def ratio_sli(
    errors: Query | None, good: Query | None, total: Query | None, ctx: Ctx, part_path: tuple[str | int, ...]
) -> RatioSLI | None:
    """errors/total or good/total; `part_path` is the errors or good field, where a mismatch is reported."""
    if total is None or (errors is None and good is None):
        return None
    kind, part = ("errors", errors) if errors is not None else ("good", good)
    if part is not None and not _same_labels(kind, part, total, ctx, part_path):
        return None
    return RatioSLI(total=total, errors=errors, good=good)


def _same_labels(kind: str, part: Query, total: Query, ctx: Ctx, path: tuple[str | int, ...]) -> bool:
    """Refuse a ratio whose two sides keep different labels: its series never match."""
    part_grouping, total_grouping = promql.grouping(part.template), promql.grouping(total.template)
    if part_grouping is None or total_grouping is None or not part_grouping.differs_from(total_grouping):
        return True
    consequence = ("the error ratio is always 0 and the SLO can never alert" if kind == "errors"
                   else "every event counts as bad and the SLO always alerts")
    example = part_grouping if part_grouping.labels else total_grouping
    ctx.error(path, f"{kind} and total keep different labels ({kind} is aggregated {part_grouping}, "
                    f"total {total_grouping}), so their series never match: {consequence}; "
                    f"aggregate both by the same labels ({example} on both, or on neither)")
    return False


def latency_sli(histogram_text: Any, threshold: Any, ctx: Ctx, path: tuple[str | int, ...],
                buckets: Any = None) -> RatioSLI | None:
    """`buckets`: the histogram's `le` values in seconds, where the spec gives them; the threshold must be one."""
    if ctx.bad(path):
        return None
    seconds = threshold_seconds(threshold, ctx, (*path, "threshold"))
    if seconds is not None and isinstance(buckets, list) and not ctx.bad((*path, "buckets")):
        seconds = _on_a_boundary(seconds, buckets, threshold, ctx, path)
    try:
        hist = promql.histogram(histogram_text) if isinstance(histogram_text, str) else None
    except promql.QueryError as exc:
        ctx.error((*path, "histogram"), str(exc))
        return None
    if hist is None:
        ctx.error((*path, "histogram"), f"expected a histogram selector, got {histogram_text!r}")
        return None
    if seconds is None:
        return None
    good = f"sum(rate({hist.series('_bucket', promql.le_matcher(seconds))}[{WINDOW}]))"
    total = f"sum(rate({hist.series('_count')}[{WINDOW}]))"
    declared = [b for b in buckets if (to_decimal(b) or 0) > 0] if isinstance(buckets, list) else []
    layout = tuple(sorted({bucket_text(b) for b in declared}, key=Decimal))
    return RatioSLI(total=Query(total), good=Query(good), kind="latency", threshold_seconds=seconds,
                    buckets=layout)


def bucket_text(value: Any) -> str:
    """A declared bucket boundary as a client would expose its `le`: 1 as `1` (Go), 1.0 as `1.0` (Python)."""
    return repr(value) if isinstance(value, float) else str(value)


def threshold_seconds(value: Any, ctx: Ctx, path: tuple[str | int, ...]) -> Decimal | None:
    if not isinstance(value, str) and to_decimal(value) is not None:
        ctx.error(path, unitless_threshold(value))
        return None
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\s*", value) if isinstance(value, str) else None
    if not match:
        ctx.error(path, f"expected a bucket boundary such as 300ms or 0.3s, got {value!r}")
        return None
    number = Decimal(match.group(1))
    seconds = number / 1000 if match.group(2) == "ms" else number
    if seconds <= 0:
        ctx.error(path, f"must be greater than 0, got {value!r}")
        return None
    return seconds.normalize()


def _on_a_boundary(seconds: Decimal, buckets: list[Any], threshold: Any, ctx: Ctx,
                   path: tuple[str | int, ...]) -> Decimal | None:
    """The threshold, if it is one of the bucket boundaries; else an error naming the nearest ones.

    A threshold between two boundaries selects no `_bucket` series at all: the SLI would read
    every request as slow (or, with `good`, the ratio as 0), and nothing else would notice.
    """
    bounds = sorted({b for b in (to_decimal(v) for v in buckets) if b is not None and b > 0})
    if not bounds or seconds in bounds:
        return seconds
    below = [b for b in bounds if b < seconds][-1:]
    above = [b for b in bounds if b > seconds][:1]
    nearest = " or ".join(_duration_text(b) for b in (*below, *above))
    ctx.error((*path, "threshold"), f"{threshold} is not one of the histogram's bucket boundaries "
                                    f"({', '.join(format_decimal(b) for b in bounds)} seconds), so it selects no "
                                    f"series and every request would count as slow: use {nearest}")
    return None


def _duration_text(seconds: Decimal) -> str:
    return f"{format_decimal(seconds * 1000)}ms" if seconds < 1 else f"{format_decimal(seconds)}s"


# Why a runbook_url is https, said alike by the spec schema and `sre runbooks check`.
RUNBOOK_HTTPS = "on-call opens it from a phone, at night; use https://"


def unitless_threshold(value: Any) -> str:
    """The fix for a threshold written as a bare number: 250 is 250 seconds to Prometheus, 250ms to most people.

    A wrong guess selects a bucket that does not exist, so every request counts as slow;
    the likelier reading is offered first.
    """
    number = to_decimal(value) or Decimal(0)
    as_ms = f"{format_decimal(number)}ms ({format_decimal(number / 1000)}s)"
    as_s = f"{format_decimal(number)}s ({format_decimal(number * 1000)}ms)"
    first, second = (as_ms, as_s) if number >= 1 else (as_s, as_ms)
    return (f"{format_decimal(number)} has no unit: write {first} or {second}, "
            "whichever of the histogram's bucket boundaries (its le values) you mean")


def raw_sli(text: Any, ctx: Ctx, path: tuple[str | int, ...], base: Duration,
            placeholder: str = WINDOW) -> RawSLI | None:
    built = query(text, ctx, path, base, selector_ok=False, placeholder=placeholder)
    return RawSLI(built) if built else None


def labels(
    value: Any, ctx: Ctx, path: tuple[str | int, ...], *, reserved: str = "error"
) -> tuple[tuple[str, str], ...]:
    """Labels as sorted pairs. `reserved="drop"` (importers) warns and drops compiler-owned names."""
    if value is None or ctx.bad(path):
        return ()
    if not isinstance(value, dict):
        ctx.error(path, f"expected a mapping of label names to values, got {value!r}")
        return ()
    out: dict[str, str] = {}
    for key, raw in value.items():
        if not LABEL_NAME.match(str(key)) or str(key).startswith("__"):
            ctx.error((*path, key), f"'{key}' is not a valid Prometheus label name")
            continue
        if key in RESERVED_LABELS:
            message = f"label '{key}' is set by the compiler (service, slo, team, severity)"
            if reserved == "drop":
                ctx.warn((*path, key), f"{message}; the spec's value {raw!r} is left out")
            else:
                ctx.error((*path, key), f"{message}; remove it or rename it")
            continue
        if isinstance(raw, (dict, list)) or raw is None:
            ctx.error((*path, key), f"label values must be strings, got {raw!r}")
            continue
        out[key] = str(raw).lower() if isinstance(raw, bool) else str(raw)
    return tuple(sorted(out.items()))


def annotation_map(value: Any, ctx: Ctx, path: tuple[str | int, ...]) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        ctx.error(path, f"expected a mapping of annotation names to text, got {value!r}")
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def alert_spec(value: Any, ctx: Ctx, path: tuple[str | int, ...], *, reserved: str = "error",
               base: AlertSpec | None = None, disabled_key: str = "enabled") -> AlertSpec:
    """One alert's switch, labels and annotations, merged over `base`."""
    base = base or AlertSpec()
    if not isinstance(value, dict):
        return base
    enabled = base.enabled
    if disabled_key == "enabled" and isinstance(value.get("enabled"), bool):
        enabled = value["enabled"]
    if disabled_key == "disable" and isinstance(value.get("disable"), bool):
        enabled = not value["disable"]
    merged_labels = dict(base.labels) | dict(labels(value.get("labels"), ctx, (*path, "labels"), reserved=reserved))
    merged_ann = dict(base.annotations) | dict(annotation_map(value.get("annotations"), ctx, (*path, "annotations")))
    return AlertSpec(enabled, tuple(sorted(merged_labels.items())), tuple(sorted(merged_ann.items())))


def default_alert_name(service: str, slo: str) -> str:
    return camel(service, slo) + "BudgetBurn"


def camel(*parts: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    name = "".join(w[:1].upper() + w[1:] for w in words if w)
    return name if name and not name[0].isdigit() else f"SLO{name}"


def check_burn_thresholds(objective_ratio: Decimal, catalog: WindowCatalog, ctx: Ctx, path: tuple[str | int, ...],
                          enabled: Mapping[str, bool], page_off: str | None) -> None:
    """Warn where a burn-rate window can never be reached (it would need more than 100% errors);
    refuse an SLO whose page can never fire at all.

    CI must not go green on a page that cannot page: the fix is a higher objective, or
    switching the page off in the spec (`page_off` says how in this format), which says
    tickets alone are intended. `enabled` is keyed by severity; disabled alerts are not checked.
    """
    budget = 1 - objective_ratio
    unreachable = [w for w in catalog.windows if w.burn_rate * budget >= 1 and enabled.get(w.severity, True)]
    pages = catalog.by_severity("page")
    if pages and enabled.get("page", True) and all(w in unreachable for w in pages):
        lowest = min(w.burn_rate for w in pages)
        fix = f", or set {page_off} if tickets are enough" if page_off else ""
        ctx.error(path, f"the page alert can never fire: even its slowest burn rate, {format_decimal(lowest)}x "
                        f"a {format_decimal(budget * 100)}% budget, needs more than 100% errors; "
                        f"raise the objective{fix}")
        unreachable = [w for w in unreachable if w.severity != "page"]
    for window in unreachable:
        ctx.warn(path, f"the {window.severity} alert over {window.long} can never fire: "
                       f"a {format_decimal(window.burn_rate)}x burn of a {format_decimal(budget * 100)}% budget "
                       "needs more than 100% errors")
