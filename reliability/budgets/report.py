"""The compliance report's numbers, read from Prometheus over one interval.

Attainment is exact over the interval: the SLI's own queries are evaluated once at the
interval's end with the whole interval as their window, so `rate(x[T])` is the counter's
increase over T divided by T (resets handled, T cancels in the ratio). Nothing averages
ratios. The burn-down plot reads the same queries over steps small enough to draw and
never more than Prometheus's 11,000 points per query; it is scaled to end exactly at
the exact consumption. SLOs on the same SLI share its two queries' answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..incidents import pages as inc
from ..prometheus import Prometheus
from ..slo.model import SLO, Query, RatioSLI, RawSLI, Service
from ..times import parse_instant

PLOT_POINTS = 360  # burn-down resolution: two hours per point over a month, finer than the plot's pixels
PAGE_ALERTS = 'ALERTS{alertstate="firing", severity="page"}'



def parse_time(text: str, flag: str) -> float:
    """A date (midnight UTC) or an RFC 3339 time; ValueError naming the flag otherwise."""
    try:
        return parse_instant(text).timestamp()
    except ValueError:
        raise ValueError(f"{flag} {text!r}: expected a date such as 2026-11-01 or a time such as "
                         "2026-11-01T00:00:00Z") from None

@dataclass
class Options:
    start: float
    end: float
    deploys: str = ""  # a counter selector whose increases are deploys, labelled `service`
    failure_window: float = 3600.0
    workers: int = 8

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def step(self) -> float:
        """Burn-down step: whole minutes, at most PLOT_POINTS points per interval."""
        return max(60.0, math.ceil(self.seconds / PLOT_POINTS / 60) * 60)


@dataclass
class SLOReport:
    slo: SLO
    events: float | None = None  # all events over the interval (None for raw SLIs and no data)
    bad: float | None = None
    error_ratio: float | None = None  # None: no data
    burndown: list[tuple[float, float]] = field(default_factory=list)  # (time, remaining budget ratio)
    incidents: list[inc.Incident] = field(default_factory=list)

    @property
    def attainment(self) -> float | None:
        return None if self.error_ratio is None else 1 - self.error_ratio

    @property
    def met(self) -> bool | None:
        return None if self.attainment is None else self.attainment >= float(self.slo.objective)

    @property
    def consumed(self) -> float | None:
        """Share of the interval's error budget spent (1 = all of it)."""
        return None if self.error_ratio is None else self.error_ratio / float(self.slo.error_budget)


@dataclass
class Report:
    options: Options
    slos: list[SLOReport]
    services: list[Service]
    deploys: dict[str, list[float]] | None  # service -> deploy instants; None: no deploy series given

    def service_incidents(self, service: str) -> list[inc.Incident]:
        """One outage that pages several SLOs of a service is one incident of the service."""
        return inc.merge(i for r in self.slos if r.slo.service == service for i in r.incidents)


def _sum(expr: str) -> str:
    return f"sum({expr})"


def _bad_part(sli: RatioSLI) -> tuple[Query, str]:
    return (sli.errors, "errors") if sli.errors is not None else (sli.good or sli.total, "good")


def _ratio_query(sli: RatioSLI, window: str) -> str:
    part, name = _bad_part(sli)
    return (f'label_replace({_sum(sli.total.render(window))}, "part", "total", "", "")'
            f' or label_replace({_sum(part.render(window))}, "part", "{name}", "", "")')


def _burndown_query(sli: RatioSLI, window: str) -> str:
    """The burn-down needs only the bad events: with an errors query, the total is not read again."""
    part, name = _bad_part(sli)
    if name == "errors":
        return f'label_replace({_sum(part.render(window))}, "part", "errors", "", "")'
    return _ratio_query(sli, window)


def _split(result: list[tuple[Any, float]] | dict[Any, Any]) -> dict[str, Any]:
    items = result.items() if isinstance(result, dict) else result
    return {dict(labels).get("part", "raw"): value for labels, value in items}


def _bad(parts: dict[str, float], name: str) -> float:
    """Bad events per second. No errors series means no errors (a counter appears with its first
    increment); no good series means nothing went right."""
    if name == "errors":
        return parts.get("errors", 0.0)
    return parts["total"] - parts.get("good", 0.0)


@dataclass(frozen=True)
class Reading:
    """What Prometheus says about one SLI over the interval; every SLO on that SLI shares it."""

    total: float | None = None  # events per second over the interval (ratio SLIs)
    bad: float | None = None
    error_ratio: float | None = None  # None: no data
    bad_series: tuple[tuple[float, float], ...] = ()  # bad events (or error ratio) per burn-down step


def question(sli: object, opts: Options) -> str | None:
    """The whole-interval query of an SLI: SLOs whose question is the same get the same answer."""
    window = f"{int(opts.seconds)}s"
    if isinstance(sli, RatioSLI):
        return _ratio_query(sli, window)
    if isinstance(sli, RawSLI):
        return _sum(sli.error_ratio.render(window))
    return None


