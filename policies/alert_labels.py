"""The labels an alerting rule fires with, read from the rule files without a Prometheus.

An alert fires with the labels of its expression's result plus the rule's own. Where the
expression only compares and combines selected series (`>`, `and`, `or`, label-keeping functions;
no aggregation, vector matching or label rewriting), each result keeps the labels of a series
it selected; where every series it can select is a recording rule beside it, those rules' labels
are known. `sre slo compile` writes burn-rate alerts this way: the SLO's `service`, `slo`, `team`
and the spec's labels come with the recorded error ratios, and the rule itself names only
`severity`, since Prometheus expands every label of a firing alert as a template at each
evaluation. Anything this reading cannot see through counts as the rule's own labels alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._common import get, listing, mapping

_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}")
_EQUALS = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)\s*(\(?)")
# Keywords of PromQL's binary operators and modifiers that leave a result's labels as they were.
_KEEPING_WORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN"})
# Functions that change which labels a result has (aggregations, vector matching, rewriting).
_RESHAPING = frozenset({
    "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "limitk", "limit_ratio", "by", "without", "on", "ignoring", "group_left", "group_right",
    "label_replace", "label_join", "absent", "absent_over_time", "vector", "scalar", "time", "sort_by_label",
})


def recorded_series(groups: Iterable[Any]) -> dict[str, list[dict[str, str]]]:
    """Record name -> the label sets its recording rules set, from rule groups."""
    recorded: dict[str, list[dict[str, str]]] = {}
    for group in groups:
        for rule in listing(get(group, "rules")):
            name = get(rule, "record")
            if isinstance(name, str):
                labels = {str(k): v for k, v in mapping(get(rule, "labels")).items() if isinstance(v, str)}
                recorded.setdefault(name, []).append(labels)
    return recorded


def _equalities(body: str) -> dict[str, str] | None:
    """`a="x",b="y"` -> {a: x, b: y}; None when a matcher is not an equality (=~, !=, !~)."""
    found: dict[str, str] = {}
    for part in (p for p in _split_matchers(body) if p.strip()):
        match = _EQUALS.fullmatch(part)
        if match is None:
            return None
        found[match.group(1)] = match.group(2).replace('\\"', '"').replace("\\\\", "\\")
    return found


def _split_matchers(body: str) -> list[str]:
    """Split a selector's body on the commas outside string literals."""
    parts, start, quoted, escaped = [], 0, False, False
    for index, char in enumerate(body):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = quoted
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append(body[start:index])
            start = index + 1
    parts.append(body[start:])
    return parts


def _keeps_labels(expr: str) -> bool:
    """Whether every name left outside selectors and strings is a label-keeping keyword or function."""
    rest = _SELECTOR.sub(" ", _STRING.sub(" ", expr))
    for name, call in _NAME.findall(rest):
        if call:
            if name in _RESHAPING:
                return False
        elif name not in _KEEPING_WORDS:
            return False  # a bare metric name: a series whose labels the rule files do not say
    return True


def fired_labels(rule: Any, recorded: Mapping[str, list[dict[str, str]]]) -> dict[str, str]:
    """The labels an alerting rule certainly fires with: its own, over those every series its
    expression selects shares (only where the expression keeps them and each series is recorded)."""
    own = {str(k): v for k, v in mapping(get(rule, "labels")).items() if isinstance(v, str)}
    expr = get(rule, "expr")
    if not isinstance(expr, str) or not _keeps_labels(expr):
        return own
    shared: set[tuple[str, str]] | None = None
    for name, body in _SELECTOR.findall(expr):
        wanted = _equalities(body)
        sets = [labels for labels in recorded.get(name, [])
                if wanted is not None and all(labels.get(k) == v for k, v in wanted.items())]
        if not sets:
            return own  # a series the rule files do not record, or one they cannot pin down
        common = set.intersection(*(set(labels.items()) for labels in sets))
        shared = common if shared is None else shared & common
    return dict(sorted(shared or ())) | own
