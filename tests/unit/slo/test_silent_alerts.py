"""Specs that would compile into alerts that never fire, or always fire, are refused.

Each case: a good spec with one field changed, the exact problems asserted (checked
by hand: line of the field, the path as written, the fix). The opt-ins (`intended`,
a switched-off page) make the same spec valid again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import compile_text, rules_of, spec_header, spec_problems

NATIVE = spec_header("shop-api") + """\
  - name: availability
    objective: OBJECTIVE
    sli:
      ratio:
        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
"""

SLOTH = """\
version: prometheus/v1
service: shop
labels: {team: shop}
slos:
  - name: availability
    objective: OBJECTIVE
    sli:
      events:
        error_query: ERRORS
        total_query: 'sum(rate(http_requests_total[{{.window}}]))'
    alerting: {annotations: {runbook_url: "https://runbooks.example.com/shop"}}
"""
OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: availability
  labels: {team: shop}
  annotations:
    runbook_url: https://runbooks.example.com/shop
ANNOTATIONS
spec:
  service: shop
  indicator:
    metadata: {name: availability}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code!~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: http_requests_total}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives:
    - TARGET
"""
SLOTH_ERRORS = "'sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))'"


def native(objective: str, extra: str = "") -> str:
    return NATIVE.replace("OBJECTIVE", objective) + extra


def sloth(objective: str = "99.9", errors: str = SLOTH_ERRORS, alerting: str = "") -> str:
    text = SLOTH.replace("OBJECTIVE", objective).replace("ERRORS", errors)
    return text.replace("{annotations:", f"{{{alerting}annotations:") if alerting else text


def openslo(target: str, intended: str = "") -> str:
    annotation = f"    reliability-as-code/intended: {intended}" if intended else ""
    return OPENSLO.replace("TARGET", target).replace("ANNOTATIONS\n", annotation + "\n" if annotation else "")


PAGE_NEVER = ("F:8: availability: slos[0].objective: the page alert can never fire: even its slowest burn rate, "
              "6x a 20% budget, needs more than 100% errors; raise the objective, or set "
              "alerting.page.enabled: false if tickets are enough")

CASES = {
    # 0.999 meant 99.9: a 99.001% budget; every alert is silent and CI used to go green.
    "objective written as a ratio": (native("0.999"), [
        "F:8: availability: slos[0].objective: objective 0.999% is very low: objectives are percentages, "
        "did you mean 99.9? (if 0.999% is intended, add `intended: [low-objective]` to this SLO)",
        "F:8: availability: slos[0].objective: the page alert can never fire: even its slowest burn rate, "
        "6x a 99.001% budget, needs more than 100% errors; raise the objective, or set "
        "alerting.page.enabled: false if tickets are enough",
    ]),
    "objective too low to page": (native("80"), [PAGE_NEVER]),
    "low objective in one environment": (native("99.9", "    environments: {dev: {objective: 0.5}}\n"), [
        "F:13: availability: slos[0].environments.dev.objective: objective 0.5% is very low: objectives are "
        "percentages, did you mean 50? (if 0.5% is intended, add `intended: [low-objective]` to this SLO)",
    ]),
    "unknown intended entry": (native("99.9", "    intended: [low-objectives]\n"), [
        "F:13: availability: slos[0].intended[0]: must be one of 'low-objective', got the string 'low-objectives'",
    ]),
    "sloth objective written as a ratio": (sloth("0.999", alerting="page_alert: {disable: true}, "), [
        "F:6: availability: slos[0].objective: objective 0.999% is very low: objectives are percentages, "
        "did you mean 99.9? (if 0.999% is intended, write this SLO in the reliability-as-code/v1 format "
        "with `intended: [low-objective]`)",
    ]),
    "sloth page can never fire": (sloth("80"), [
        "F:6: availability: slos[0].objective: the page alert can never fire: even its slowest burn rate, "
        "6x a 20% budget, needs more than 100% errors; raise the objective, or set "
        "alerting.page_alert.disable: true if tickets are enough",
    ]),
    # OpenSLO has no `intended` field (its schema refuses one): the opt-in is an annotation it allows.
    "openslo targetPercent written as a ratio": (openslo("targetPercent: 0.999"), [
        "F:20: availability: spec.objectives[0]: the page alert can never fire: even its slowest burn rate, "
        "6x a 99.001% budget, needs more than 100% errors; raise the objective, or set "
        "`reliability-as-code/intended: tickets-only` in metadata.annotations if tickets are enough",
        "F:20: availability: spec.objectives[0].targetPercent: objective 0.999% is very low: objectives are "
        "percentages, did you mean 99.9? (if 0.999% is intended, add "
        "`reliability-as-code/intended: low-objective` to metadata.annotations)",
    ]),
    "openslo page can never fire": (openslo("target: 0.8"), [
        "F:20: availability: spec.objectives[0]: the page alert can never fire: even its slowest burn rate, "
        "6x a 20% budget, needs more than 100% errors; raise the objective, or set "
        "`reliability-as-code/intended: tickets-only` in metadata.annotations if tickets are enough",
    ]),
    "openslo unknown intended entry": (openslo("target: 0.999", "tickets-only, low-objectives"), [
        "F:8: availability: metadata.annotations.reliability-as-code/intended: unknown entry 'low-objectives': "
        "the annotation is a comma-separated list of 'low-objective', 'tickets-only'",
    ]),
    # Sloth rejects `{{window}}`: the hint in a Sloth file must be Sloth's own spelling.
    "sloth query without the window": (sloth(errors="'sum(rate(http_requests_total{code=~\"5..\"}[5m]))'"), [
        "F:9: availability: slos[0].sli.events.error_query: query has no {{.window}} placeholder: "
        "write ranges as [{{.window}}]",
    ]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    errors, _ = spec_problems(tmp_path, text)
    assert errors == expected


@pytest.mark.parametrize("text", [
    native("0.5", "    intended: [low-objective]\n    alerting: {page: {enabled: false}, ticket: {enabled: false}}\n"),
    native("80", "    alerting: {page: {enabled: false}}\n"),
    sloth("80", alerting="page_alert: {disable: true}, "),
    openslo("targetPercent: 0.5", "low-objective, tickets-only"),
    openslo("target: 0.8", "tickets-only"),
], ids=["low objective intended", "page switched off", "sloth page switched off",
        "openslo low objective intended", "openslo tickets only"])
def test_the_opt_ins_make_it_valid(tmp_path: Path, text: str) -> None:
    errors, _ = spec_problems(tmp_path, text)
    assert errors == []


def test_an_openslo_tickets_only_slo_compiles_without_a_page(tmp_path: Path) -> None:
    result = compile_text(tmp_path, openslo("target: 0.8", "tickets-only"))
    severities = sorted({r["labels"]["severity"] for r in rules_of(result) if "alert" in r})
    assert severities == ["ticket"]


def test_a_page_that_fires_on_one_window_only_is_a_warning(tmp_path: Path) -> None:
    # 90%: a 14.4x burn of 10% needs 144% errors, but the 6x page over 6h can still fire.
    errors, warnings = spec_problems(tmp_path, native("90"))
    assert errors == []
    assert warnings == ["F:8: availability: slos[0].objective: warning: the page alert over 1h can never fire: "
                        "a 14.4x burn of a 10% budget needs more than 100% errors"]


def test_compile_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(native("0.999"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "compile", str(spec), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "did you mean 99.9?" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
