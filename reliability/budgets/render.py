"""report.md and report.html from the report's dictionary (report.json)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ..times import parse_instant
from . import svg

OVERALL_PLOT_ROWS = 40  # the overall plot shows the SLOs that spent most budget; team plots show all
ALL_SLOS = "All SLOs, least attainment first"
ALL_SLOS_NOTE = "SLOs without data come last, marked no data: unknown, not healthy."


def _pct(value: float | None, digits: int = 3) -> str:
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{secs}s" if secs and not days else ""]
    return "".join(parts) or "0s"


def _cfr(group: dict[str, Any]) -> str:
    c = group.get("change_failure")
    if not c:
        return "unknown"
    text = "no deploys" if c["rate"] is None else f"{c['rate']:.0%} ({c['failed']}/{c['deploys']})"
    unknown = group.get("services_without_deploys", 0)
    if unknown:
        text += f", {unknown} service{'s' if unknown > 1 else ''} without deploy data"
    return text


def _slo_cells(r: dict[str, Any]) -> list[str]:
    b = r["budget"]
    return [r["service"], r["slo"], _pct(r["objective"]), _pct(r["attainment"]),
            "yes" if r["met"] else ("no data" if r["met"] is None else "**no**"),
            _pct(b["consumed_ratio"], 1), f"{duration(b['consumed_seconds'])} of {duration(b['allowed_seconds'])}",
            str(r["incidents"]), duration(r["mttr_seconds"]), duration(r["mtbf_seconds"])]


def most_spent(slos: list[dict[str, Any]], limit: int = OVERALL_PLOT_ROWS) -> list[dict[str, Any]]:
    """The `limit` SLOs that spent the largest share of their budget; SLOs without data only fill what is left."""
    return sorted(slos, key=lambda r: (r["attainment"] is None, -(r["budget"]["consumed_ratio"] or 0.0),
                                       r["service"], r["slo"]))[:limit]


SLO_HEADER = ["service", "SLO", "objective", "attainment", "met", "budget spent", "as time", "incidents",
              "MTTR", "MTBF"]
GROUP_HEADER = ["", "SLOs", "missed", "no data", "worst attainment", "incidents", "MTTR", "MTBF",
                "change failure rate"]


def _group_cells(g: dict[str, Any]) -> list[str]:
    return [g["name"], str(g["slos"]), str(g["slos_missed"]), str(g["slos_without_data"]),
            _pct(g["worst_attainment"]), str(g["incidents"]), duration(g["mttr_seconds"]),
            duration(g["mtbf_seconds"]), _cfr(g)]


ALL_HEADER = ["team", *SLO_HEADER]


def _all_cells(r: dict[str, Any]) -> list[str]:
    return [r["team"], *_slo_cells(r)]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows)]


def markdown(data: dict[str, Any]) -> str:
    iv = data["interval"]
    lines = [f"# SLO compliance {iv['from']} to {iv['to']}", "", data["method"] + ".", "", "## Overall", "",
             *_md_table(GROUP_HEADER, [_group_cells(data["overall"])]), "", f"### {ALL_SLOS}", "",
             ALL_SLOS_NOTE, "", *_md_table(ALL_HEADER, [_all_cells(r) for r in data["slos"]]), "",
             "## Teams", "",
             *_md_table(GROUP_HEADER, [_group_cells(t) for t in data["teams"]]), ""]
    for team in data["teams"]:
        rows = [r for r in data["slos"] if r["team"] == team["name"]]
        lines += [f"### {team['name']}", "", *_md_table(SLO_HEADER, [_slo_cells(r) for r in rows]), ""]
    lines += ["## Services", "", *_md_table(GROUP_HEADER, [_group_cells(s) for s in data["services"]]), "",
              "## Incidents", ""]
    lines += [f"- {line}" for line in _incident_lines(data)] or [NO_INCIDENTS]
    return "\n".join(lines) + "\n"


NO_INCIDENTS = "No page fired."


def _incident_lines(data: dict[str, Any]) -> list[str]:
    """Every SLO's incidents in time order: `service / slo: start to end (duration)`."""
    found = [(r, i) for r in data["slos"] for i in r["incident_intervals"]]
    return [f"{r['service']} / {r['slo']}: {i['start']} to {i['end']} ({duration(i['seconds'])})"
            for r, i in sorted(found, key=lambda x: (x[1]["start"], x[0]["service"], x[0]["slo"]))]


def _epoch(text: str) -> float:
    return parse_instant(text).timestamp()


CSS = """body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f3f3f3}.missed{color:#c0392b;font-weight:bold}section.slo{margin:1.5em 0}
p.note{color:#555;font-size:13px}"""


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f'<td class="missed">{escape(c.strip("*"))}</td>' if c.startswith("**") else f"<td>{escape(c)}</td>"
        for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plot_rows(rows: list[dict[str, Any]]) -> list[tuple[str, float | None, float]]:
    return [(f"{r['service']} / {r['slo']}", r["attainment"], r["objective"]) for r in rows]


def html(data: dict[str, Any]) -> str:
    iv = data["interval"]
    start, end = _epoch(iv["from"]), _epoch(iv["to"])
    title = f"SLO compliance {iv['from']} to {iv['to']}"
    worst = most_spent(data["slos"])
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>",
           f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1><p class=\"note\">{escape(data['method'])}.</p>",
           "<h2>Overall</h2>", _html_table(GROUP_HEADER, [_group_cells(data["overall"])]),
           svg.attainment(_plot_rows(worst), "Attainment against objective (the SLOs that spent most budget)"),
           f"<h3>{escape(ALL_SLOS)}</h3><p class=\"note\">{escape(ALL_SLOS_NOTE)}</p>",
           _html_table(ALL_HEADER, [_all_cells(r) for r in data["slos"]]),
           "<h2>Teams</h2>", _html_table(GROUP_HEADER, [_group_cells(t) for t in data["teams"]])]
    for team in data["teams"]:
        rows = [r for r in data["slos"] if r["team"] == team["name"]]
        out += [f"<h3>{escape(team['name'])}</h3>", _html_table(SLO_HEADER, [_slo_cells(r) for r in rows]),
                svg.attainment(_plot_rows(rows), f"{team['name']}: attainment against objective")]
    incidents = _incident_lines(data)
    out += ["<h2>Services</h2>", _html_table(GROUP_HEADER, [_group_cells(s) for s in data["services"]]),
            "<h2>Incidents</h2>",
            "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in incidents) + "</ul>" if incidents
            else f"<p>{NO_INCIDENTS}</p>",
            "<h2>Error budget burn-down per SLO</h2>"]
    for r in sorted(data["slos"], key=lambda r: (r["service"], r["slo"])):
        points = [(float(t), v) for t, v in r["burndown"]]
        spans = [(_epoch(i["start"]), _epoch(i["end"])) for i in r["incident_intervals"]]
        b = r["budget"]
        out += [f'<section class="slo" id="{escape(r["service"])}--{escape(r["slo"])}">',
                f"<h3>{escape(r['service'])} / {escape(r['slo'])}</h3>",
                f"<p>objective {_pct(r['objective'])}, attainment {_pct(r['attainment'])}; budget spent "
                f"{_pct(b['consumed_ratio'], 1)} ({duration(b['consumed_seconds'])} of "
                f"{duration(b['allowed_seconds'])} at the average request rate); {r['incidents']} incident(s)</p>",
                svg.burndown(points, spans, start, end, "remaining error budget (incidents shaded)"),
                "</section>"]
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True) + "\n"  # no indent: the C encoder, 10x faster on 500 SLOs
