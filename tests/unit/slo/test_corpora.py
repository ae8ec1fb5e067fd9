"""Other tools' specs: every Sloth example compiles and passes promtool; each OpenSLO file gets a decision.

Sloth examples: ../shared/reference/sloth/examples (prometheus/v1, sloth.slok.dev/v1 and openslo/v1alpha),
with Sloth's own generated rules in _gen/ to compare burn-rate thresholds against.
OpenSLO: ../shared/reference/openslo (the spec's examples and README snippets, and oslo's test inputs).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from reliability.slo import naming
from reliability.slo.compile import Output, compile_paths, write_output
from reliability.slo.promtool import run_checks

from ...conftest import REFERENCE, reference, tool
from .helpers import fired

SLOTH_FILES = sorted(p.name for p in (REFERENCE / "sloth" / "examples").glob("*.y*ml")) or ["(missing)"]


def assert_promtool_passes(output: Output, tmp_path: Path) -> None:
    """Write the compile and run `promtool check rules` and `promtool test rules` on it."""
    write_output(output.files, str(tmp_path / "out"))
    tool("promtool")
    ok, report = run_checks(str(tmp_path / "out"))
    assert ok, report



@pytest.mark.parametrize("name", SLOTH_FILES)
def test_sloth_example_compiles_and_passes_promtool(name: str, tmp_path: Path) -> None:
    path = reference("sloth", "examples", name)
    result, output = compile_paths([str(path)])
    assert output is not None, "\n".join(map(str, result.problems.errors))
    assert_promtool_passes(output, tmp_path)


def sloth_thresholds(gen: Path) -> dict[tuple[str, str], list[float]]:
    """(service, slo) -> Sloth's page then ticket thresholds, from `(14.4 * 0.00099...)` in its alert exprs."""
    out: dict[tuple[str, str], list[float]] = {}
    for doc in yaml.safe_load_all(gen.read_text()):
        if not doc:
            continue
        groups = doc.get("groups") or doc.get("spec", {}).get("groups", [])
        for group in groups:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                key = (rule["expr"].split('sloth_service="')[1].split('"')[0],
                       rule["expr"].split('sloth_slo="')[1].split('"')[0])
                pairs = re.findall(r"\(([0-9.]+) \* ([0-9.e-]+)\)", rule["expr"])
                out.setdefault(key, []).extend(float(a) * float(b) for a, b in pairs[::2])
    return out


@pytest.mark.parametrize("name", ["getting-started.yml", "kubernetes-apiserver.yml", "multifile.yml",
                                  "k8s-getting-started.yml"])
def test_burn_rate_thresholds_match_sloth(name: str) -> None:
    _, output = compile_paths([str(reference("sloth", "examples", name))])
    assert output is not None
    expected = sloth_thresholds(reference("sloth", "examples", "_gen", name))
    assert expected
    for service in output.services:
        rule_doc = yaml.safe_load(output.files[f"rules/{naming.slug(service.name)}.yaml"])
        for slo in service.slos:
            ours = [float(x) for rule in fired(rule_doc["groups"])
                    if rule.get("alert") == slo.alerting.name and rule["labels"]["slo"] == slo.name
                    for x in re.findall(r"> ([0-9.]+)", rule["expr"])[::2]]
            assert ours == pytest.approx(expected[(slo.service, slo.name)], rel=1e-9)


