"""promtool unit tests per SLO, proving the generated rules on synthetic traffic.

Scenarios (each a promtool test group with its own synthetic series):
  outage     healthy history, then 100% errors: the page fires, and how fast;
             then healthy again: the page resolves once the short windows have
             cleared, while the long windows are still high;
  under      a constant error ratio just under the objective: neither page
             nor ticket (every window reads that same ratio);
  slow-burn  a 2x burn: tickets, never pages;
  idle       traffic stops (counters flat): error ratios are 0, not NaN, and
             the budget is untouched;
  no-data    the SLI's series vanish: the no-data alert fires after its `for`.

What to assert is decided by a small simulator of the intended semantics
(multi-window burn rates, traffic-weighted windows), written independently of
the PromQL it checks. Checks are only placed at moments where every window
is clearly on one side of its threshold, so rounding in Prometheus' rate
extrapolation cannot flip an outcome.

A plan (timelines and expected states) depends only on the window catalog,
the objective and which alerts are enabled, so it is computed once and shared
by every SLO with the same shape; the SLI only decides which series carry
the traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from math import gcd
from typing import Any

from ...durations import Duration
from ...problems import Problems
from ...yamlio import format_decimal
from .. import naming
from ..model import SLO, RatioSLI, Service
from ..windows import WindowCatalog
from . import rules, synthetic

MINUTE_MS = 60_000
TRANSITION_MARGIN = 0.25  # near a change of traffic, Prometheus' windows may differ from the ideal by this much
STEADY_MARGIN = 0.02  # constant error ratios are computed exactly


@dataclass(frozen=True)
class Segment:
    steps: int
    good: int  # events per step
    bad: int
    present: bool = True  # False: the series have no samples


@dataclass(frozen=True)
class Check:
    at: int  # step
    page: bool
    ticket: bool


@dataclass(frozen=True)
class Scenario:
    kind: str  # outage, under, slow-burn, idle, no-data
    title: str
    segments: tuple[Segment, ...]
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Plan:
    scenarios: tuple[Scenario, ...]
    notes: tuple[tuple[str, str], ...]  # (field, message) for what could not be tested
    step: int  # ms per step of the timelines and checks


class Timeline:
    """Good and bad events per step (a minute for the built-in catalogs); the ideal window arithmetic
    the rules implement."""

    def __init__(self, segments: tuple[Segment, ...], max_raw: int, tiles: dict[int, int]):
        self.max_raw = max_raw  # the longest window, in steps, computed from raw samples
        self.tiles = tiles  # longer window -> the raw window it is averaged from, in steps
        good, bad = [0], [0]
        for seg in segments:
            good += [seg.good] * seg.steps
            bad += [seg.bad] * seg.steps
        self.cum_good = list(accumulate(good))
        self.cum_bad = list(accumulate(bad))
        self.length = len(good) - 1

    def _raw(self, t: int, w: int) -> tuple[int, int]:
        start = max(0, t - w)
        bad = self.cum_bad[t] - self.cum_bad[start]
        return bad, bad + self.cum_good[t] - self.cum_good[start]

    def ratio(self, t: int, w: int) -> float:
        bad: float
        total: float
        if w <= self.max_raw:
            bad, total = self._raw(t, w)
        else:  # the time average of a raw window's rates, one sample per tile: [t - w, t], aligned
            tile = self.tiles[w]
            # A tile's rate exists from its end's second sample on; before any, the tile window itself.
            ends = [e for e in range(-(-max(0, t - w) // tile) * tile, t + 1, tile) if e >= 1] or [t]
            bad = total = 0
            for end in ends:
                b, n = self._raw(end, tile)
                bad, total = bad + b, total + n
        return bad / total if total else 0.0


def step_of(catalogs: list[WindowCatalog]) -> int:
    """The test clock in ms: the largest step that divides every window (a minute for the built-ins)."""
    step = MINUTE_MS
    for catalog in catalogs:
        for d in (*catalog.alert_windows, catalog.no_data_for, *(w.for_ for w in catalog.windows if w.for_)):
            step = gcd(step, d.ms)
    return max(step, 1000)


class Predictor:
    """Whether page and ticket fire at a step: True, False, or None when too close to call."""

    def __init__(self, catalog: WindowCatalog, budget: Decimal, enabled: dict[str, bool], timeline: Timeline,
                 margin: float, step: int):
        self.timeline, self.margin = timeline, margin
        self.windows = {
            sev: [(w.long.ms // step, w.short.ms // step, float(rules.threshold_for(budget, w.burn_rate)))
                  for w in catalog.by_severity(sev)] if enabled[sev] else []
            for sev in ("page", "ticket")
        }
        self.hold = {}
        for sev in ("page", "ticket"):
            waits = [w.for_ for w in catalog.by_severity(sev) if w.for_]
            self.hold[sev] = max(waits).ms // step if waits else 0

    def _cond(self, t: int, w: int, limit: float) -> bool | None:
        value = self.timeline.ratio(t, w)
        if value >= limit * (1 + self.margin):
            return True
        if value <= limit * (1 - self.margin):
            return False
        return None

    def _condition(self, severity: str, t: int) -> bool | None:
        result: bool | None = False
        for long_window, short_window, limit in self.windows[severity]:
            long, short = self._cond(t, long_window, limit), self._cond(t, short_window, limit)
            clause = False if (long is False or short is False) else (True if long and short else None)
            if clause:
                return True
            if clause is None:
                result = None
        return result

    def fires(self, severity: str, t: int) -> bool | None:
        now = self._condition(severity, t)
        hold = self.hold[severity]
        if now is False or hold == 0:
            return now
        states = [self._condition(severity, t - k) for k in range(hold + 1)]
        if t - hold >= 0 and all(s is True for s in states):
            return True
        return None

    def state(self, t: int) -> Check | None:
        page, ticket = self.fires("page", t), self.fires("ticket", t)
        if page is None or ticket is None:
            return None
        return Check(t, page, ticket)

    def settle(self, start: int, limit: int, page: bool | None = None) -> Check | None:
        """The first step from `start` whose state is certain (and has the wanted page state)."""
        for t in range(start, min(start + limit, self.timeline.length) + 1):
            state = self.state(t)
            if state is not None and (page is None or state.page == page):
                return state
        return None


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
    return format_decimal(ratio * 100) + "%"


@lru_cache(maxsize=512)
def plan(catalog: WindowCatalog, budget: Decimal, page_on: bool, ticket_on: bool, step: int = MINUTE_MS) -> Plan:
    """The scenarios for an SLO of this shape, with the state expected at each check.

    Times are counted in steps (a minute for the built-in catalogs; less for a time-scaled one).
    """

    def steps(d: Duration) -> int:
        return d.ms // step

    enabled = {"page": page_on and bool(catalog.by_severity("page")),
               "ticket": ticket_on and bool(catalog.by_severity("ticket"))}
    page_windows = catalog.by_severity("page")
    min_burn = min(w.burn_rate for w in catalog.windows)
    under = min(Decimal("0.9"), Decimal("0.9") * min_burn) * budget
    slow = _slow_burn(catalog) if enabled["ticket"] else None
    scale = synthetic.traffic_scale([under, (slow or Decimal(1)) * budget, budget])
    scenarios: list[Scenario] = []
    notes: list[tuple[str, str]] = []
    # Healthy history before an outage fills every page window, as on a Prometheus that has been
    # running: with less, the slower page condition would fire as fast as the quick one and hide it.
    history = max(steps(w.long) for w in page_windows) + 10 if page_windows else 70
    healthy = Segment(history, scale, 0)

    def predictor(segments: tuple[Segment, ...], margin: float) -> Predictor:
        return Predictor(catalog, budget, enabled, Timeline(segments, steps(rules.MAX_RAW_WINDOW), tiles), margin, step)

    raw = rules.raw_windows(catalog)
    tiles = {steps(w): steps(rules.tile_of(w, raw)) for w in catalog.alert_windows if w > rules.MAX_RAW_WINDOW}

    can_page = enabled["page"] and rules.threshold_for(budget, min(w.burn_rate for w in page_windows)) < 1
    if can_page:
        # One timeline proves both: the outage pages (how fast), and after recovery the page
        # resolves once the short windows have cleared while the long ones are still high.
        # A full outage crosses a page threshold below 100% within that window's long window.
        limit = max(steps(w.long) for w in page_windows)
        pred = predictor((healthy, Segment(limit, 0, scale)), TRANSITION_MARGIN)
        before, fired = pred.settle(history, 0), pred.settle(history + 1, limit, page=True)
        if before and fired:
            took = fired.at - history
            outage = Segment(took + 3, 0, scale)
            horizon = max(steps(w.short) for w in page_windows) + limit
            pred = predictor((healthy, outage, Segment(horizon, scale, 0)), TRANSITION_MARGIN)
            end = history + outage.steps
            during, resolved = pred.settle(end, 0, page=True), pred.settle(end + 1, horizon, page=False)
            claim = "within 2m" if took * step <= 2 * MINUTE_MS else \
                f"after {Duration(took * step)} (a {_pct(budget)} budget needs that long at 100% errors)"
            if during and resolved:
                after = resolved.at - end
                shortest = max(w.short for w in page_windows)
                scenarios.append(Scenario(
                    "outage", f"a full outage pages {claim}; after recovery the page resolves in "
                              f"{Duration(after * step)}, once the short windows (up to {shortest}) have cleared",
                    (healthy, outage, Segment(after, scale, 0)), (before, fired, during, resolved)))
            else:
                scenarios.append(Scenario("outage", f"a full outage pages {claim}",
                                          (healthy, Segment(took, 0, scale)), (before, fired)))
    elif enabled["page"]:
        notes.append(("objective", "no outage test: even 100% errors cannot reach the page threshold"))

    # With a constant error ratio every window, full or not, reads that same ratio once it holds a
    # tile; twice the quickest page window (and two of the longest tiles) settles it for all windows.
    quickest = 2 * min(steps(w.long) for w in page_windows) if page_windows else 120
    span = max(quickest, 2 * max(tiles.values(), default=0))
    bad = int(under * scale)
    pred = predictor((Segment(span, scale - bad, bad),), STEADY_MARGIN)
    checks = tuple(pred.state(t) for t in sorted({span // 2, span}))
    if any(c is None or c.page or c.ticket for c in checks):
        raise RuntimeError(f"an error ratio of {under} is predicted to alert: {checks}")
    scenarios.append(Scenario("under", f"{_pct(under)} errors, just under the objective, never page nor ticket",
                              (Segment(span, scale - bad, bad),), checks))  # type: ignore[arg-type]

    if slow is not None:
        bad = int(slow * budget * scale)
        pred = predictor((Segment(span, scale - bad, bad),), STEADY_MARGIN)
        checks = tuple(pred.state(t) for t in sorted({span // 2, span}))
        if any(c is None or c.page or not c.ticket for c in checks):
            raise RuntimeError(f"a {slow}x burn is predicted as {checks}")
        scenarios.append(Scenario("slow-burn", f"a {format_decimal(slow)}x burn tickets but does not page",
                                  (Segment(span, scale - bad, bad),), checks))  # type: ignore[arg-type]

    base = steps(catalog.base)
    # Long windows (the period's too) exist once their first tile has passed.
    lead = max(6 * base, steps(rules.tile_of(catalog.period, raw)))
    scenarios.append(Scenario("idle", "no traffic is an error ratio of 0, not NaN, and spends no budget",
                              (Segment(lead, scale, 0), Segment(12 * base, 0, 0), Segment(2 * base, scale, 0)),
                              (Check(lead + 9 * base, False, False),)))
    # The last raw sample is at `stop`; the base-window rate outlives it by one window (its last
    # two samples), so the watched series is absent from `stop + base` and the alert fires `for`
    # later. Checked 2 steps before that (1 step of slack for Prometheus 3's left-open ranges) and
    # 2 after (a raw SLI's watched series lasts one step longer): a missing or shorter `for` fires
    # before the first check.
    stop = 6 * base
    fires = stop + base + steps(catalog.no_data_for)
    scenarios.append(Scenario("no-data", f"vanished SLI series raise the no-data alert after {catalog.no_data_for}",
                              (Segment(stop, scale, 0), Segment(fires - stop + 10, 0, 0, present=False)),
                              (Check(fires - 2, False, False), Check(fires + 2, False, False))))
    return Plan(tuple(scenarios), tuple(notes), step)


@lru_cache(maxsize=4096)
def series_values(segments: tuple[Segment, ...], good_inc: int, bad_inc: int) -> str:
    """promtool's expanding notation for a counter, e.g. `0 60+60x89 5400+0x29 _x10`.

    `a+bxn` expands to the n+1 values a, a+b, ..., a+nb and `_xn` to n missing samples.
    """
    runs: list[list[Any]] = []  # [increment, steps, present]
    for seg in segments:
        inc = seg.good * good_inc + seg.bad * bad_inc
        if runs and runs[-1][0] == inc and runs[-1][2] == seg.present:
            runs[-1][1] += seg.steps
        else:
            runs.append([inc, seg.steps, seg.present])
    tokens, value = ["0"], 0
    for inc, length, present in runs:
        if present:
            tokens.append(f"{value + inc}+{inc}x{length - 1}")
            value += inc * length
        else:
            tokens.append(f"_x{length}")
    return " ".join(tokens)


def _at(step_index: int, step: int) -> str:
    return str(Duration(step_index * step)) if step_index else "0s"


def slo_tests(slo: SLO, catalog: WindowCatalog, notes: Problems, step: int = MINUTE_MS) -> list[dict[str, Any]]:
    try:
        model = synthetic.event_model(slo.sli, str(catalog.base))
    except synthetic.NotSynthesizable as exc:
        notes.warn(slo.source, slo.name, "sli", f"no promtool scenario tests: cannot synthesise traffic ({exc})")
        return []
    # The annotations the alert rules carry and the labels they fire with, from the generator that wrote them.
    burn = {sev: rules.burn_alert(slo, catalog, sev) for sev in ("page", "ticket")}
    if any("{{" in v for rule in burn.values() if rule for v in rule["annotations"].values()):
        notes.warn(slo.source, slo.name, "alerting.annotations",
                   "no promtool alert tests: templated annotations cannot be predicted")
        return []
    shape = plan(catalog, slo.error_budget, slo.alerting.page.enabled, slo.alerting.ticket.enabled, step)
    for field, message in shape.notes:
        notes.warn(slo.source, slo.name, field, message)
    expected = {sev: {"exp_labels": rules.burn_alert_labels(slo, sev), "exp_annotations": rule["annotations"]}
                for sev, rule in burn.items() if rule}
    label = f"{slo.service}/{slo.name}"
    groups = []
    for scenario in shape.scenarios:
        if scenario.kind == "idle" and not isinstance(slo.sli, RatioSLI):
            continue  # raw SLIs have no totals: an idle service has no defined ratio
        if scenario.kind == "no-data" and not slo.alerting.no_data.enabled:
            continue
        title = scenario.title.replace("the no-data alert", rules.no_data_alert_name(slo))
        group: dict[str, Any] = {
            "name": f"{label}: {title}",
            "interval": str(Duration(step)),
            "input_series": [{"series": s.text, "values": series_values(scenario.segments, s.good, s.bad)}
                             for s in model.series],
        }
        if scenario.kind == "no-data":
            group["alert_rule_test"] = _no_data_checks(slo, catalog, scenario, step)
        else:
            group["alert_rule_test"] = [
                {"eval_time": _at(c.at, step), "alertname": slo.alerting.name,
                 "exp_alerts": [expected[s] for s, on in (("page", c.page), ("ticket", c.ticket)) if on]}
                for c in scenario.checks
            ]
        if scenario.kind == "idle":
            group["promql_expr_test"] = _idle_exprs(slo, catalog, _at(scenario.checks[0].at, step))
        groups.append(group)
    return groups


def _idle_exprs(slo: SLO, catalog: WindowCatalog, at: str) -> list[dict[str, Any]]:
    """No requests at all: error ratios are 0 (not NaN, not missing) and the budget stays whole."""
    labels = rules.series_labels(slo)
    sel = rules.selector(slo)
    inner = ",".join(f"{k}={rules.quote(v)}" for k, v in labels.items())

    def sample(name: str, value: int) -> dict[str, Any]:
        return {"expr": f"{name}{sel}", "eval_time": at,
                "exp_samples": [{"labels": f"{name}{{{inner}}}", "value": value}]}

    return [sample(naming.error_ratio(catalog.base), 0), sample(naming.error_ratio(slo.period), 0),
            sample(naming.BUDGET_REMAINING, 1)]


def _no_data_checks(slo: SLO, catalog: WindowCatalog, scenario: Scenario, step: int) -> list[dict[str, Any]]:
    rule = rules.no_data_alert(slo, catalog)
    if rule is None:
        raise ValueError(f"{slo.name}: no no-data alert to expect")
    name = rules.no_data_alert_name(slo)
    quiet, firing = scenario.checks
    return [
        {"eval_time": _at(quiet.at, step), "alertname": name, "exp_alerts": []},
        {"eval_time": _at(firing.at, step), "alertname": name,
         "exp_alerts": [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}]},
    ]


def service_tests(service: Service, catalogs: dict[Duration, WindowCatalog], rule_file: str,
                  notes: Problems) -> dict[str, Any] | None:
    groups: list[dict[str, Any]] = []
    # One evaluation interval per test file: the step that suits every catalog the service uses.
    step = step_of([catalogs[slo.period] for slo in service.slos])
    for slo in sorted(service.slos, key=lambda s: s.name):
        groups.extend(slo_tests(slo, catalogs[slo.period], notes, step))
    if not groups:
        return None
    return {"rule_files": [rule_file], "evaluation_interval": str(Duration(step)), "tests": groups}
