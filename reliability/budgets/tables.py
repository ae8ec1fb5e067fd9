"""`sre budget status` and `gate` output: a text table, Markdown (step summaries) and JSON."""

from __future__ import annotations

import json

from .status import BURN_WINDOWS, Status

# `sre budget gate` exit codes (reliability/cli/budget.py): 0 ship, 1 frozen, 3 unknown under fail-closed
SHIP, FROZEN, UNKNOWN = 0, 1, 3
HEADER = ("service", "slo", "objective", "remaining", *(f"burn {w}" for w in BURN_WINDOWS), "policy", "decision")


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1%}"


def _burn(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _row(s: Status) -> tuple[str, ...]:
    policy = f"freeze<={float(s.freeze_below):.0%} fail-{s.fail_mode}"
    if s.exempt:
        policy += f" exempt:{','.join(s.exempt)}"
    decision = s.decision + (" (blocks)" if s.blocks else "")
    return (s.service, s.slo, f"{s.objective.normalize():f}%", _pct(s.remaining),
            *(_burn(s.burn[w]) for w in BURN_WINDOWS), policy, decision)


def text(statuses: list[Status]) -> str:
    rows = [HEADER, *(_row(s) for s in statuses)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def markdown(statuses: list[Status], title: str = "Error budgets") -> str:
    cells = [HEADER, tuple("---" for _ in HEADER), *(_row(s) for s in statuses)]
    lines = [f"## {title}", "", *("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in cells)]
    reasons = [f"- **{s.service} / {s.slo}**: {s.decision}: {s.reason}" for s in statuses if s.decision != "ok"]
    if reasons:
        lines += ["", *reasons]
    return "\n".join(lines) + "\n"


def as_json(statuses: list[Status]) -> str:
    return json.dumps({"slos": [s.as_json() for s in statuses]}, indent=2, sort_keys=True) + "\n"


def gate_verdict(statuses: list[Status]) -> tuple[int, str]:
    """Exit code (0 ship, 1 frozen, 3 unknown under a closed fail mode) and the sentence saying why."""
    frozen = [s for s in statuses if s.decision == "frozen"]
    unknown = [s for s in statuses if s.decision == "unknown" and s.blocks]
    if frozen:
        names = "; ".join(f"{s.service}/{s.slo} ({s.reason})" for s in frozen)
        return FROZEN, f"release frozen by the error-budget policy: {names}"
    if unknown:
        names = "; ".join(f"{s.service}/{s.slo} ({s.reason})" for s in unknown)
        return UNKNOWN, f"cannot tell whether the budget allows this release, and the fail mode is closed: {names}"
    services = sorted({s.service for s in statuses})
    return SHIP, f"may ship: {len(services)} service(s), {len(statuses)} SLO(s) within their error-budget policy"



def gate_text(code: int, statuses: list[Status], verdict: str) -> str:
    return text(statuses) + "\n" + verdict + "\n"


def gate_json(code: int, statuses: list[Status], verdict: str) -> str:
    return json.dumps({"exit_code": code, "verdict": verdict, "slos": [s.as_json() for s in statuses]},
                      indent=2, sort_keys=True) + "\n"


def gate_summary(code: int, statuses: list[Status] | None, verdict: str, errors: str = "") -> str:
    """The step summary's Markdown, for every exit code: a deploy the gate blocks always says why.

    `statuses` is None on bad input; `errors` is then what was printed on stderr.
    """
    if statuses is None:
        lines = [line for line in errors.splitlines() if line.strip()] or ["sre budget gate: bad input"]
        out = (f"## Error-budget gate: blocked (bad input)\n\n**blocked: bad input — {lines[-1]}**\n\n"
               "Nothing was decided: fix the input and run the gate again.\n")
        if len(lines) > 1:
            out += "\n```\n" + "\n".join(lines) + "\n```\n"
        return out
    exempt = sorted({label for s in statuses if s.decision == "frozen" for label in s.exempt})
    advice = ""
    if code == FROZEN:
        advice = ("\nTo ship during the freeze, label the change with one of the labels the policy exempts"
                  f" ({', '.join(exempt)})." if exempt else
                  "\nThe policy of the frozen SLOs exempts no change label: restore the budget first.")
    elif code == UNKNOWN:
        advice = ("\nFix the connection to Prometheus or wait for data; an exempt change label "
                  "or `--fail-mode open` lets the release through.")
    icon = {SHIP: "passed", FROZEN: "blocked", UNKNOWN: "blocked (unknown)"}[code]
    return markdown(statuses, f"Error-budget gate: {icon}") + f"\n**{verdict}**\n{advice}\n"