# OpenSLO: what happens to each file, and why. Accepted files compile; rejected ones name the reason.
OPENSLO = {
    "examples/budgeting-method/occurences-slo.yaml": [
        "spec.indicator.spec.thresholdMetric.metricSource.type: metric source type 'Any' cannot be compiled",
        "spec.timeWindow[0].duration: no burn-rate window catalog covers a 14d period",
    ],
    "examples/budgeting-method/ratio-timeslices.yaml": [
        "ratioMetric.good.metricSource.type: metric source type 'Any' cannot be compiled",
        "ratioMetric.total.metricSource.type: metric source type 'Any' cannot be compiled",
        "spec.timeWindow[0].duration: no burn-rate window catalog covers a 14d period",
        "spec.budgetingMethod: budgeting method 'RatioTimeslices' is not supported",
    ],
    "examples/budgeting-method/timeslices-slo.yaml": [
        "ratioMetric.good.metricSource.type: metric source type 'Any' cannot be compiled",
        "ratioMetric.total.metricSource.type: metric source type 'Any' cannot be compiled",
        "spec.timeWindow[0]: calendar-aligned time windows are not supported",
        "spec.budgetingMethod: budgeting method 'Timeslices' is not supported",
    ],
    "examples/treat-low-traffic-as-equally-important/timeslices-slo.yaml": [
        "ratioMetric.good.metricSource.type: metric source type 'Any' cannot be compiled",
        "ratioMetric.total.metricSource.type: metric source type 'Any' cannot be compiled",
        "spec.timeWindow[0]: calendar-aligned time windows are not supported",
        "spec.budgetingMethod: budgeting method 'Timeslices' is not supported",
    ],
    "readme-snippets/01-SLO-foo-slo.yaml": [
        "ratioMetric.good.metricSource.type: metric source type 'Datadog' cannot be compiled to Prometheus rules",
        "ratioMetric.total.metricSource.type: metric source type 'Datadog' cannot be compiled to Prometheus rules",
    ],
    "readme-snippets/02-AlertPolicy-AlertPolicy.yaml": "no SLOs",
    "readme-snippets/03-AlertPolicy-AlertPolicy.yaml": "no SLOs",
    "readme-snippets/04-AlertCondition-cpu-usage-breach.yaml": "no SLOs",
    "readme-snippets/05-AlertNotificationTarget-OnCallDevopsMailNotification.yaml": "no SLOs",
    "readme-snippets/06-AlertNotificationTarget-OnCallDevopsSlackNotification.yaml": "no SLOs",
    "oslo/test/inputs/validate/v1.yaml": [
        "spec.timeWindow[0]: calendar-aligned time windows are not supported",
        "spec.budgetingMethod: budgeting method 'Timeslices' is not supported",
        "metadata.name: 'example service' is not allowed here: use an RFC 1123 label",
    ],
    "oslo/test/inputs/validate/v1alpha.yaml": [
        "metadata.name: 'my-rad service' is not allowed here: use an RFC 1123 label",
        "spec.budgetingMethod: budgeting method 'Timeslices' is not supported",
        "spec.timeWindows[0]: calendar-aligned time windows are not supported",
    ],
    "oslo/test/inputs/validate/v2alpha.yaml": [  # three documents, each refused
        ":1: -: apiVersion: OpenSLO version 'openslo.com/v2alpha' is not supported",
        ":38: -: apiVersion: OpenSLO version 'openslo.com/v2alpha' is not supported",
        ":47: -: apiVersion: OpenSLO version 'openslo.com/v2alpha' is not supported",
    ],
    "oslo/test/inputs/validate/invalid-apiversion.yaml": ["unknown spec format (apiVersion 'foo')"],
    "oslo/test/inputs/validate/unknown-field.yaml": [
        "metadata.name: 'my-rad service' is not allowed here",
        "spec.markdown: unknown field 'markdown' (known fields: description)",
    ],
    "oslo/test/inputs/validate/mix/1.yaml": ["'example service' is not allowed here"],
    "oslo/test/inputs/validate/mix/3.yaml": ["OpenSLO version 'openslo.com/v2alpha' is not supported"],
    "oslo/test/inputs/fmt/service.yaml": "no SLOs",
    "oslo/internal/files/testdata/format/valid-service.yaml": "no SLOs",
    "oslo/internal/files/testdata/format/valid-service.json": "no SLOs",
    "oslo/internal/files/testdata/format/list-of-services.yaml": "no SLOs",
    "oslo/internal/files/testdata/format/two-documents.yaml": "no SLOs",
    "oslo/internal/files/testdata/format/invalid-service.yaml": ["'my-rad service' is not allowed here"],
    "oslo/internal/files/testdata/discover/x.yml": ["file is empty"],
}


