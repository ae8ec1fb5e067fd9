"""PromQL handling through a real parser (promql-parser), not string surgery.

Queries are kept as the user wrote them; the parser validates them, finds
their selectors and, for plain counter selectors, builds the `rate()` wrapping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache

import promql_parser

from ..durations import Duration
from .model import WINDOW

_PLACEHOLDER = re.compile(r"\{\{\s*\.?\s*window\s*\}\}")
# A window that no user writes, used to find where the parser printed our range.
_SENTINEL = timedelta(seconds=31_415_926)
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


class QueryError(ValueError):
    pass


def normalize_placeholder(text: str) -> str:
    """Accept `{{.window}}` (Sloth) and `{{ window }}`; write `{{window}}`."""
    return _PLACEHOLDER.sub(WINDOW, text)


def has_placeholder(text: str) -> bool:
    return WINDOW in normalize_placeholder(text)


@cache
def parse(query: str) -> promql_parser.Expr:
    """Parse a concrete query; raises QueryError with the parser's reason."""
    try:
        return promql_parser.parse(query)
    except (ValueError, RuntimeError) as exc:
        raise QueryError(f"invalid PromQL: {exc}") from None


def check_template(template: str, window: Duration) -> None:
    """Parse the template with a real window filled in."""
    parse(template.replace(WINDOW, str(window)))


def plain_selector(text: str) -> promql_parser.VectorSelector | None:
    """The selector if `text` is nothing but a vector selector (`metric{a="b"}`)."""
    if has_placeholder(text):
        return None
    try:
        expr = parse(text.strip())
    except QueryError:
        return None
    if isinstance(expr, promql_parser.VectorSelector) and expr.offset is None and expr.at is None:
        return expr
    return None


def selector_text(selector: promql_parser.VectorSelector) -> str:
    """Print a selector; an empty `{}` after a metric name is dropped."""
    text = str(selector)
    return text[:-2] if text.endswith("{}") else text


def counter_rate(selector: promql_parser.VectorSelector) -> str:
    """`sum(rate(<selector>[{{window}}]))`: a plain counter selector as an SLI query."""
    return f"sum(rate({selector_text(selector)}[{WINDOW}]))"


@cache
def _sentinel_text() -> str:
    printed = str(parse(f"x[{promql_parser.display_duration(_SENTINEL)}]"))
    return printed[printed.index("[") + 1 : printed.index("]")]


def wrap_counters(query: str) -> str:
    """Wrap every bare selector of `query` in `rate(...[{{window}}])`.

    OpenSLO's `counter: true` means the query reads raw counters, such as
    `sum(http_requests{code="200"})`; the SLI needs their per-window rate, summed
    over the SLO unless the query aggregates itself.
    """
    expr = parse(query)
    found_ranges: list[str] = []

    def pre(node: promql_parser.Expr) -> None:
        if isinstance(node, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr)):
            found_ranges.append(str(node))

    promql_parser.walk(expr, pre_visit=pre)
    if found_ranges:
        raise QueryError(
            f"counter queries must select plain counters, without a range; found {found_ranges[0]}"
        )
    window = promql_parser.display_duration(_SENTINEL)

    def post(node: promql_parser.Expr) -> promql_parser.Expr | None:
        if isinstance(node, promql_parser.VectorSelector):
            return parse(f"rate({selector_text(node)}[{window}])")
        return None

    wrapped = str(promql_parser.transform(expr, post_visit=post))
    wrapped = wrapped.replace(f"[{_sentinel_text()}]", f"[{WINDOW}]").replace("{}[", "[")
    # An SLI counts the events of the whole SLO: an expression that does not aggregate itself
    # (`a + b`, `a - ignoring(code) b`) is summed, or it would be one SLI per series.
    return wrapped if _aggregated(expr) else f"sum({wrapped})"


def _aggregated(expr: promql_parser.Expr) -> bool:
    """`expr` yields at most one series per group it names: an aggregation, or arithmetic of them."""
    if isinstance(expr, promql_parser.ParenExpr):
        return _aggregated(expr.expr)
    if isinstance(expr, promql_parser.BinaryExpr):
        return all(_aggregated(side) or _is_number(side) for side in (expr.lhs, expr.rhs))
    return isinstance(expr, promql_parser.AggregateExpr)


