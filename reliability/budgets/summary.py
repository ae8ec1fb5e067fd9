"""The report as data: per SLO, per service, per team and overall (what report.json holds).

report.md and report.html are drawn from this dictionary alone, so the three never disagree.
"""

from __future__ import annotations

import time
from typing import Any

from ..incidents import pages as inc
from .report import Report, SLOReport


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _r(value: float | None, digits: int = 9) -> float | None:
    return None if value is None else round(value, digits)


def _slo(r: SLOReport, seconds: float) -> dict[str, Any]:
    slo = r.slo
    budget = float(slo.error_budget)
    rel = inc.reliability(r.incidents, seconds)
    allowed_events = None if r.events is None else budget * r.events
    rate = None if r.events is None else r.events / seconds
    return {
        "service": slo.service, "slo": slo.name, "team": slo.team, "tier": slo.tier,
        "sli": slo.sli.kind, "objective": float(slo.objective),
        "attainment": _r(r.attainment), "met": r.met,
        "events": _r(r.events, 3), "bad_events": _r(r.bad, 3),
        "average_request_rate": _r(rate, 6),
        "budget": {
            "allowed_ratio": budget, "consumed_ratio": _r(r.consumed),  # of the allowed budget
            "allowed_events": _r(allowed_events, 3), "consumed_events": _r(r.bad, 3),
            # as time: a full outage at the average request rate would spend it in this long
            "allowed_seconds": round(budget * seconds, 3),
            "consumed_seconds": None if r.error_ratio is None else round(r.error_ratio * seconds, 3),
        },
        "burndown": [[int(t), round(v, 6)] for t, v in r.burndown],  # [unix seconds, remaining budget]
        "incident_intervals": [{"start": iso(i.start), "end": iso(i.end), "seconds": i.seconds} for i in r.incidents],
        **rel.as_json(),
    }


def _group(name: str, rows: list[dict[str, Any]], incidents: list[inc.Incident], seconds: float,
           cfr: inc.ChangeFailure | None, cfr_note: str, without_deploys: int = 0) -> dict[str, Any]:
    known = [r for r in rows if r["attainment"] is not None]
    return {
        "name": name, "slos": len(rows), "slos_met": sum(1 for r in known if r["met"]),
        "slos_missed": sum(1 for r in known if not r["met"]), "slos_without_data": len(rows) - len(known),
        "worst_attainment": min((r["attainment"] for r in known), default=None),
        **inc.reliability(incidents, seconds).as_json(),
        "change_failure": cfr.as_json() if cfr else None, "change_failure_note": cfr_note,
        "services_without_deploys": without_deploys,  # services whose deploys are unknown: not in the rate
    }


def _combined(parts: list[inc.ChangeFailure], unknown: int, services: int) -> tuple[inc.ChangeFailure | None, str]:
    """A team's or the overall change failure rate from the services whose deploys are known, and what it leaves out."""
    cfr = inc.ChangeFailure(sum(c.deploys for c in parts), sum(c.failed for c in parts)) if parts else None
    if cfr is None:
        return None, f"unknown: no deploys known for any of the {services} service(s)"
    if unknown:
        return cfr, f"from {len(parts)} of {services} services; {unknown} without deploy data are left out"
    return cfr, f"from all {services} services"


def least_attainment_first(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Teams and services by their worst SLO's attainment, lowest first; those without data last."""
    return sorted(groups, key=lambda g: (g["worst_attainment"] is None, g["worst_attainment"] or 0.0, g["name"]))


def summarise(report: Report) -> dict[str, Any]:
    opts = report.options
    seconds = opts.seconds
    rows = sorted((_slo(r, seconds) for r in report.slos),
                  key=lambda x: (x["attainment"] is None, x["attainment"] or 0.0, x["service"], x["slo"]))
    services: list[dict[str, Any]] = []
    team_of: dict[str, str] = {s.name: s.team for s in report.services}
    team_incidents: dict[str, list[inc.Incident]] = {}
    team_cfr: dict[str, list[inc.ChangeFailure]] = {}
    all_incidents: list[inc.Incident] = []
    for name in sorted(team_of):
        incidents = report.service_incidents(name)
        cfr, note = None, "unknown: no deploy series given (--deploys)"
        if report.deploys is not None:
            times = report.deploys.get(name)
            if times is None:
                note = f"unknown: the deploy series has no series with service=\"{name}\""
            else:
                cfr = inc.change_failure(times, incidents, opts.failure_window)
                note = f"a deploy failed when a page started within {int(opts.failure_window)}s after it"
                team_cfr.setdefault(team_of[name], []).append(cfr)
        services.append(_group(name, [r for r in rows if r["service"] == name], incidents, seconds, cfr, note,
                               0 if cfr else 1) | {"team": team_of[name]})
        team_incidents.setdefault(team_of[name], []).extend(incidents)
        all_incidents.extend(incidents)
    teams = []
    for team in sorted(set(team_of.values())):
        parts = team_cfr.get(team, [])
        members = sum(1 for t in team_of.values() if t == team)
        cfr, note = _combined(parts, members - len(parts), members)
        # incidents of the team's services that overlap count once: MTBF stays within the interval
        teams.append(_group(team, [r for r in rows if r["team"] == team], inc.merge(team_incidents.get(team, [])),
                            seconds, cfr, note, members - len(parts)))
    every = [c for cs in team_cfr.values() for c in cs]
    overall_cfr, overall_note = _combined(every, len(team_of) - len(every), len(team_of))
    return {
        "interval": {"from": iso(opts.start), "to": iso(opts.end), "seconds": seconds},
        "method": "attainment = 1 - bad events / all events, from counter increases over the whole interval; "
                  "incidents = the SLO's own page alert firing (ALERTS), runs less than 5 minutes apart merged; "
                  "MTTR = mean incident duration; MTBF = (interval - incident time) / incidents",
        "slos": rows, "services": least_attainment_first(services), "teams": least_attainment_first(teams),
        "overall": _group("overall", rows, inc.merge(all_incidents), seconds, overall_cfr, overall_note,
                          len(team_of) - len(every)),
    }