@pytest.mark.parametrize("name", sorted(OPENSLO))
def test_openslo_decisions(name: str) -> None:
    from reliability.slo.load import load

    result = load([str(reference("openslo", *name.split("/")))])
    expected = OPENSLO[name]
    errors = [str(p) for p in result.problems.errors]
    if expected == "no SLOs":
        assert errors == [] and result.services == []
        assert any("nothing to compile" in str(w) or "is not used" in str(w) for w in result.problems.warnings)
    else:
        assert len(errors) == len(expected), "\n".join(errors)
        for fragment in expected:
            assert any(fragment in e for e in errors), f"{fragment!r} not in:\n" + "\n".join(errors)


def test_openslo_v1_that_maps_compiles(tmp_path: Path) -> None:
    """The v1 shapes this compiler reads: counter ratios, indicatorRef, DataSource, thresholdMetric, raw."""
    (tmp_path / "slo.yaml").write_text("""\
apiVersion: openslo/v1
kind: DataSource
metadata: {name: prom}
spec: {type: Prometheus}
---
apiVersion: openslo/v1
kind: Service
metadata: {name: web, labels: {team: [web-team]}, annotations: {runbook_url: "https://runbooks.example.com/web"}}
spec: {description: The web front end}
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: web-ok}
spec:
  ratioMetric:
    counter: true
    good: {metricSource: {metricSourceRef: prom, spec: {query: 'sum(http_requests{component="web",code=~"2..|3.."})'}}}
    total: {metricSource: {metricSourceRef: prom, spec: {query: 'sum(http_requests{component="web"})'}}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: web-availability}
spec:
  service: web
  indicatorRef: web-ok
  timeWindow: [{duration: 4w, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: Good, targetPercent: 99.5}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: web-latency}
spec:
  service: web
  indicator:
    metadata: {name: web-p99}
    spec:
      thresholdMetric: {metricSource: {type: Prometheus, spec: {query: 'histogram_quantile(0.99, sum by (le) (rate(lat_bucket[1m])))'}}}
  budgetingMethod: Occurrences
  objectives: [{op: lt, value: 0.5, target: 0.99}]
""")
    result, output = compile_paths([str(tmp_path / "slo.yaml")])
    assert output is not None, "\n".join(map(str, result.problems.errors))
    service = output.services[0]
    assert (service.name, service.team, service.description) == ("web", "web-team", "The web front end")
    availability, latency = sorted(service.slos, key=lambda s: s.name)
    assert str(availability.period) == "28d" and str(availability.objective) == "0.995"
    assert availability.sli.good.template == 'sum(rate(http_requests{component="web",code=~"2..|3.."}[{{window}}]))'
    assert latency.sli.errors.template.startswith("sum(count_over_time((histogram_quantile(")
    assert ">= 0.5)[{{window}}:]))" in latency.sli.errors.template
    assert_promtool_passes(output, tmp_path)


OPENSLO_V1_COUNTER = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: web-availability, labels: {team: web}, annotations: {runbook_url: "https://runbooks.example.com/web"}}
spec:
  service: web
  indicator:
    metadata: {name: web-ok}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="web",code=~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="web"}'}}}
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
"""
OPENSLO_V1ALPHA_INCREMENTAL = """\
apiVersion: openslo/v1alpha
kind: SLO
metadata: {name: web-availability}
spec:
  service: web
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        incremental: true
        good: {source: prometheus, queryType: promql, query: 'http_requests_total{job="web",code!~"5.."}'}
        total: {source: prometheus, queryType: promql, query: 'http_requests_total{job="web"}'}
      target: 0.999
