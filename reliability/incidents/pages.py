"""Incidents from page alerts, and the numbers people ask of them: MTTR, MTBF, change failure rate.

An incident is a run of `ALERTS{alertstate="firing"}` samples of an SLO's page alerts;
runs less than `MERGE_GAP` apart are one incident (a page that flaps is one outage).
It lasts from its first to its last firing sample: Prometheus evaluates alerts every
interval, so the true end is known to within one evaluation interval.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

MERGE_GAP = 300.0  # seconds: incidents closer than 5 minutes are one


@dataclass(frozen=True)
class Incident:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def from_samples(timestamps: Iterable[float], gap: float = MERGE_GAP) -> list[Incident]:
    """Runs of firing-sample timestamps; a gap of `gap` seconds or more starts a new incident."""
    incidents: list[Incident] = []
    start = end = None
    for t in sorted(set(timestamps)):
        if start is None or end is None:
            start = end = t
        elif t - end < gap:
            end = t
        else:
            incidents.append(Incident(start, end))
            start = end = t
    if start is not None and end is not None:
        incidents.append(Incident(start, end))
    return incidents


def merge(incidents: Iterable[Incident], gap: float = MERGE_GAP) -> list[Incident]:
    """The union of overlapping incidents (and of those less than `gap` apart), in time order."""
    out: list[Incident] = []
    for incident in sorted(incidents, key=lambda i: (i.start, i.end)):
        if out and incident.start - out[-1].end < gap:
            last = out[-1]
            out[-1] = Incident(last.start, max(last.end, incident.end))
        else:
            out.append(incident)
    return out


@dataclass(frozen=True)
class Reliability:
    """MTTR and MTBF over an interval; None when there was no incident."""

    incidents: int
    downtime_seconds: float
    mttr_seconds: float | None
    mtbf_seconds: float | None

    def as_json(self) -> dict[str, float | int | None]:
        return {"incidents": self.incidents, "incident_seconds": self.downtime_seconds,
                "mttr_seconds": self.mttr_seconds, "mtbf_seconds": self.mtbf_seconds}


def reliability(incidents: list[Incident], interval_seconds: float) -> Reliability:
    """MTTR = mean incident duration; MTBF = (interval - total incident time) / incidents."""
    n = len(incidents)
    down = sum(i.seconds for i in incidents)
    if not n:
        return Reliability(0, 0.0, None, None)
    return Reliability(n, down, down / n, (interval_seconds - down) / n)


@dataclass(frozen=True)
class ChangeFailure:
    deploys: int
    failed: int

    @property
    def rate(self) -> float | None:
        return self.failed / self.deploys if self.deploys else None

    def as_json(self) -> dict[str, float | int | None]:
        return {"deploys": self.deploys, "failed": self.failed, "rate": self.rate}


def change_failure(deploys: list[float], incidents: list[Incident], window: float) -> ChangeFailure:
    """A deploy failed when an incident starts within `window` seconds after it."""
    starts = sorted(i.start for i in incidents)
    failed = sum(1 for d in deploys if any(d <= s <= d + window for s in starts))
    return ChangeFailure(len(deploys), failed)


def deploy_times(samples: list[tuple[float, float]]) -> list[float]:
    """Deploy instants from a counter's raw samples: one per unit of increase (a reset counts its new value)."""
    times: list[float] = []
    for (_, before), (t, after) in itertools.pairwise(samples):
        increase = after - before if after >= before else after
        times.extend([t] * round(increase))
    return times
