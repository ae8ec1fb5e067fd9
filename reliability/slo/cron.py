"""Five-field cron expressions, as Kubernetes CronJobs and Chaos Mesh Schedules read them.

Only what the spec needs: parse (so a typo is an error at validation time, not a
Schedule the controller rejects at 3 a.m.) and the shortest gap between two runs
(a run longer than that would overlap the next one, which `concurrencyPolicy:
Forbid` then silently skips). `@every` is refused: Chaos Mesh mis-schedules it
(chaos-mesh#4624) and CronJobs do not know it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from ..durations import Duration

_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_MONTHS = {name: i + 1 for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, lowest, highest, names)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS),
)
# Eight years cover every leap-day and weekday combination that matters for the shortest gap.
_HORIZON_DAYS = 8 * 366


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def runs_on(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        # Vixie cron: with both day fields restricted, either one matching is enough.
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def shortest_interval(self) -> Duration:
        """The shortest time between two consecutive runs; CronError if it never runs."""
        times = sorted(h * 60 + m for h in self.hours for m in self.minutes)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        start = dt.date(2024, 1, 1)
        previous: int | None = None
        for offset in range(_HORIZON_DAYS):
            if not self.runs_on(start + dt.timedelta(days=offset)):
                continue
            if previous is not None:
                gaps.append((offset - previous) * 1440 - times[-1] + times[0])
            previous = offset
        if previous is None:
            raise CronError(f"{self.text!r} never runs (no date matches its day and month fields)")
        if not gaps:  # one run in eight years: a leap day, say
            gaps.append(_HORIZON_DAYS * 1440)
        return Duration(min(gaps) * 60_000)


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{name}: step {step_text!r} must be a whole number above 0")
            step = int(step_text)
        if body == "*":
            first, last = low, high
        else:
            first_text, dash, last_text = body.partition("-")
            first = _number(first_text, name, low, high, names)
            last = _number(last_text, name, low, high, names) if dash else (high if step_text else first)
            if last < first:
                raise CronError(f"{name}: range {body!r} runs backwards")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise CronError(f"{name}: {text!r} is not a number" + (
            f" or a name ({', '.join(names)})" if names else ""))
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{name}: {value} is outside {low}-{high}")
    return value


def parse(text: str) -> Cron:
    """Parse a five-field cron expression or a macro such as @daily; raises CronError saying what is wrong."""
    stripped = " ".join(text.split())
    if stripped.startswith("@every"):
        raise CronError("@every is not supported (Chaos Mesh mis-schedules it, chaos-mesh#4624; CronJobs do not "
                        "know it): write five fields, e.g. '*/30 * * * *'")
    if stripped.startswith("@"):
        if stripped not in _MACROS:
            raise CronError(f"unknown macro {stripped!r}; known: {', '.join(sorted(_MACROS))}")
        stripped = _MACROS[stripped]
    parts = stripped.split(" ")
    if len(parts) != 5:
        raise CronError(f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}")
    minutes, hours, days, months, weekdays = (
        _field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=False))
    return Cron(
        text=text, minutes=minutes, hours=hours, days=days, months=months,
        weekdays=frozenset(d % 7 for d in weekdays),
        days_restricted=not parts[2].startswith("*"), weekdays_restricted=not parts[4].startswith("*"),
    )
