"""The validator on our own format: one field broken at a time, the exact message asserted.

Every expected line was checked by hand against the fixture below: the line
number is that of the field (or of its parent mapping when it is missing),
the path reads like the YAML, the message says what to do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from reliability.slo.formats.native import NO_RUNBOOK
from reliability.slo.formats.schemacheck import SCHEMA_DIR

from .helpers import spec_header, spec_problems, with_line

GOOD = spec_header("shop-api") + """\
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
  - name: latency
    objective: 99
    period: 28d
    sli:
      latency:
        histogram: 'http_request_duration_seconds{job="shop"}'
        threshold: 300ms
"""


def edit(line: int, text: str) -> str:
    """The good fixture with one line (1-based) replaced."""
    return with_line(GOOD, line, text)


CASES = {
    "unknown field": (edit(8, "    objetive: 99.9"), [
        "F:7: availability: slos[0].objective: missing required field 'objective'",
        "F:8: availability: slos[0].objetive: unknown field 'objetive' (did you mean 'objective'?)",
    ]),
    "wrong type": (edit(8, "    objective: high"), [
        "F:8: availability: slos[0].objective: expected a number, got the string 'high'",
    ]),
    "objective 100": (edit(8, "    objective: 100"), [
        "F:8: availability: slos[0].objective: must be greater than 0 and less than 100 "
        "(a percentage such as 99.9), got 100",
    ]),
    "objective 0": (edit(8, "    objective: 0"), [
        "F:8: availability: slos[0].objective: must be greater than 0 and less than 100 "
        "(a percentage such as 99.9), got 0",
    ]),
    "query without window placeholder": (
        edit(11, "        errors: 'sum(rate(http_requests_total{code=~\"5..\"}[5m]))'"), [
            "F:11: availability: slos[0].sli.ratio.errors: query has no {{window}} placeholder: "
            "write ranges as [{{window}}] or give a plain counter selector",
        ]),
    "unparsable PromQL": (
        edit(11, "        errors: 'sum(rate(http_requests_total{code=~\"5..\"}[{{window}}])'"), [
            "F:11: availability: slos[0].sli.ratio.errors: invalid PromQL: unclosed left parenthesis",
        ]),
    "duplicate SLO name": (edit(13, "  - name: availability"), [
        "F:13: availability: slos[1].name: duplicate SLO name 'availability' in service 'shop-api' "
        "(first defined at line 7)",
    ]),
    "period no catalog covers": (edit(15, "    period: 14d"), [
        "F:15: latency: slos[1].period: no burn-rate window catalog covers a 14d period "
        "(catalogs: 7d, 28d, 30d); use one of those periods or add a catalog with --windows DIR",
    ]),
    "period not a duration": (edit(15, "    period: 30 days"), [
        "F:15: latency: slos[1].period: '30 days' is not allowed here: use a duration such as 5m, 1h, 7d or 30d",
    ]),
    "reserved labels": (edit(3, "service: shop-api\nlabels: {severity: high, team: x}"), [
        "F:4: -: labels.severity: label 'severity' is set by the compiler (service, slo, team, severity); "
        "remove it or rename it",
        "F:4: -: labels.team: label 'team' is set by the compiler (service, slo, team, severity); "
        "remove it or rename it",
    ]),
    "label name": (edit(3, "service: shop-api\nlabels: {9lives: x}"), [
        "F:4: -: labels: '9lives' is not allowed here: use a Prometheus label name: letters, digits and '_', "
        "not starting with a digit",
    ]),
    "threshold not a duration": (edit(19, "        threshold: fast"), [
        "F:19: latency: slos[1].sli.latency.threshold: 'fast' is not allowed here: "
        "use a duration in ms or s, such as 300ms or 0.3s",
    ]),
    "threshold zero": (edit(19, "        threshold: 0ms"), [
        "F:19: latency: slos[1].sli.latency.threshold: must be greater than 0, got '0ms'",
    ]),
    # 250 would be read as 250 seconds: no such bucket, every request slow, a page on deploy.
    "threshold without a unit": (edit(19, "        threshold: 250"), [
        "F:19: latency: slos[1].sli.latency.threshold: 250 has no unit: write 250ms (0.25s) or 250s (250000ms), "
        "whichever of the histogram's bucket boundaries (its le values) you mean",
    ]),
    "threshold without a unit, below one": (edit(19, "        threshold: 0.3"), [
        "F:19: latency: slos[1].sli.latency.threshold: 0.3 has no unit: write 0.3s (300ms) or 0.3ms (0.0003s), "
        "whichever of the histogram's bucket boundaries (its le values) you mean",
    ]),
    # Given the histogram's layout, a threshold between two boundaries (no series) is caught.
    "threshold between bucket boundaries": (edit(19, "        threshold: 300ms\n        buckets: [0.1, 0.25, 0.5, 1]"), [
        "F:19: latency: slos[1].sli.latency.threshold: 300ms is not one of the histogram's bucket boundaries "
        "(0.1, 0.25, 0.5, 1 seconds), so it selects no series and every request would count as slow: "
        "use 250ms or 500ms",
    ]),
    "threshold above every bucket boundary": (edit(19, "        threshold: 2s\n        buckets: [0.1, 0.25, 1]"), [
        "F:19: latency: slos[1].sli.latency.threshold: 2s is not one of the histogram's bucket boundaries "
        "(0.1, 0.25, 1 seconds), so it selects no series and every request would count as slow: use 1s",
    ]),
    "bucket boundaries not numbers": (edit(19, "        threshold: 300ms\n        buckets: [100ms]"), [
        "F:20: latency: slos[1].sli.latency.buckets[0]: expected a number, got the string '100ms'",
    ]),
    "histogram not a selector": (edit(18, "        histogram: 'sum(rate(x[5m]))'"), [
        "F:18: latency: slos[1].sli.latency.histogram: expected a histogram selector such as "
        "http_request_duration_seconds{job=\"api\"}",
    ]),
    "missing team": (edit(4, ""), ["F:1: -: team: missing required field 'team'"]),
    "no runbook anywhere": (edit(5, ""), [
        "F:7: availability: slos[0].runbook_url: no runbook: set runbook_url on the SLO or on the service, "
        "so every page links to what to do",
        "F:13: latency: slos[1].runbook_url: no runbook: set runbook_url on the SLO or on the service, "
        "so every page links to what to do",
    ]),
    "errors and total keep different labels": (
        edit(11, "        errors: 'sum(rate(x{code=~\"5..\"}[{{window}}])) by (code)'")
        .replace("total: 'http_requests_total{job=\"shop\"}'", "total: 'sum(rate(x[{{window}}]))'"), [
            "F:11: availability: slos[0].sli.ratio.errors: errors and total keep different labels (errors is "
            "aggregated by (code), total to no labels), so their series never match: the error ratio is always 0 "
            "and the SLO can never alert; aggregate both by the same labels (by (code) on both, or on neither)",
        ]),
    "errors and good": (edit(11, "        errors: 'x_total'\n        good: 'y_total'"), [
        "F:10: availability: slos[0].sli.ratio: give exactly one of errors or good (with total)",
    ]),
    "two SLI kinds": (edit(9, "    sli:\n      raw: {error_ratio: 'x'}"), [
        "F:9: availability: slos[0].sli: give exactly one of ratio, latency or raw",
    ]),
    "duplicate key": (edit(8, "    objective: 99.9\n    objective: 99.5"), [
        "F:9: availability: slos[0].objective: duplicate key 'objective': the earlier value would be silently ignored",
    ]),
    "environment override": (
        edit(12, "        total: 'http_requests_total{job=\"shop\"}'\n    environments:\n      dev: {objective: 100}"), [
            "F:14: availability: slos[0].environments.dev.objective: must be greater than 0 and less than 100 "
            "(a percentage such as 99.9), got 100",
        ]),
    "environment name": (
        edit(12, "        total: 'http_requests_total{job=\"shop\"}'\n    environments:\n      Dev_1: {objective: 99}"), [
            "F:13: availability: slos[0].environments: 'Dev_1' is not allowed here: use a stack name: "
            "lowercase letters, digits and '-', starting with a letter",
        ]),
    "SLO name": (edit(7, "  - name: Availability SLO"), [
        "F:7: Availability SLO: slos[0].name: 'Availability SLO' is not allowed here: use lowercase letters, "
        "digits, '.', '_' or '-', starting and ending with a letter or digit, at most 63 characters",
    ]),
    "YAML syntax": (edit(8, "    objective: [99.9"), [
        "F:9: -: -: YAML syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence that starts at line 8)",
    ]),
    "empty file": ("", ["F:1: -: -: file is empty: expected at least one SLO spec document"]),
    "only comments": ("# nothing yet\n", ["F:1: -: -: file is empty: expected at least one SLO spec document"]),
    "not a mapping": ("- a\n- b\n", ["F:1: -: -: a spec document must be a mapping of fields, this one is a list"]),
    "unknown format": ("apiVersion: foo/v1\nkind: X\n", [
        "F:1: -: apiVersion: unknown spec format (apiVersion 'foo/v1'); supported: reliability-as-code/v1 (ours), "
        "Sloth prometheus/v1 and sloth.slok.dev/v1 PrometheusServiceLevel, OpenSLO openslo/v1 and openslo/v1alpha",
    ]),
    "a rule file": ("groups:\n  - name: x\n    rules: []\n", [
        "F:1: -: -: this is a Prometheus rule file (compiler output?), not an SLO spec: leave it out of the spec paths",
    ]),
    "a window catalog": ("apiVersion: reliability-as-code/v1\nkind: BurnRateWindows\nperiod: 30d\n", [
        "F:1: -: kind: this is a burn-rate window catalog, not an SLO spec: pass it with --windows",
    ]),
}


def test_good_fixture_is_valid(tmp_path: Path) -> None:
    errors, warnings = spec_problems(tmp_path, GOOD)
    assert errors == [] and warnings == []
    # The same threshold on a boundary of the declared layout (0.30 is 300ms).
    errors, _ = spec_problems(tmp_path, edit(19, "        threshold: 300ms\n        buckets: [0.1, 0.30, 1]"))
    assert errors == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_broken_field(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    errors, _ = spec_problems(tmp_path, text)
    assert errors == expected


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = edit(8, "    objective: 100").replace("period: 28d", "period: 1x").replace("team: payments", "team: Pay Team")
    errors, _ = spec_problems(tmp_path, text)
    assert [e.split(":")[1] for e in errors] == ["4", "8", "15"]
    assert "team: 'Pay Team' is not allowed here" in errors[0]
    assert "slos[0].objective: must be greater than 0" in errors[1]
    assert "slos[1].period: '1x' is not allowed here" in errors[2]


def test_cli_exit_code_and_format(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(edit(8, "    objective: 100").replace("period: 28d", "period: 14d"))
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", str(spec)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith(f"{spec}:8: availability: slos[0].objective: must be greater than 0")
    assert lines[1].startswith(f"{spec}:15: latency: slos[1].period: no burn-rate window catalog covers a 14d")
    assert lines[2] == "2 problem(s) in 1 file(s)"
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_cli_valid_exit_zero(tmp_path: Path) -> None:
    spec = tmp_path / "good.yaml"
    spec.write_text(GOOD)
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok: 2 SLO(s) in 1 service(s), 1 file(s)"


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", str(tmp_path / "nope.yaml")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{tmp_path / 'nope.yaml'}:1: -: -: no such file or folder")


W = "[{{window}}]"
RATIO_LABELS = [
    # (errors or good, total, what the error names; None: valid, or the labels cannot be told)
    (f'sum(rate(x{{code=~"5.."}}{W})) by (code)', f"sum(rate(x{W}))", "errors is aggregated by (code), total to no labels"),
    (f"sum by (job) (rate(x{W}))", f"sum by (job, code) (rate(x{W}))", "errors is aggregated by (job), total by (code, job)"),
    (f"sum without (code) (rate(x{W}))", f"sum without (pod) (rate(x{W}))", "errors is aggregated without (code), total without (pod)"),
    (f"(sum(rate(x{W})) by (code)) * 1", f"sum(rate(x{W}))", "errors is aggregated by (code), total to no labels"),
    (f"sum(rate(x{W})) by (code) > 0", f"-(-sum(rate(x{W})))", "errors is aggregated by (code), total to no labels"),
    (f'good: sum(rate(x{{code="200"}}{W})) by (code)', f"sum(rate(x{W}))", "good is aggregated by (code), total to no labels"),
    (f"sum by (job) (rate(x{W}))", f"sum(rate(x{W})) by (job)", None),
    (f"sum by (code, job) (rate(x{W}))", f"sum by (job, code) (rate(x{W}))", None),
    (f"sum without (code) (rate(x{W}))", f"sum without (code) (rate(x{W}))", None),
    (f"sum without (code) (rate(x{W}))", f"sum by (job) (rate(x{W}))", None),  # by against without: unknown
    (f"sum(rate(x{W})) by (code) or vector(0)", f"sum(rate(x{W}))", None),  # vector matching: unknown
    (f"topk(1, rate(x{W}))", f"sum(rate(x{W}))", None),  # keeps every label: unknown
    (f"rate(x{W})", f"sum(rate(x{W}))", None),
    ('x{code=~"5.."}', "x", None),  # plain counters, both summed
]


def test_ratio_sides_must_keep_the_same_labels(tmp_path: Path) -> None:
    """errors/total (or good/total) whose outer aggregations keep different labels never match: refused."""
    got, want = [], []
    for part, total, expected in RATIO_LABELS:
        key, query = part.split(": ", 1) if part.startswith("good: ") else ("errors", part)
        text = GOOD.replace("errors: 'http_requests_total{job=\"shop\",code=~\"5..\"}'", f"{key}: '{query}'")
        text = text.replace("total: 'http_requests_total{job=\"shop\"}'", f"total: '{total}'")
        errors, _ = spec_problems(tmp_path, text)
        got.append([e.split(": ", 3)[3].split(", so ")[0] for e in errors])
        want.append([f"{key} and total keep different labels ({expected})"] if expected else [])
    assert got == want


RUNBOOKS = [
    # (runbook on the service, on the availability and latency SLOs) -> the SLOs refused for lack of one
    ((True, False, False), []),
    ((False, True, True), []),
    ((False, True, False), [1]),
    ((False, False, False), [0, 1]),
]


def test_the_published_schema_requires_a_runbook_as_the_cli_does(tmp_path: Path) -> None:
    """Editors validating with the schema alone refuse what `sre slo validate` refuses, and the CLI says it once."""
    editor = jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / "slo-spec-v1.json").read_text()))
    names = ("availability", "latency")
    for (service, *slos), missing in RUNBOOKS:
        lines = GOOD.replace("runbook_url: https://runbooks.example.com/shop-api\n", "").split("\n")
        for name, has in reversed(list(zip(names, slos, strict=True))):
            if has:
                lines.insert(lines.index(f"  - name: {name}") + 1, f"    runbook_url: https://runbooks.example.com/{name}")
        if service:
            lines.insert(4, "runbook_url: https://runbooks.example.com/shop-api")
        text = "\n".join(lines)
        found = sorted((list(e.absolute_path), e.message) for e in editor.iter_errors(yaml.safe_load(text)))
        assert found == [(["slos", i], "'runbook_url' is a required property") for i in missing], text
        errors, _ = spec_problems(tmp_path, text)
        assert [e.split(": ", 1)[1] for e in errors] == [
            f"{names[i]}: slos[{i}].runbook_url: {NO_RUNBOOK}" for i in missing], text
