"""promtool unit tests per SLO, proving the generated rules on synthetic traffic.

Scenarios (each a promtool test group with its own synthetic series):
  outage     healthy history, then 100% errors: the page fires, and how fast;
  under      a constant error ratio just under the objective: neither page
             nor ticket (every window reads that same ratio);
  slow-burn  a 2x burn: tickets, never pages;
  recovery   a short outage, then healthy: the page resolves once the short
             windows have cleared, while the long windows are still high;
  idle       traffic stops (counters flat): error ratios are 0, not NaN, and
             the budget is untouched;
  no-data    the SLI's series vanish: the no-data alert fires after its `for`.

What to assert is decided by a small simulator of the intended semantics
(multi-window burn rates, traffic-weighted windows), written independently of
the PromQL it checks. Checks are only placed at moments where every window
is clearly on one side of its threshold, so rounding in Prometheus' rate
extrapolation cannot flip an outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...durations import Duration
from ...problems import Location, Problems
from .. import naming
from ..model import SLO, RatioSLI, Service
from ..windows import WindowCatalog
from . import rules, synthetic

EVAL = Duration.parse("1m")
TRANSITION_MARGIN = 0.25  # near a change of traffic, Prometheus' windows may differ from the ideal by this much
STEADY_MARGIN = 0.02  # constant error ratios are computed exactly


@dataclass(frozen=True)
class Segment:
    minutes: int
    good: int  # events per minute
    bad: int
    present: bool = True  # False: the series have no samples


class Timeline:
    """Per-minute good and bad events; the ideal window arithmetic the rules implement."""

    def __init__(self, segments: list[Segment]):
        self.good = [0]
        self.bad = [0]
        self.present = [True]
        for seg in segments:
            for _ in range(seg.minutes):
                self.good.append(seg.good)
                self.bad.append(seg.bad)
                self.present.append(seg.present)
        self.cum_good = _cumsum(self.good)
        self.cum_bad = _cumsum(self.bad)
        self.length = len(self.good) - 1

    def _raw(self, t: int, w: int) -> tuple[float, float]:
        start = max(0, t - w)
        bad = self.cum_bad[t] - self.cum_bad[start]
        total = bad + self.cum_good[t] - self.cum_good[start]
        return bad, total

    def ratio(self, t: int, w: int, base: int) -> float:
        if w <= rules.MAX_RAW_WINDOW.ms // 60_000:
            bad, total = self._raw(t, w)
        else:  # time average of base-window rates over the window
            bad = total = 0.0
            for j in range(max(1, t - w + 1), t + 1):
                b, tot = self._raw(j, base)
                span = min(base, j)
                bad += b / span
                total += tot / span
        return bad / total if total else 0.0


def _cumsum(values: list[int]) -> list[int]:
    out, acc = [], 0
    for v in values:
        acc += v
        out.append(acc)
    return out


def _minutes(d: Duration) -> int:
    return d.ms // 60_000


class Predictor:
    """Whether page and ticket fire at a minute: True, False, or None when too close to call."""

    def __init__(self, slo: SLO, catalog: WindowCatalog, timeline: Timeline, margin: float):
        self.slo, self.catalog, self.timeline, self.margin = slo, catalog, timeline, margin
        self.base = _minutes(catalog.base)

    def _cond(self, t: int, w: int, limit: float) -> bool | None:
        value = self.timeline.ratio(t, w, self.base)
        if value >= limit * (1 + self.margin):
            return True
        if value <= limit * (1 - self.margin):
            return False
        return None

    def _condition(self, severity: str, t: int) -> bool | None:
        result: bool | None = False
        for window in self.catalog.by_severity(severity):
            limit = float(rules.threshold(self.slo, window.burn_rate))
            long, short = self._cond(t, _minutes(window.long), limit), self._cond(t, _minutes(window.short), limit)
            clause = False if (long is False or short is False) else (True if long and short else None)
            if clause:
                return True
            if clause is None:
                result = None
        return result

    def fires(self, severity: str, t: int) -> bool | None:
        spec = self.slo.alerting.page if severity == "page" else self.slo.alerting.ticket
        if not spec.enabled or not self.catalog.by_severity(severity):
            return False
        waits = [w.for_ for w in self.catalog.by_severity(severity) if w.for_]
        hold = _minutes(max(waits)) if waits else 0
        now = self._condition(severity, t)
        if now is False or hold == 0:
            return now
        states = [self._condition(severity, t - k) for k in range(hold + 1) if t - k >= 0]
        if all(s is True for s in states) and t - hold >= 0:
            return True
        if any(s is False for s in states):
            return None if now is None else False
        return None

    def state(self, t: int) -> dict[str, bool] | None:
        out = {}
        for severity in ("page", "ticket"):
            value = self.fires(severity, t)
            if value is None:
                return None
            out[severity] = value
        return out

    def settle(self, start: int, limit: int, want: dict[str, bool] | None = None) -> tuple[int, dict[str, bool]] | None:
        """The first minute from `start` whose state is certain (and matches `want`)."""
        for t in range(start, min(start + limit, self.timeline.length) + 1):
            state = self.state(t)
            if state is not None and all(state.get(k) == v for k, v in (want or {}).items()):
                return t, state
        return None


def _series_values(timeline: Timeline, good_inc: int, bad_inc: int) -> str:
    """promtool's expanding notation for a counter, e.g. `0 60+60x89 5400+0x29 _x10`.

    `a+bxn` expands to the n+1 values a, a+b, ..., a+nb and `_xn` to n missing samples.
    """
    tokens = ["0"]
    value = 0
    k = 1
    while k <= timeline.length:
        inc = timeline.good[k] * good_inc + timeline.bad[k] * bad_inc
        present = timeline.present[k]
        run = 1
        while (k + run <= timeline.length and timeline.present[k + run] == present
               and timeline.good[k + run] * good_inc + timeline.bad[k + run] * bad_inc == inc):
            run += 1
        if present:
            tokens.append(f"{value + inc}+{inc}x{run - 1}")
            value += inc * run
        else:
            tokens.append(f"_x{run}")
        k += run
    return " ".join(tokens)


def _input_series(model: synthetic.EventModel, timeline: Timeline) -> list[dict[str, str]]:
    return [{"series": s.text, "values": _series_values(timeline, s.good, s.bad)} for s in model.series]


def _alert(slo: SLO, catalog: WindowCatalog, severity: str) -> dict[str, Any]:
    rule = rules._burn_alert(slo, catalog, severity)  # noqa: SLF001 - the same function that wrote the rule
    assert rule is not None
    return {"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}


def _check(slo: SLO, catalog: WindowCatalog, t: int, state: dict[str, bool]) -> dict[str, Any]:
    expected = [_alert(slo, catalog, sev) for sev in ("page", "ticket") if state.get(sev)]
    return {"eval_time": str(Duration(t * 60_000)) if t else "0m", "alertname": slo.alerting.name,
            "exp_alerts": expected}


def _literal_annotations(slo: SLO, catalog: WindowCatalog) -> bool:
    """Annotations with templates ({{ $value }}) cannot be predicted exactly."""
    for severity in ("page", "ticket"):
        rule = rules._burn_alert(slo, catalog, severity)  # noqa: SLF001
        if rule and any("{{" in v for v in rule["annotations"].values()):
            return False
    return True


def _group(name: str, model: synthetic.EventModel, timeline: Timeline, alert_checks: list[dict[str, Any]],
           expr_checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    group: dict[str, Any] = {"name": name, "interval": str(EVAL), "input_series": _input_series(model, timeline)}
    if alert_checks:
        group["alert_rule_test"] = alert_checks
    if expr_checks:
        group["promql_expr_test"] = expr_checks
    return group


def slo_tests(slo: SLO, catalog: WindowCatalog, notes: Problems) -> list[dict[str, Any]]:
    try:
        model = synthetic.event_model(slo.sli, str(catalog.base))
    except synthetic.NotSynthesizable as exc:
        notes.warn(slo.source, slo.name, "sli", f"no promtool scenario tests: cannot synthesise traffic ({exc})")
        return []
    if not _literal_annotations(slo, catalog):
        notes.warn(slo.source, slo.name, "alerting.annotations",
                   "no promtool alert tests: templated annotations cannot be predicted")
        return []
    budget = slo.error_budget
    page_windows = catalog.by_severity("page")
    ticket_windows = catalog.by_severity("ticket")
    burns = [w.burn_rate for w in catalog.windows]
    min_burn = min(burns)
    under = min(Decimal("0.9"), Decimal("0.9") * min_burn) * budget
    slow = _slow_burn(catalog)
    scale = synthetic.traffic_scale([under, (slow or Decimal(1)) * budget, budget])
    t_bad = lambda fraction: int(fraction * scale)  # noqa: E731
    label = f"{slo.service}/{slo.name}"
    groups: list[dict[str, Any]] = []
    longest = max(_minutes(w.long) for w in catalog.windows)
    # Healthy history before an outage: the quickest page window, full. Longer windows read whatever
    # history there is (as on a freshly deployed Prometheus), which only makes them quicker to fire.
    history = min(_minutes(w.long) for w in page_windows) + 10 if page_windows else 70

    # outage: healthy history, then every request fails.
    if slo.alerting.page.enabled and page_windows and rules.threshold(slo, min(w.burn_rate for w in page_windows)) < 1:
        timeline = Timeline([Segment(history, scale, 0), Segment(180, 0, scale)])
        pred = Predictor(slo, catalog, timeline, TRANSITION_MARGIN)
        before = pred.settle(history, 0)
        fired = pred.settle(history + 1, 180, {"page": True})
        if before and fired:
            took = fired[0] - history
            claim = "within 2m" if took <= 2 else f"after {took}m (a {_pct(budget)} budget needs that long at 100% errors)"
            timeline = Timeline([Segment(history, scale, 0), Segment(took, 0, scale)])
            groups.append(_group(f"{label}: a full outage pages {claim}", model, timeline,
                                 [_check(slo, catalog, before[0], before[1]), _check(slo, catalog, *fired)]))

            # recovery: the same outage, then healthy traffic until the page resolves.
            outage = took + 3
            timeline = Timeline([Segment(history, scale, 0), Segment(outage, 0, scale),
                                 Segment(longest, scale, 0)])
            pred = Predictor(slo, catalog, timeline, TRANSITION_MARGIN)
            end = history + outage
            during = pred.settle(end, 0, {"page": True})
            resolved = pred.settle(end + 1, 24 * 60, {"page": False})
            if during and resolved:
                after = resolved[0] - end
                shortest = max(_minutes(w.short) for w in page_windows)
                cut = Timeline([Segment(history, scale, 0), Segment(outage, 0, scale), Segment(after, scale, 0)])
                groups.append(_group(
                    f"{label}: the page resolves {after}m after recovery, once the short windows "
                    f"(up to {Duration(shortest * 60_000)}) have cleared",
                    model, cut, [_check(slo, catalog, *during), _check(slo, catalog, *resolved)]))
    elif slo.alerting.page.enabled and page_windows:
        notes.warn(slo.source, slo.name, "objective", "no outage test: even 100% errors cannot reach the page threshold")

    # under: just under the objective. With a constant error ratio every window, full or not,
    # reads that same ratio, so a few hours past the longest page window settle it for all windows.
    horizon = history + 60
    timeline = Timeline([Segment(horizon, scale - t_bad(under), t_bad(under))])
    pred = Predictor(slo, catalog, timeline, STEADY_MARGIN)
    times = sorted({60, horizon})
    checks = []
    for t in times:
        state = pred.state(t)
        if state is None or any(state.values()):
            raise RuntimeError(f"{label}: error ratio {under} unexpectedly alerts at {t}m")
        checks.append(_check(slo, catalog, t, state))
    groups.append(_group(f"{label}: {_pct(under)} errors, just under the objective, never page nor ticket",
                         model, timeline, checks))

    # slow burn: tickets, never pages.
    if slow is not None and slo.alerting.ticket.enabled and ticket_windows:
        span = history + 60
        bad = t_bad(slow * budget)
        timeline = Timeline([Segment(span, scale - bad, bad)])
        pred = Predictor(slo, catalog, timeline, STEADY_MARGIN)
        checks = []
        for t in sorted({60, span}):
            state = pred.state(t)
            if state is None or state["page"] or not state["ticket"]:
                raise RuntimeError(f"{label}: a {slow}x burn predicted {state} at {t}m")
            checks.append(_check(slo, catalog, t, state))
        groups.append(_group(f"{label}: a {_num(slow)}x burn tickets but does not page", model, timeline, checks))

    if isinstance(slo.sli, RatioSLI):
        groups.append(_idle_group(slo, catalog, model, scale, label))
    if slo.alerting.no_data.enabled:
        groups.append(_no_data_group(slo, catalog, model, scale, label))
    return groups


def _idle_group(slo: SLO, catalog: WindowCatalog, model: synthetic.EventModel, scale: int,
                label: str) -> dict[str, Any]:
    """No requests at all: error ratios are 0 (not NaN, not missing) and the budget stays whole."""
    timeline = Timeline([Segment(30, scale, 0), Segment(60, 0, 0), Segment(10, scale, 0)])
    t = 30 + 45
    labels = rules.series_labels(slo)
    sel = rules.selector(slo)

    def sample(name: str, value: int) -> dict[str, Any]:
        inner = ",".join(f"{k}={rules.quote(v)}" for k, v in labels.items())
        return {"expr": f"{name}{sel}", "eval_time": str(Duration(t * 60_000)),
                "exp_samples": [{"labels": f"{name}{{{inner}}}", "value": value}]}

    exprs = [
        sample(naming.error_ratio(catalog.base), 0),
        sample(naming.error_ratio(slo.period), 0),
        sample(naming.BUDGET_REMAINING, 1),
    ]
    alerts = [{"eval_time": str(Duration(t * 60_000)), "alertname": slo.alerting.name, "exp_alerts": []}]
    return _group(f"{label}: no traffic is an error ratio of 0, not NaN, and spends no budget",
                  model, timeline, alerts, exprs)


def _no_data_group(slo: SLO, catalog: WindowCatalog, model: synthetic.EventModel, scale: int,
                   label: str) -> dict[str, Any]:
    stop = 30
    gone = _minutes(catalog.base) + _minutes(catalog.no_data_for)
    timeline = Timeline([Segment(stop, scale, 0), Segment(gone + 10, 0, 0, present=False)])
    rule = rules._no_data_alert(slo, catalog)  # noqa: SLF001
    assert rule is not None
    expected = {"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}
    name = rules.no_data_alert_name(slo)
    checks = [
        {"eval_time": str(Duration((stop + 2) * 60_000)), "alertname": name, "exp_alerts": []},
        {"eval_time": str(Duration((stop + gone + 3) * 60_000)), "alertname": name, "exp_alerts": [expected]},
    ]
    return _group(f"{label}: vanished SLI series raise {name} after {catalog.no_data_for}", model, timeline, checks)


def _slow_burn(catalog: WindowCatalog) -> Decimal | None:
    """A burn rate that tickets and cannot page: 2x where the catalog allows it."""
    tickets = [w.burn_rate for w in catalog.by_severity("ticket")]
    pages = [w.burn_rate for w in catalog.by_severity("page")]
    if not tickets:
        return None
    low = min(tickets) * Decimal("1.1")
    high = min(pages) / Decimal("1.1") if pages else Decimal(10**6)
    if low < 2 < high:
        return Decimal(2)
    if low < high:
        return ((low + high) / 2).quantize(Decimal("0.01"))
    return None


def _pct(ratio: Decimal) -> str:
    from ...yamlio import format_decimal

    return format_decimal(ratio * 100) + "%"


def _num(value: Decimal) -> str:
    from ...yamlio import format_decimal

    return format_decimal(value)


def service_tests(service: Service, catalogs: dict[Duration, WindowCatalog], rule_file: str,
                  rule_doc: dict[str, Any], notes: Problems) -> dict[str, Any] | None:
    del rule_doc  # the expectations come from the same generator functions
    groups: list[dict[str, Any]] = []
    for slo in sorted(service.slos, key=lambda s: s.name):
        groups.extend(slo_tests(slo, catalogs[slo.period], notes))
    if not groups:
        return None
    return {"rule_files": [rule_file], "evaluation_interval": str(EVAL), "tests": groups}


__all__ = ["Location", "service_tests"]