def selectors(query: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def pre(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(parse(query), pre_visit=pre)
    return found


# Aggregations whose result carries exactly the grouping labels (topk and friends keep every label).
_GROUPING_AGGREGATIONS = frozenset({"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "quantile"})


@dataclass(frozen=True)
class Grouping:
    """The labels an outer aggregation leaves: `by (...)` (none for a plain `sum(...)`) or `without (...)`."""

    without: bool
    labels: tuple[str, ...]

    def __str__(self) -> str:
        if not self.without and not self.labels:
            return "to no labels"
        return f"{'without' if self.without else 'by'} ({', '.join(self.labels)})"

    def differs_from(self, other: Grouping) -> bool:
        """True only where the two results surely keep different labels (by vs without cannot be told)."""
        return self.without == other.without and set(self.labels) != set(other.labels)


def grouping(template: str) -> Grouping | None:
    """How the outermost aggregation of an SLI query groups, or None where that cannot be told.

    Parentheses, a unary minus and arithmetic or comparison with a number keep the labels, so
    they are looked through; anything else (vector matching, functions, `or vector(0)`) is None.
    """
    try:
        expr = parse(template.replace(WINDOW, "5m"))
    except QueryError:
        return None
    while True:
        if isinstance(expr, (promql_parser.ParenExpr, promql_parser.UnaryExpr)):
            expr = expr.expr
        elif isinstance(expr, promql_parser.BinaryExpr) and _is_number(expr.rhs):
            expr = expr.lhs
        elif isinstance(expr, promql_parser.BinaryExpr) and _is_number(expr.lhs):
            expr = expr.rhs
        else:
            break
    if not isinstance(expr, promql_parser.AggregateExpr) or str(expr.op) not in _GROUPING_AGGREGATIONS:
        return None
    modifier = expr.modifier
    if modifier is None:
        return Grouping(False, ())
    return Grouping(modifier.type == promql_parser.AggModifierType.Without, tuple(sorted(modifier.labels)))


def _is_number(expr: promql_parser.Expr) -> bool:
    while isinstance(expr, (promql_parser.ParenExpr, promql_parser.UnaryExpr)):
        expr = expr.expr
    return isinstance(expr, promql_parser.NumberLiteral)


@dataclass(frozen=True)
class Histogram:
    base: str  # metric name without _bucket/_count/_sum
    matchers: tuple[str, ...]  # printed matchers, `le` excluded

    def series(self, suffix: str, extra: str = "") -> str:
        parts = list(self.matchers) + ([extra] if extra else [])
        return f"{self.base}{suffix}{{{','.join(parts)}}}" if parts else f"{self.base}{suffix}"


def histogram(text: str) -> Histogram:
    selector = plain_selector(text)
    if selector is None or not selector.name:
        raise QueryError("expected a histogram selector such as http_request_duration_seconds{job=\"api\"}")
    base = selector.name
    for suffix in HISTOGRAM_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    matchers = tuple(
        str(m) for m in selector.matchers.matchers if m.name not in ("le", "__name__")
    )
    return Histogram(base, matchers)


def le_matcher(threshold: Decimal) -> str:
    """Match the bucket of `threshold` however it was written.

    Prometheus 3 stores classic-histogram `le` in float form (`le="1.0"`),
    Prometheus 2 as the client exposed it (`le="1"` from Go, `le="1.0"` from
    Python); `0.3` and `0.30` in a spec are the same bucket.
    """
    text = format(threshold.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if "." not in text:
        return f'le=~"{text}|{text}\\\\.0"'
    return f'le="{text}"'


def with_matcher(query: str, matcher: promql_parser.Matcher) -> str:
    """`query` with `matcher` added to every vector selector (also inside range selectors).

    Each selector is rebuilt by the parser from its name and matchers; a selector with
    `offset` or `@` is refused, since it reads another time than the one being judged.
    """
    expr = parse(query)

    def post(node: promql_parser.Expr) -> promql_parser.Expr | None:
        if not isinstance(node, promql_parser.VectorSelector):
            return None
        if node.offset is not None or node.at is not None:
            raise QueryError(f"{node} reads another time (offset or @): it cannot judge the present")
        matchers = ", ".join(str(m) for m in [*node.matchers.matchers, matcher])
        return parse(f"{node.name or ''}{{{matchers}}}")

    return str(promql_parser.transform(expr, post_visit=post))
