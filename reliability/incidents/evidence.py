"""What Prometheus saw during an incident: the alerts that fired and resolved, and each SLO's impact.

Alerts come from the `ALERTS` series Prometheus writes at every rule evaluation, counted per step
(`count_over_time(ALERTS{...}[step])`), so a span starts at the first step with a sample and ends at
the last: exact to one step, with or without staleness markers. Impact comes from the SLI's own
queries over the whole window (rates times the window are requests), and the budget consumed is
the window's error ratio over the budget, scaled by the window's share of the SLO period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..durations import Duration
from ..prometheus import Labels, Prometheus
from ..slo import naming
from ..slo.model import SLO, RatioSLI, Service

TIMEOUT = 15


@dataclass(frozen=True)
class AlertSpan:
    alert: str
    severity: str
    slo: str
    fired: datetime
    resolved: datetime | None  # None: still firing at the end of the window


@dataclass(frozen=True)
class Impact:
    slo: str
    error_ratio: float | None
    failed: float | None  # requests; None for SLIs that are ratios already
    total: float | None
    budget_consumed: float | None  # fraction of the period's error budget


@dataclass(frozen=True)
class Evidence:
    alerts: tuple[AlertSpan, ...]
    impact: tuple[Impact, ...]


def _instant(prometheus: Prometheus, expr: str, at: datetime) -> float | None:
    """The first series' value at `at` (a scalar's value), None when the answer is empty."""
    result = prometheus.query(expr, at.timestamp())
    return result[0][1] if result else None


def _spans(result: dict[Labels, list[tuple[float, float]]], step: int, end: datetime) -> list[AlertSpan]:
    spans = []
    for key, values in result.items():
        labels = dict(key)
        times = sorted(t for t, _ in values)
        runs: list[list[float]] = []
        for t in times:
            if runs and t - runs[-1][-1] <= step:
                runs[-1].append(t)
            else:
                runs.append([t])
        for run in runs:
            last = datetime.fromtimestamp(run[-1], UTC)
            spans.append(AlertSpan(labels.get("alertname", ""), labels.get("severity", ""), labels.get("slo", ""),
                                   datetime.fromtimestamp(run[0], UTC),
                                   None if last >= end - timedelta(seconds=step) else last))
    return sorted(spans, key=lambda s: (s.fired, s.alert, s.severity, s.slo))


def _impact(prometheus: Prometheus, slo: SLO, start: datetime, end: datetime) -> Impact:
    seconds = int((end - start).total_seconds())
    window = f"{seconds}s"
    share = Decimal(seconds * 1000) / Decimal(slo.period.ms)
    if isinstance(slo.sli, RatioSLI):
        total_q = slo.sli.total.render(window)
        errors_q = slo.sli.errors.render(window) if slo.sli.errors else \
            f"({total_q}) - ({slo.sli.good.render(window) if slo.sli.good else '0'})"
        total = _instant(prometheus, f"({total_q}) * {seconds}", end)
        failed = _instant(prometheus, f"({errors_q}) * {seconds}", end)
        if total is None:
            return Impact(slo.name, None, None, None, None)
        failed = failed or 0.0
        ratio = failed / total if total else 0.0
    else:
        # A raw SLI is a ratio already: its recorded 5m error ratio, averaged over the window.
        recorded = f"{naming.error_ratio(Duration.parse('5m'))}{{service=\"{slo.service}\",slo=\"{slo.name}\"}}"
        ratio_value = _instant(prometheus, f"avg_over_time({recorded}[{window}])", end)
        if ratio_value is None:
            return Impact(slo.name, None, None, None, None)
        ratio, failed, total = ratio_value, None, None
    consumed = float(Decimal(repr(ratio)) * share / slo.error_budget)
    return Impact(slo.name, ratio, failed, total, consumed)


def gather(url: str, service: Service, start: datetime, end: datetime, step: int = 60) -> Evidence:
    """The alerts of `service` that fired in [start, end] and each SLO's impact over it.

    Raises reliability.prometheus.PrometheusError when Prometheus cannot be reached or refuses a query."""
    prometheus = Prometheus(url, timeout=TIMEOUT)
    selector = f'ALERTS{{alertstate="firing",service="{service.name}"}}'
    counts = prometheus.query_range(f"count_over_time({selector}[{step}s])", start.timestamp(), end.timestamp(), step)
    alerts = _spans(counts, step, end)
    impact = tuple(_impact(prometheus, slo, start, end) for slo in sorted(service.slos, key=lambda s: s.name))
    return Evidence(tuple(alerts), impact)
