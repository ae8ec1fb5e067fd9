"""`sre postmortem new`: a blameless post-mortem from a template, its facts filled in from Prometheus.

The file is `postmortems/<date>-<service>-<slug>.md`: YAML front matter that `sre incidents`
reads (service, team, severity, start, end, detected, resolved, tags, alerts, actions) and a body
with the sections of a blameless review. With a Prometheus, the timeline lists the alerts that
fired and resolved, the impact table each SLO's failed requests and budget consumed, and
`detected`/`resolved` are the first alert's firing and the last one's resolution; without one,
they are left for the authors (`detected: null`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..slo.model import Service
from ..times import parse_instant
from ..yamlio import dump
from .evidence import AlertSpan, Evidence
from .files import write_new

DEFAULT_DIR = "postmortems"
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
_SLUG = re.compile(r"[^a-z0-9]+")


class PostmortemError(ValueError):
    """Bad input for a new post-mortem (the message names the option and the fix)."""


def parse_time(text: str, option: str, now: datetime) -> datetime:
    """ISO 8601 (`2026-12-01T10:00:00Z`, an offset, or none for UTC), or `now`."""
    if text == "now":
        return now
    try:
        return parse_instant(text.replace("z", "Z")).astimezone(UTC)
    except ValueError:
        raise PostmortemError(f"{option} '{text}' is not a time: give ISO 8601 such as 2026-12-01T10:00:00Z, "
                              "or now") from None


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:60].strip("-") or "incident"


@dataclass(frozen=True)
class Draft:
    service: Service
    start: datetime
    end: datetime
    title: str
    severity: str
    tags: tuple[str, ...]
    evidence: Evidence | None = None

    @property
    def detected(self) -> datetime | None:
        spans = self.evidence.alerts if self.evidence else ()
        return min((s.fired for s in spans), default=None)

    @property
    def resolved(self) -> datetime | None:
        spans = self.evidence.alerts if self.evidence else ()
        if not spans or any(s.resolved is None for s in spans):
            return None
        return max(s.resolved for s in spans if s.resolved is not None)

    @property
    def file_name(self) -> str:
        service, title = slug(self.service.name), slug(self.title)
        title = title[len(service) + 1:] if title.startswith(f"{service}-") else title  # no checkout-api-checkout-api
        return f"{self.start.strftime('%Y-%m-%d')}-{service}-{title}.md"


def front_matter(draft: Draft) -> dict[str, object]:
    alerts = sorted({s.alert for s in draft.evidence.alerts}) if draft.evidence else []
    return {
        "title": draft.title,
        "service": draft.service.name,
        "team": draft.service.team,
        "severity": draft.severity,
        "status": "draft",
        "start": iso(draft.start),
        "end": iso(draft.end),
        "detected": iso(draft.detected),
        "resolved": iso(draft.resolved),
        "tags": list(draft.tags),
        "alerts": alerts,
        "actions": [],
    }


def _hm(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _timeline(draft: Draft) -> list[str]:
    events: list[tuple[datetime, str]] = [(draft.start, "Start of the incident window (`--from`)."),
                                          (draft.end, "End of the incident window (`--to`).")]
    for span in draft.evidence.alerts if draft.evidence else ():
        what = f"`{span.alert}` ({span.severity}{', SLO ' + span.slo if span.slo else ''})"
        events.append((span.fired, f"{what} fired."))
        if span.resolved:
            events.append((span.resolved, f"{what} resolved."))
        else:
            events.append((draft.end, f"{what} still firing at the end of the window."))
    lines = ["| Time (UTC) | Event |", "| --- | --- |"]
    lines += [f"| {iso(at)} | {text} |" for at, text in sorted(events, key=lambda e: e[0])]
    if not draft.evidence:
        lines.append("| | (add what people saw and did: pages, acknowledgements, decisions, the fix) |")
    return lines


def _impact(draft: Draft) -> list[str]:
    if not draft.evidence:
        return ["(Who was affected, how many requests failed, how much error budget was spent: run with "
                "`--prometheus URL` to fill this in.)"]
    window = _hm((draft.end - draft.start).total_seconds())
    lines = [f"Over the {window} window:", "", "| SLO | Error ratio | Requests failed | Requests | Budget consumed |",
             "| --- | --- | --- | --- | --- |"]
    for item in draft.evidence.impact:
        if item.error_ratio is None:
            lines.append(f"| {item.slo} | no data | | | |")
            continue
        failed = f"{item.failed:.0f}" if item.failed is not None else "n/a"
        total = f"{item.total:.0f}" if item.total is not None else "n/a"
        consumed = f"{item.budget_consumed * 100:.1f}%" if item.budget_consumed is not None else "n/a"
        lines.append(f"| {item.slo} | {item.error_ratio * 100:.3f}% | {failed} | {total} | {consumed} |")
    return lines


def _detection(draft: Draft) -> str:
    first: AlertSpan | None = min(draft.evidence.alerts, key=lambda s: s.fired) if draft.evidence and \
        draft.evidence.alerts else None
    if first is None:
        return ("(How did we find out: which alert, or a person? How long after the start? Could an SLO alert "
                "have caught it sooner?)")
    delay = _hm((first.fired - draft.start).total_seconds())
    return (f"`{first.alert}` ({first.severity}) fired at {iso(first.fired)}, {delay} after the start of the "
            "window. (Was that soon enough? Who acknowledged, and when?)")


def render(draft: Draft) -> str:
    body = [
        f"# {draft.title}",
        "",
        "> Blameless: this review is about how the system and our processes let this happen, not about who "
        "did what wrong. People acted on what they knew at the time.",
        "",
        "## Summary",
        "",
        "(Two or three sentences: what happened, to whom, and how it ended.)",
        "",
        "## Impact",
        "",
        *_impact(draft),
        "",
        "## Timeline",
        "",
        *_timeline(draft),
        "",
        "## Contributing factors",
        "",
        "(The conditions that made this possible: code, config, capacity, dependencies, process. Several, not "
        "one root cause.)",
        "",
        "## Trigger",
        "",
        "(The change or event that set it off.)",
        "",
        "## Detection",
        "",
        _detection(draft),
        "",
        "## Resolution",
        "",
        "(What restored service, and when: rollback, failover, fix.)",
        "",
        "## Action items",
        "",
        "Tracked in the front matter's `actions`, so `sre incidents` lists the open ones; each has one owner "
        "and a due date:",
        "",
        "```yaml",
        "actions:",
        "  - {what: Canary the checkout deploys, owner: ana@acme.example, due: 2026-12-15, done: false}",
        "```",
        "",
        "## Lessons learned",
        "",
        "- What went well:",
        "- What went wrong:",
        "- Where we got lucky:",
        "",
    ]
    return "---\n" + dump(front_matter(draft)) + "---\n\n" + "\n".join(body)


def write(draft: Draft, out_dir: str) -> str:
    """Write the post-mortem; never over an existing one (raises PostmortemError)."""
    path = os.path.join(out_dir, draft.file_name)
    if not write_new(path, render(draft)):
        raise PostmortemError(f"{path} exists: a post-mortem is never overwritten; give another --title")
    return path
