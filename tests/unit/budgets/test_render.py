"""report.md and report.html from a hand-made report dictionary: what is sorted how, and what is said."""

from __future__ import annotations

import re
from typing import Any

from reliability.budgets import render
from reliability.budgets.summary import least_attainment_first

T = 30 * 86400


def slo(service: str, team: str, attainment: float | None, objective: float = 0.999,
        incidents: list[tuple[str, str, int]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    budget = 1 - objective
    consumed = None if attainment is None else (1 - attainment) / budget
    return {
        "service": service, "slo": "availability", "team": team, "objective": objective,
        "attainment": attainment, "met": None if attainment is None else attainment >= objective,
        "budget": {"consumed_ratio": consumed, "allowed_seconds": budget * T,
                   "consumed_seconds": None if attainment is None else (1 - attainment) * T},
        "burndown": [], "incidents": len(incidents), "mttr_seconds": None, "mtbf_seconds": None,
        "incident_intervals": [{"start": a, "end": b, "seconds": s} for a, b, s in incidents],
    }


def group(name: str, worst: float | None, slos: int = 1) -> dict[str, Any]:
    return {"name": name, "slos": slos, "slos_missed": 0, "slos_without_data": 0, "worst_attainment": worst,
            "incidents": 0, "mttr_seconds": None, "mtbf_seconds": None, "change_failure": None,
            "change_failure_note": "unknown: no deploy series given (--deploys)"}


def report(slos: list[dict[str, Any]], teams: list[dict[str, Any]], services: list[dict[str, Any]]) -> dict[str, Any]:
    return {"interval": {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "seconds": T},
            "method": "attainment = 1 - bad / all", "slos": slos, "teams": teams, "services": services,
            "overall": group("overall", min(r["attainment"] for r in slos if r["attainment"] is not None), len(slos))}


# summarise sorts SLOs least attainment first, no data last; this is that order, checked by hand
SLOS = [slo("cart-api", "payments", 0.9950, incidents=[("2026-11-03T10:00:00Z", "2026-11-03T11:00:00Z", 3600)]),
        slo("search-api", "discovery", 0.9985),
        slo("shop-api", "payments", 0.9992),
        slo("new-api", "discovery", None)]


def _rows_under(text: str, heading: str) -> list[str]:
    """The service column of the first table after `heading` in report.md."""
    block = text.split(heading, 1)[1].split("\n\n#", 1)[0]
    return [line.split(" | ")[1] for line in block.splitlines() if line.startswith("| ") and " | availability | " in line]


def test_overall_table_lists_every_slo_least_attainment_first_and_no_data_last() -> None:
    data = report(SLOS, [group("discovery", 0.9985), group("payments", 0.9950)],
                  [group("cart-api", 0.9950), group("search-api", 0.9985)])
    md = render.markdown(data)
    assert "### All SLOs, least attainment first\n\nSLOs without data come last, marked no data: unknown, not " \
           "healthy.\n\n| team | service | SLO |" in md
    assert _rows_under(md, "### All SLOs") == ["cart-api", "search-api", "shop-api", "new-api"]
    assert "| discovery | new-api | availability | 99.900% | no data | no data |" in md
    html = render.html(data)
    table = html.split("<h3>All SLOs, least attainment first</h3>", 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<tr><td>\w+</td><td>([\w-]+)</td>", table) == ["cart-api", "search-api", "shop-api", "new-api"]
    assert "<td>discovery</td><td>new-api</td><td>availability</td><td>99.900%</td><td>no data</td>" in table


def test_teams_and_services_by_worst_attainment_no_data_last() -> None:
    groups = [group("alpha", None), group("bravo", 0.9992), group("charlie", 0.9950), group("delta", 0.9992)]
    assert [g["name"] for g in least_attainment_first(groups)] == ["charlie", "bravo", "delta", "alpha"]


def test_overall_plot_shows_the_slos_that_spent_most_budget_not_those_without_data() -> None:
    silent = [slo(f"quiet-{i:02d}", "payments", None) for i in range(45)]
    burning = [slo("burnt-api", "payments", 0.9980),  # 200% of its budget
               slo("warm-api", "payments", 0.9995),  # 50%
               slo("cold-api", "payments", 0.99999)]  # 1%
    shown = render.most_spent(silent + burning)
    assert [r["service"] for r in shown[:4]] == ["burnt-api", "warm-api", "cold-api", "quiet-00"]
    assert len(shown) == render.OVERALL_PLOT_ROWS
    html = render.html(report(silent + burning, [group("payments", 0.9980, 48)], [group("burnt-api", 0.9980)]))
    plot = "<svg" + html.split("<svg", 1)[1].split("</svg>", 1)[0]  # the overall plot comes first
    assert "burnt-api / availability" in plot and "cold-api / availability" in plot
    assert "quiet-36 / availability" in plot and "quiet-37 / availability" not in plot  # 3 + 37 = 40


def test_html_lists_incident_times_like_the_markdown() -> None:
    data = report(SLOS, [group("payments", 0.9950)], [group("cart-api", 0.9950)])
    line = "cart-api / availability: 2026-11-03T10:00:00Z to 2026-11-03T11:00:00Z (1h)"
    assert f"- {line}" in render.markdown(data)
    assert f"<li>{line}</li>" in render.html(data)


def test_change_failure_rate_says_how_many_services_it_leaves_out() -> None:
    data = report(SLOS, [group("payments", 0.9950)], [group("cart-api", 0.9950)])
    data["overall"] |= {"change_failure": {"deploys": 2, "failed": 1, "rate": 0.5}, "services_without_deploys": 3}
    data["teams"][0] |= {"change_failure": {"deploys": 4, "failed": 0, "rate": 0.0}, "services_without_deploys": 1}
    md = render.markdown(data)
    assert "| 50% (1/2), 3 services without deploy data |" in md
    assert "| 0% (0/4), 1 service without deploy data |" in md
    assert "<td>50% (1/2), 3 services without deploy data</td>" in render.html(data)