"""


# `a + ignoring(code) b` on counters: rates of both, summed into one series for the SLO.
OPENSLO_V1_COUNTER_SUM = OPENSLO_V1_COUNTER.replace(
    """'http_requests_total{job="web",code=~"5.."}'""",
    """'http_requests_total{job="web",code="500"} + ignoring(code) http_requests_total{job="web",code="503"}'""")
assert OPENSLO_V1_COUNTER_SUM != OPENSLO_V1_COUNTER


@pytest.mark.parametrize(("spec", "numerator"), [
    (OPENSLO_V1_COUNTER, 'sum(rate(http_requests_total{job="web",code=~"5.."}[5m]))'),
    (OPENSLO_V1ALPHA_INCREMENTAL, 'sum(rate(http_requests_total{job="web",code!~"5.."}[5m]))'),
    (OPENSLO_V1_COUNTER_SUM, 'sum(rate(http_requests_total{job="web",code="500"}[5m]) + ignoring (code) '
                             'rate(http_requests_total{job="web",code="503"}[5m]))'),
], ids=["v1-counter", "v1alpha-incremental", "v1-counter-expression"])
def test_openslo_counter_selectors_count_events_per_slo_not_per_series(spec: str, numerator: str,
                                                                        tmp_path: Path) -> None:
    """A plain counter selector (or an expression of them) is summed as in a native spec: one SLI per SLO,
    no per-series labels."""
    (tmp_path / "slo.yaml").write_text(spec)
    result, output = compile_paths([str(tmp_path / "slo.yaml")])
    assert output is not None, "\n".join(map(str, result.problems.errors))
    rules = {r["record"]: r["expr"] for group in yaml.safe_load(output.files["rules/web.yaml"])["groups"]
             for r in group["rules"] if "record" in r}
    assert rules["slo:sli_requests:rate5m"] == 'sum(rate(http_requests_total{job="web"}[5m]))'
    assert numerator in rules["slo:sli_errors:rate5m"]
    assert_promtool_passes(output, tmp_path)


SLOTH_BY_CODE = """\
version: prometheus/v1
service: shop
labels: {team: shop}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: 'sum(rate(http_requests_total{code=~"5.."}[{{.window}}])) by (code)'
        total_query: 'sum(rate(http_requests_total[{{.window}}]))'
    alerting: {annotations: {runbook_url: "https://runbooks.example.com/shop"}}
"""
OPENSLO_BY_CODE = """\
apiVersion: openslo/v1alpha
kind: SLO
metadata: {name: availability}
spec:
  service: shop
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: 'sum(rate(http_requests_total{code!~"5.."}[{{.window}}])) by (code)'}
        total: {source: prometheus, queryType: promql, query: 'sum(rate(http_requests_total[{{.window}}]))'}
      target: 0.999
"""


@pytest.mark.parametrize(("spec", "expected"), [
    (SLOTH_BY_CODE, ":9: availability: slos[0].sli.events.error_query: errors and total keep different labels "
                    "(errors is aggregated by (code), total to no labels), so their series never match: the error "
                    "ratio is always 0 and the SLO can never alert; aggregate both by the same labels "
                    "(by (code) on both, or on neither)"),
    (OPENSLO_BY_CODE, ":9: availability-0: spec.objectives[0].ratioMetrics.good.query: good and total keep different "
                      "labels (good is aggregated by (code), total to no labels), so their series never match: every "
                      "event counts as bad and the SLO always alerts; aggregate both by the same labels "
                      "(by (code) on both, or on neither)"),
], ids=["sloth", "openslo"])
def test_ratio_sides_with_different_labels_are_refused_in_every_format(spec: str, expected: str,
                                                                         tmp_path: Path) -> None:
    (tmp_path / "slo.yaml").write_text(spec)
    result, output = compile_paths([str(tmp_path / "slo.yaml")])
    assert output is None
    assert [str(p) for p in result.problems.errors] == [f"{tmp_path / 'slo.yaml'}{expected}"]
