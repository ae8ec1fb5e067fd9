"""The incident record: every post-mortem's front matter, read, checked and aggregated.

Per service, team and tag: how many incidents; per service: mean time to detect (detected - start)
and mean time to restore (resolved - start, MTTR), over the incidents that give those times;
patterns: tags and alerts that recur (two incidents or more); and every open action item.
Malformed front matter is an error naming the file and field; nothing is reported then.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ..durations import Duration
from ..times import parse_instant
from .postmortem import SEVERITIES, iso

_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Action:
    what: str
    owner: str
    due: str | None
    file: str


@dataclass(frozen=True)
class Incident:
    file: str
    title: str
    service: str
    team: str
    severity: str
    start: datetime
    end: datetime
    detected: datetime | None
    resolved: datetime | None
    tags: tuple[str, ...]
    alerts: tuple[str, ...]
    open_actions: tuple[Action, ...]


@dataclass
class RecordError(Exception):
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.problems)


def _time(value: Any, where: str, name: str, problems: list[str], required: bool) -> datetime | None:
    if value is None:
        if required:
            problems.append(f"{where}: {name}: missing: the time in UTC, e.g. {name}: 2026-12-01T10:00:00Z")
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str):
        try:
            return parse_instant(value).astimezone(UTC)
        except ValueError:
            pass
    problems.append(f"{where}: {name}: '{value}' is not a time: use ISO 8601 such as 2026-12-01T10:00:00Z")
    return None


def _strings(value: Any, where: str, name: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}: {name}: expected a list of words, e.g. {name}: [deploy, database]")
        return ()
    return tuple(value)


def _actions(value: Any, where: str, problems: list[str]) -> tuple[Action, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where}: actions: expected a list of {{what, owner, due, done}}")
        return ()
    out = []
    for index, item in enumerate(value):
        here = f"{where}: actions[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("what"), str) or not item["what"]:
            problems.append(f"{here}: expected {{what: ..., owner: ..., due: YYYY-MM-DD, done: false}}")
            continue
        if not isinstance(item.get("owner"), str) or not item["owner"]:
            problems.append(f"{here}.owner: every action item has one owner: give a person")
            continue
        done = item.get("done", False)
        if not isinstance(done, bool):
            problems.append(f"{here}.done: expected true or false")
            continue
        due = item.get("due")
        if due is not None and not isinstance(due, (date, str)):
            problems.append(f"{here}.due: expected a date such as 2026-12-31")
            continue
        if not done:
            out.append(Action(item["what"], item["owner"], str(due) if due is not None else None, where))
    return tuple(out)


def parse(text: str, file: str) -> tuple[Incident | None, list[str]]:
    problems: list[str] = []
    match = _FRONT.match(text)
    if not match:
        return None, [f"{file}: no front matter: the file must start with a `---` line, the YAML fields "
                      "(service, team, severity, start, end, ...), and a closing `---` line"]
    try:
        data = yaml.safe_load(match[1])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 2})" if mark is not None else ""
        return None, [f"{file}: front matter is not valid YAML{line}: {getattr(exc, 'problem', exc)}"]
    if not isinstance(data, dict):
        return None, [f"{file}: front matter must be a mapping of fields (service, team, severity, ...)"]
    for name in ("service", "team"):
        if not isinstance(data.get(name), str) or not data[name]:
            problems.append(f"{file}: {name}: missing: the {name} this incident is about")
    severity = data.get("severity")
    if severity not in SEVERITIES:
        problems.append(f"{file}: severity: '{severity}' is not one of {', '.join(SEVERITIES)}")
    start = _time(data.get("start"), file, "start", problems, True)
    end = _time(data.get("end"), file, "end", problems, True)
    detected = _time(data.get("detected"), file, "detected", problems, False)
    resolved = _time(data.get("resolved"), file, "resolved", problems, False)
    if start and end and end < start:
        problems.append(f"{file}: end: before start: swap them")
    for name, value in (("detected", detected), ("resolved", resolved)):
        if start and value and value < start:
            problems.append(f"{file}: {name}: before start: the incident starts when users are first affected")
    tags = _strings(data.get("tags"), file, "tags", problems)
    alerts = _strings(data.get("alerts"), file, "alerts", problems)
    actions = _actions(data.get("actions"), file, problems)
    if problems or start is None or end is None:
        return None, problems
    title = data["title"] if isinstance(data.get("title"), str) else Path(file).stem
    return Incident(file, title, data["service"], data["team"], str(severity), start, end, detected, resolved,
                    tags, alerts, actions), []


def load(folder: str) -> list[Incident]:
    """Every post-mortem in `folder` (`*.md`, README.md aside); raises RecordError listing every problem."""
    path = Path(folder)
    if not path.is_dir():
        raise RecordError([f"{folder}: no such folder: write a post-mortem with `sre postmortem new` first, "
                           "or give --dir"])
    incidents, problems = [], []
    for file in sorted(path.glob("*.md")):
        if file.name.lower() == "readme.md":
            continue
        incident, found = parse(file.read_text(encoding="utf-8"), str(file))
        problems += found
        if incident:
            incidents.append(incident)
    if problems:
        raise RecordError(problems)
    return incidents


def since_cutoff(text: str, now: datetime) -> datetime:
    """`--since`: a date or time (2026-01-01), or a duration back from now (90d)."""
    try:
        return now - timedelta(milliseconds=Duration.parse(text).ms)
    except ValueError:
        pass
    try:
        return parse_instant(text).astimezone(UTC)
    except ValueError:
        raise RecordError([f"--since '{text}' is neither a date (2026-01-01) nor a duration (90d)"]) from None


def _mean_minutes(values: list[timedelta]) -> float | None:
    return round(sum(v.total_seconds() for v in values) / len(values) / 60, 1) if values else None


def report(incidents: list[Incident]) -> dict[str, Any]:
    """The record as data (sorted, so the same files give the same report)."""
    by_service: dict[str, list[Incident]] = defaultdict(list)
    for incident in incidents:
        by_service[incident.service].append(incident)
    services = {}
    for name, items in sorted(by_service.items()):
        detect = [i.detected - i.start for i in items if i.detected]
        restore = [i.resolved - i.start for i in items if i.resolved]
        services[name] = {
            "incidents": len(items),
            "meanTimeToDetectMinutes": _mean_minutes(detect),
            "mttrMinutes": _mean_minutes(restore),
            "timed": {"detect": len(detect), "restore": len(restore)},
        }
    tags = Counter(tag for i in incidents for tag in set(i.tags))
    alerts = Counter(alert for i in incidents for alert in set(i.alerts))
    return {
        "incidents": len(incidents),
        "byService": services,
        "byTeam": dict(sorted(Counter(i.team for i in incidents).items())),
        "bySeverity": dict(sorted(Counter(i.severity for i in incidents).items())),
        "byTag": dict(sorted(tags.items())),
        "recurring": {
            "tags": {tag: n for tag, n in sorted(tags.items(), key=lambda t: (-t[1], t[0])) if n >= 2},
            "alerts": {alert: n for alert, n in sorted(alerts.items(), key=lambda t: (-t[1], t[0])) if n >= 2},
        },
        "openActions": [
            {"what": a.what, "owner": a.owner, "due": a.due, "postmortem": a.file}
            for a in sorted((a for i in incidents for a in i.open_actions), key=lambda a: (a.due or "~", a.file))
        ],
        "window": {"first": iso(min((i.start for i in incidents), default=None)),
                   "last": iso(max((i.start for i in incidents), default=None))},
    }


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g}m"


def as_text(data: dict[str, Any]) -> str:
    lines = [f"{data['incidents']} incident(s)" + (
        f" from {data['window']['first']} to {data['window']['last']}" if data["incidents"] else "")]
    lines.append("")
    lines.append("per service: incidents, mean time to detect, MTTR")
    for name, row in data["byService"].items():
        lines.append(f"  {name}: {row['incidents']}, {_minutes(row['meanTimeToDetectMinutes'])}, "
                     f"{_minutes(row['mttrMinutes'])}")
    for title, key in (("per team", "byTeam"), ("per severity", "bySeverity"), ("per tag", "byTag")):
        lines.append(f"{title}: " + (", ".join(f"{k} {v}" for k, v in data[key].items()) or "-"))
    lines.append("recurring tags: " + (", ".join(f"{k} ({v})" for k, v in data["recurring"]["tags"].items()) or "-"))
    lines.append("recurring alerts: " + (
        ", ".join(f"{k} ({v})" for k, v in data["recurring"]["alerts"].items()) or "-"))
    lines.append(f"open action items: {len(data['openActions'])}")
    for action in data["openActions"]:
        due = action["due"] or "no due date"
        lines.append(f"  {due}  {action['owner']}: {action['what']} ({action['postmortem']})")
    return "\n".join(lines) + "\n"


def as_markdown(data: dict[str, Any]) -> str:
    lines = ["# Incident record", "", f"{data['incidents']} incident(s).", "",
             "| Service | Incidents | Mean time to detect | MTTR |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {row['incidents']} | {_minutes(row['meanTimeToDetectMinutes'])} | "
              f"{_minutes(row['mttrMinutes'])} |" for name, row in data["byService"].items()]
    lines += ["", "| Team | Incidents |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in data["byTeam"].items())]
    lines += ["", "| Tag | Incidents |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in data["byTag"].items())]
    lines += ["", "## Patterns", "",
              "Recurring tags: " + (", ".join(f"`{k}` ({v})" for k, v in data["recurring"]["tags"].items()) or "none"),
              "",
              "Recurring alerts: " + (", ".join(f"`{k}` ({v})" for k, v in data["recurring"]["alerts"].items())
                                      or "none"),
              "", "## Open action items", ""]
    if data["openActions"]:
        lines += ["| Due | Owner | Action | Post-mortem |", "| --- | --- | --- | --- |"]
        lines += [f"| {a['due'] or '-'} | {a['owner']} | {a['what']} | {a['postmortem']} |"
                  for a in data["openActions"]]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