def read(prom: Prometheus, sli: object, opts: Options) -> Reading:
    """Two queries: the exact whole-interval figures, and the burn-down's steps."""
    window, step = f"{int(opts.seconds)}s", opts.step
    if isinstance(sli, RatioSLI):
        parts = _split(prom.query(_ratio_query(sli, window), opts.end))
        total = parts.get("total")
        if total is None or math.isnan(total):
            return Reading()
        name = _bad_part(sli)[1]
        bad = _bad(parts, name)
        bad = 0.0 if math.isnan(bad) else max(0.0, bad)
        series = _split(prom.query_range(_burndown_query(sli, f"{int(step)}s"), opts.start + step, opts.end, step))
        return Reading(total, bad, bad / total if total > 0 else 0.0, tuple(_bad_series(series, name)))
    if isinstance(sli, RawSLI):
        values = prom.query(_sum(sli.error_ratio.render(window)), opts.end)
        if not values or math.isnan(values[0][1]):
            return Reading()
        found = prom.query_range(_sum(sli.error_ratio.render(f"{int(step)}s")), opts.start + step, opts.end, step)
        return Reading(error_ratio=min(1.0, max(0.0, values[0][1])), bad_series=tuple(next(iter(found.values()), [])))
    return Reading()


def measure(slo: SLO, reading: Reading, opts: Options) -> SLOReport:
    """One SLO's figures from its SLI's reading: the objective sets the budget and the burn-down."""
    report = SLOReport(slo, error_ratio=reading.error_ratio)
    if reading.error_ratio is None:
        return report
    if reading.total is not None and reading.bad is not None:
        report.events, report.bad = reading.total * opts.seconds, reading.bad * opts.seconds
    report.burndown = _burndown(list(reading.bad_series), report.consumed or 0.0, opts)
    return report


def _bad_series(series: dict[str, list[tuple[float, float]]], name: str) -> list[tuple[float, float]]:
    if name == "errors":
        return [(t, v) for t, v in series.get("errors", []) if not math.isnan(v)]
    good = dict(series.get("good", []))
    return [(t, max(0.0, v - good.get(t, 0.0))) for t, v in sorted(series.get("total", [])) if not math.isnan(v)]


def _burndown(bad: list[tuple[float, float]], consumed: float, opts: Options) -> list[tuple[float, float]]:
    """Remaining budget over the interval: cumulative bad events, scaled to end at the exact consumption."""
    total = sum(v for _, v in bad)
    points = [(opts.start, 1.0)]
    running = 0.0
    for t, v in sorted(bad):
        running += v
        share = running / total if total > 0 else 0.0
        points.append((t, 1.0 - consumed * share))
    if points[-1][0] < opts.end:
        points.append((opts.end, 1.0 - consumed))
    return points


def page_incidents(prom: Prometheus, opts: Options,
                   alert_names: dict[tuple[str, str], str]) -> dict[tuple[str, str], list[inc.Incident]]:
    """Every SLO's incidents, from one read of the page alerts' firing samples.

    Only the compiler's own page alert of each SLO counts (`alert_names`: (service, slo) ->
    alertname): another SLO tool's alerts (Pyrra's carry `service` and `slo` labels too) or a
    team's own alerts with those labels are not this SLO's incidents.
    """
    stamps: dict[tuple[str, str], list[float]] = {}
    for labels, samples in prom.samples(PAGE_ALERTS, opts.start, opts.end).items():
        d = dict(labels)
        key = (d.get("service", ""), d.get("slo", ""))
        if key in alert_names and d.get("alertname") == alert_names[key]:
            stamps.setdefault(key, []).extend(t for t, _ in samples)
    return {key: inc.from_samples(ts) for key, ts in stamps.items()}


def deploy_events(prom: Prometheus, opts: Options) -> dict[str, list[float]] | None:
    if not opts.deploys:
        return None
    out: dict[str, list[float]] = {}
    # one sample before the interval so a deploy right at its start is seen as an increase
    for labels, samples in prom.samples(opts.deploys, opts.start - 3600, opts.end).items():
        service = dict(labels).get("service", "")
        inside = [t for t in inc.deploy_times(samples) if opts.start < t <= opts.end]
        out.setdefault(service, []).extend(inside)
    return {s: sorted(ts) for s, ts in out.items()}


def build(prom: Prometheus, services: list[Service], opts: Options,
          progress: Callable[[int], None] | None = None) -> Report:
    slos = sorted((slo for s in services for slo in s.slos), key=lambda s: (s.service, s.name))
    # SLOs that share an SLI (a 99.9 and a 99.99 objective, a 30d and a 7d period) ask Prometheus once:
    # its time is the report's, and every question reads the SLI's samples over the whole interval
    asked = [question(slo.sli, opts) for slo in slos]
    questions: dict[str | None, object] = {}
    for slo, key in zip(slos, asked, strict=True):
        questions.setdefault(key, slo.sli)
    with ThreadPoolExecutor(max_workers=opts.workers) as pool:
        readings = dict(zip(questions, pool.map(lambda sli: read(prom, sli, opts), questions.values()), strict=True))
    reports = [measure(slo, readings[key], opts) for slo, key in zip(slos, asked, strict=True)]
    found = page_incidents(prom, opts, {(slo.service, slo.name): slo.alerting.name for slo in slos})
    for r in reports:
        r.incidents = found.get((r.slo.service, r.slo.name), [])
    return Report(opts, reports, services, deploy_events(prom, opts))
