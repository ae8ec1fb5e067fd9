"""Every SLO's remaining error budget, recent burn and what its policy decides.

Read from the series the compiler records (`slo:error_budget_remaining:ratio`, the
base-window error and request rates), in a handful of queries whatever the number of
SLOs: one for the budgets, one per burn window and SLI kind.

Decisions: `ok` (may ship), `frozen` (remaining budget at or under `freeze_below`),
`exempt` (frozen or unknown, but the change carries a label the policy exempts) and
`unknown` (Prometheus unreachable or no data yet: a new service is unknown, not
healthy); what `unknown` means for a release is the fail mode's call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ..durations import Duration
from ..prometheus import Prometheus, Unreachable
from ..slo import naming
from ..slo.model import SLO, RawSLI, Service
from ..slo.windows import WindowCatalog

BURN_WINDOWS = ("1h", "6h", "1d")
OK, FROZEN, EXEMPT, UNKNOWN = "ok", "frozen", "exempt", "unknown"


@dataclass(frozen=True)
class Status:
    service: str
    slo: str
    team: str
    objective: Decimal
    period: str
    remaining: float | None  # 1 untouched, <= 0 spent; None when unknown
    burn: dict[str, float | None]  # window -> burn rate (1 = spending exactly the budget)
    freeze_below: Decimal
    exempt: tuple[str, ...]
    fail_mode: str
    decision: str
    reason: str

    @property
    def blocks(self) -> bool:
        """Whether this SLO stops a release."""
        return self.decision == FROZEN or (self.decision == UNKNOWN and self.fail_mode == "closed")

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service, "slo": self.slo, "team": self.team,
            "objective": float(self.objective * 100), "period": self.period,
            "remaining_budget": _finite(self.remaining),
            "burn_rate": {w: _finite(v) for w, v in sorted(self.burn.items())},
            "policy": {"freeze_below": float(self.freeze_below), "exempt": list(self.exempt),
                       "fail_mode": self.fail_mode},
            "decision": self.decision, "blocks": self.blocks, "reason": self.reason,
        }


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


@dataclass
class Readings:
    """What Prometheus said, keyed by (service, slo); `error` set when it could not be asked."""

    remaining: dict[tuple[str, str], float] = field(default_factory=dict)
    # (service, slo, window) -> error ratio; raw SLIs' under (service, slo, window, "raw")
    burn_ratio: dict[tuple[str, ...], float] = field(default_factory=dict)
    error: str = ""


def _key(labels: Iterable[tuple[str, str]]) -> tuple[str, str]:
    d = dict(labels)
    return d.get("service", ""), d.get("slo", "")


def _matcher(slos: list[SLO]) -> str:
    services = sorted({s.service for s in slos})
    return '{service=~"' + "|".join(_re_escape(s) for s in services) + '"}'


def _re_escape(text: str) -> str:
    out = "".join("\\\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)
    return out.replace('"', '\\"')


def read(prom: Prometheus, slos: list[SLO], catalogs: dict[Duration, WindowCatalog],
         at: float | None = None) -> Readings:
    readings = Readings()
    if not slos:
        return readings
    sel = _matcher(slos)
    try:
        for labels, value in prom.query(f"{naming.BUDGET_REMAINING}{sel}", at):
            readings.remaining[_key(labels)] = value
        bases = sorted({catalogs[s.period].base for s in slos if s.period in catalogs}, key=lambda d: d.ms)
        for base in bases:
            for window in BURN_WINDOWS:
                ratio = (f"sum by (service, slo) (sum_over_time({naming.errors_rate(base)}{sel}[{window}]))"
                         f" / sum by (service, slo) (sum_over_time({naming.requests_rate(base)}{sel}[{window}]))")
                raw = f"avg by (service, slo) (avg_over_time({naming.error_ratio(base)}{sel}[{window}]))"
                # ratio SLIs also record an error ratio, but their burn weighs requests, not 5m ratios
                for kind, expr in (("raw", raw), ("ratio", ratio)):
                    for labels, value in prom.query(expr, at):
                        # 0/0 is a window without traffic: nothing failed, nothing burnt
                        key = (*_key(labels), window)
                        readings.burn_ratio[key if kind == "ratio" else (*key, "raw")] = (
                            0.0 if math.isnan(value) else value)
    except Unreachable as exc:
        return Readings(error=str(exc))
    return readings


def decide(slo: SLO, readings: Readings, change_labels: frozenset[str] = frozenset(),
           fail_mode: str | None = None) -> Status:
    policy = slo.budget_policy
    mode = fail_mode or policy.fail_mode
    key = (slo.service, slo.name)
    remaining = readings.remaining.get(key)
    if remaining is not None and math.isnan(remaining):
        remaining = None
    budget = float(slo.error_budget)
    suffix = ("raw",) if isinstance(slo.sli, RawSLI) else ()
    found = {w: readings.burn_ratio.get((*key, w, *suffix)) for w in BURN_WINDOWS}
    burn = {w: None if v is None else v / budget for w, v in found.items()}
    exempted = sorted(change_labels & set(policy.exempt))
    if readings.error:
        decision, reason = UNKNOWN, readings.error
    elif remaining is None:
        decision, reason = UNKNOWN, (f"no data: {naming.BUDGET_REMAINING} has no series for this SLO "
                                     "(rules not deployed, or no traffic recorded yet)")
    elif remaining <= float(policy.freeze_below):
        decision = FROZEN
        reason = (f"remaining error budget {remaining:.1%} is at or under freeze_below "
                  f"{float(policy.freeze_below):.1%}")
    else:
        decision, reason = OK, (f"remaining error budget {remaining:.1%} is above freeze_below "
                                f"{float(policy.freeze_below):.1%}")
    if decision == UNKNOWN:
        reason += f"; fail_mode {mode}: " + ("releases stop" if mode == "closed" else "releases go ahead")
    if decision in (FROZEN, UNKNOWN) and exempted and (decision == FROZEN or mode == "closed"):
        decision, reason = EXEMPT, f"{reason}; the change is labelled {', '.join(exempted)}, which the policy exempts"
    return Status(
        service=slo.service, slo=slo.name, team=slo.team, objective=slo.objective_percent, period=str(slo.period),
        remaining=remaining, burn=burn, freeze_below=policy.freeze_below, exempt=policy.exempt,
        fail_mode=mode, decision=decision, reason=reason,
    )


def statuses(prom: Prometheus, services: list[Service], catalogs: dict[Duration, WindowCatalog],
             change_labels: frozenset[str] = frozenset(), fail_mode: str | None = None,
             at: float | None = None) -> list[Status]:
    slos = [slo for service in services for slo in service.slos]
    readings = read(prom, slos, catalogs, at)
    return [decide(slo, readings, change_labels, fail_mode) for slo in sorted(slos, key=lambda s: (s.service, s.name))]
