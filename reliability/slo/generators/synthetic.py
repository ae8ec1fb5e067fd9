"""Synthetic traffic for an SLI: which raw series a good and a bad event touch.

The generated promtool tests need input series that the user's own queries
read. For queries that are sums and differences of `rate()`/`increase()` over
counters (what almost every SLI is), the value of a query is linear in the
number of good and bad events, and each metric contributes independently. So
we pick, per metric, one label set for a good event and one for a bad event
such that total = good + bad and errors = bad (or good = good), searching over
label values taken from the queries' own matchers. Histograms are modelled as
real histograms: a fast event lands in every bucket, a slow one in `+Inf` only.
Where a latency spec declares its bucket layout (`latency.buckets`), the series are
that layout's: a fast event's latency is the threshold (it lands in every bucket
from the threshold up), a slow one's just above it (the buckets above), so a
threshold that is not one of the boundaries selects no bucket and cannot be tested.

Queries of other shapes (subqueries over gauges, ratios of ratios) return a
reason instead, and the compiler says which SLOs it could not test.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import promql_parser as pp

from .. import promql
from ..model import SLI, RatioSLI

RATE_FUNCS = {"rate": 1, "irate": 1, "increase": None}  # None: scaled by the window
_FILLER = ("synthetic", "x", "0", "other", "zz")
_MAX_LABELSETS = 64


class NotSynthesizable(Exception):
    pass


@dataclass(frozen=True)
class Series:
    text: str  # promtool series notation: metric{label="value",...}
    good: int  # increment per good event
    bad: int  # increment per bad event


@dataclass(frozen=True)
class EventModel:
    series: tuple[Series, ...]


# ---------------------------------------------------------------- regex examples

def _example(node: Any) -> str:
    """A short string matching a parsed regex (the tree of Python's own regex parser)."""
    out = []
    for op, arg in node:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append("0")
        elif name == "IN":
            out.append(_in_example(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            out.append(_example(sub) * max(low, 0))
        elif name == "SUBPATTERN":
            out.append(_example(arg[-1]))
        elif name == "BRANCH":
            out.append(_example(arg[1][0]))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise NotSynthesizable(f"regex construct {name} not supported")
    return "".join(out)


def _in_example(items: Any) -> str:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return {"CATEGORY_DIGIT": "0", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " "}.get(str(arg), "a")
        if name == "NEGATE":
            continue
    return "a"


def regex_example(pattern: str) -> str:
    from re import _parser  # type: ignore[attr-defined]

    try:
        example = _example(_parser.parse(pattern))
    except (re.error, RecursionError) as exc:
        raise NotSynthesizable(f"regex {pattern!r}: {exc}") from None
    if not re.fullmatch(pattern, example):
        raise NotSynthesizable(f"no example found for regex {pattern!r}")
    return example


# ---------------------------------------------------------------- matchers

@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # "=", "!=", "=~", "!~"
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...]

    def matches(self, metric: str, labels: dict[str, str]) -> bool:
        return metric == self.metric and all(m.matches(labels) for m in self.matchers)


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _selector(node: pp.VectorSelector) -> Selector:
    if not node.name:
        raise NotSynthesizable("selectors without a metric name")
    if node.matchers.or_matchers:
        raise NotSynthesizable("'or' label matchers")
    matchers = []
    for m in node.matchers.matchers:
        if m.name == "__name__":
            continue
        matchers.append(Matcher(m.name, _OPS[str(m.op).split(".")[-1].split("(")[0]], m.value))
    return Selector(node.name, tuple(matchers))


# ---------------------------------------------------------------- linear analysis

Term = tuple[Selector, Fraction]  # a selector's rate, scaled


def _linear(node: Any) -> list[Term] | None:
    """Terms of a query that is a linear combination of counter rates; None if it is not."""
    if isinstance(node, pp.ParenExpr):
        return _linear(node.expr)
    if isinstance(node, pp.AggregateExpr):
        if str(node.op) != "sum" or (node.modifier and node.modifier.labels):
            return None
        return _linear(node.expr)
    if isinstance(node, pp.Call):
        name = node.func.name
        if name in RATE_FUNCS and isinstance(node.args[0], pp.MatrixSelector):
            matrix = node.args[0]
            if matrix.vector_selector.offset is not None:
                return None
            scale = Fraction(1) if RATE_FUNCS[name] else Fraction(int(matrix.range.total_seconds()))
            return [(_selector(matrix.vector_selector), scale)]
        if name == "clamp_min" and isinstance(node.args[1], pp.NumberLiteral) and node.args[1].val == 0:
            return _linear(node.args[0])
        if name == "vector" and isinstance(node.args[0], pp.NumberLiteral) and node.args[0].val == 0:
            return []
        return None
    if isinstance(node, pp.UnaryExpr):
        inner = _linear(node.expr)
        return None if inner is None else [(s, -c) for s, c in inner]
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op).lower()
        modifier = node.modifier
        if op == "or":  # `x or vector(0)`: present side wins; both linear with the same value where present
            left, right = _linear(node.lhs), _linear(node.rhs)
            if left is not None and right == []:
                return left
            return None
        if modifier is not None and modifier.matching is not None and modifier.matching.labels:
            return None
        left, right = _linear(node.lhs), _linear(node.rhs)
        if op in ("+", "-"):
            if left is None or right is None:
                return None
            return left + ([(s, -c) for s, c in right] if op == "-" else right)
        if op in ("*", "/"):
            if left is not None and isinstance(_strip(node.rhs), pp.NumberLiteral):
                factor = Fraction(_strip(node.rhs).val)
                factor = 1 / factor if op == "/" else factor
                return [(s, c * factor) for s, c in left]
            if op == "*" and right is not None and isinstance(_strip(node.lhs), pp.NumberLiteral):
                factor = Fraction(_strip(node.lhs).val)
                return [(s, c * factor) for s, c in right]
        return None
    return None


def _strip(node: Any) -> Any:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


# ---------------------------------------------------------------- candidate series

@dataclass(frozen=True)
class Buckets:
    """A histogram family's `le` values (with `+Inf`, in order) and the buckets an event lands in."""

    les: tuple[str, ...]
    threshold: Decimal | None = None  # the declared layout's cut; None: a fast event lands in every bucket

    def hit(self, le: str, fast: bool) -> bool:
        if le == "+Inf":
            return True
        if self.threshold is None:
            return fast
        bound = Decimal(le)
        return bound >= self.threshold if fast else bound > self.threshold


@dataclass(frozen=True)
class Choice:
    """What one event does to one metric family."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    fast: bool = True  # histograms: a fast event lands in every bucket

    def series(self, hist: dict[str, Buckets]) -> list[tuple[str, dict[str, str]]]:
        labels = dict(self.labels)
        if self.metric in hist:  # a histogram family, by base name
            base = self.metric
            out = [(f"{base}_count", labels)]
            for le in hist[base].les:
                if hist[base].hit(le, self.fast):
                    out.append((f"{base}_bucket", labels | {"le": le}))
            return out
        return [(self.metric, labels)]


def _candidates(selectors: list[Selector], layout: Buckets | None = None,
                ) -> tuple[dict[str, list[Choice]], dict[str, Buckets]]:
    """Label sets an event may carry, per metric family; a histogram's buckets are `layout` where declared."""
    values: dict[str, dict[str, set[str]]] = {}
    les_of: dict[str, list[str]] = {}
    families: dict[str, str] = {}
    bucket_bases = {s.metric[: -len("_bucket")] for s in selectors
                    if s.metric.endswith("_bucket") and any(m.name == "le" for m in s.matchers)}
    for sel in selectors:
        family = sel.metric
        for suffix in ("_bucket", "_count", "_sum"):
            if sel.metric.endswith(suffix) and sel.metric[: -len(suffix)] in bucket_bases:
                family = sel.metric[: -len(suffix)]
        families[sel.metric] = family
        labels = values.setdefault(family, {})
        for m in sel.matchers:
            if m.name == "le" and family in bucket_bases:
                les = les_of.setdefault(family, [])
                if m.op == "=":
                    les.append(m.value)
                elif m.op == "=~":
                    les.append(regex_example(m.value))
                else:
                    raise NotSynthesizable("negative le matchers")
                continue
            options = labels.setdefault(m.name, set())
            if m.op in ("=", "!="):
                options.update({m.value, next(f for f in _FILLER if f != m.value)})
            else:
                options.add(regex_example(m.value))
                options.add(next((f for f in (*_FILLER, "") if not re.fullmatch(m.value, f)), _FILLER[0]))
    hist = {family: layout or Buckets(tuple(sorted(set(les) | {"+Inf"}, key=lambda v: float(v))))
            for family, les in les_of.items()}
    choices: dict[str, list[Choice]] = {}
    for family, labels in values.items():
        names = sorted(labels)
        combos = list(itertools.product(*(sorted(labels[n]) for n in names)))[:_MAX_LABELSETS]
        speeds = (True, False) if family in hist else (True,)
        choices[family] = [
            Choice(family, tuple((n, v) for n, v in zip(names, combo, strict=True) if v != ""), fast)
            for combo in combos for fast in speeds
        ]
    return choices, hist


def _coefficient(terms: list[Term], choice: Choice | None, hist: dict[str, Buckets]) -> Fraction:
    if choice is None:
        return Fraction(0)
    total = Fraction(0)
    for metric, labels in choice.series(hist):
        for sel, scale in terms:
            if sel.matches(metric, labels):
                total += scale
    return total


def _solve(targets: dict[str, tuple[list[Term], Fraction]], choices: dict[str, list[Choice]],
           hist: dict[str, Buckets]) -> dict[str, Choice | None] | None:
    """One choice per metric family (or none) so every query gets its target coefficient."""
    families = sorted(choices)
    goals = list(targets.values())
    # Each choice's coefficient in each query, computed once rather than once per combination tried.
    options = [[(c, tuple(_coefficient(terms, c, hist) for terms, _ in goals)) for c in (None, *choices[f])]
               for f in families]
    wanted = tuple(target for _, target in goals)
    for combo in itertools.product(*options):
        if tuple(map(sum, zip(*(coefficients for _, coefficients in combo), strict=True))) == wanted:
            return dict(zip(families, (c for c, _ in combo), strict=True))
    return None


def event_model(sli: SLI, window: str = "5m") -> EventModel:
    """The series a good and a bad event increment, or NotSynthesizable with the reason."""
    if isinstance(sli, RatioSLI):
        queries = {"total": sli.total.render(window)}
        numerator = "errors" if sli.errors is not None else "good"
        queries[numerator] = (sli.errors or sli.good).render(window)  # type: ignore[union-attr]
        forms = {k: _linear(promql.parse(q)) for k, q in queries.items()}
    else:
        forms = _raw_forms(sli.error_ratio.render(window))
        numerator = "errors" if "errors" in forms else "good"
    bad_query = [k for k, v in forms.items() if v is None]
    if bad_query:
        raise NotSynthesizable(f"the {bad_query[0]} query is not a sum of counter rates")
    terms = {k: v for k, v in forms.items() if v is not None}
    # The same window everywhere: a scale factor common to all terms (increase()) is fine.
    scale = next((abs(c) for ts in terms.values() for _, c in ts if c), Fraction(1))
    selectors = [s for ts in terms.values() for s, _ in ts]
    choices, hist = _candidates(selectors, _declared_layout(sli))
    good_target = {"total": (terms["total"], scale), numerator: (terms[numerator],
                                                                  scale if numerator == "good" else Fraction(0))}
    bad_target = {"total": (terms["total"], scale), numerator: (terms[numerator],
                                                                 Fraction(0) if numerator == "good" else scale)}
    good = _solve(good_target, choices, hist)
    bad = _solve(bad_target, choices, hist)
    if good is None or bad is None:
        raise NotSynthesizable("no label values satisfy the queries' matchers for good and bad events")
    counts: dict[str, list[int]] = {}
    for picks, column in ((good, 0), (bad, 1)):
        for choice in picks.values():
            if choice is None:
                continue
            for metric, labels in choice.series(hist):
                key = _series_text(metric, labels)
                counts.setdefault(key, [0, 0])[column] += 1
    return EventModel(tuple(Series(k, v[0], v[1]) for k, v in sorted(counts.items())))


def _declared_layout(sli: SLI) -> Buckets | None:
    """The bucket layout a latency spec declares, cut at its threshold; None where it declares none."""
    if not isinstance(sli, RatioSLI) or not sli.buckets or sli.threshold_seconds is None:
        return None
    bounds = {Decimal(le) for le in sli.buckets}
    if sli.threshold_seconds not in bounds:
        listed = ", ".join(sli.buckets)
        raise NotSynthesizable(f"the threshold, {sli.threshold_seconds}s, is not one of the declared bucket "
                               f"boundaries ({listed}): no bucket series counts a fast request")
    return Buckets((*sli.buckets, "+Inf"), sli.threshold_seconds)


def _raw_forms(query: str) -> dict[str, list[Term] | None]:
    """`1 - (good / total)` or `errors / total` as a raw error-ratio query."""
    node = _strip(promql.parse(query))
    if isinstance(node, pp.BinaryExpr) and str(node.op) == "-" and isinstance(_strip(node.lhs), pp.NumberLiteral) \
            and _strip(node.lhs).val == 1:
        inner = _strip(node.rhs)
        if isinstance(inner, pp.BinaryExpr) and str(inner.op) == "/" and not _has_matching(inner):
            return {"good": _linear(inner.lhs), "total": _linear(inner.rhs)}
    if isinstance(node, pp.BinaryExpr) and str(node.op) == "/" and not _has_matching(node):
        return {"errors": _linear(node.lhs), "total": _linear(node.rhs)}
    return {"error_ratio": None}


def _has_matching(node: pp.BinaryExpr) -> bool:
    return node.modifier is not None and node.modifier.matching is not None and bool(node.modifier.matching.labels)


def _series_text(metric: str, labels: dict[str, str]) -> str:
    if not labels:
        return metric
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def traffic_scale(fractions: list[Decimal]) -> int:
    """Events per minute so that every fraction of it is a whole number of events."""
    scale = 100
    for fraction in fractions:
        while (fraction * scale) % 1 != 0 and scale < 10**9:
            scale *= 10
    return scale
