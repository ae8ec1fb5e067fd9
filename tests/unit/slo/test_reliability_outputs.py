"""What the reliability-test generators write: valid custom resources, SLO-derived thresholds, one place each."""

from __future__ import annotations

import json

import yaml

from reliability.slo.generators.canary import canary_query
from reliability.slo.generators.loadtests import thresholds

from ...crds import validate_custom_resource
from .helpers import compile_examples, compile_text

CUSTOM_GROUPS = ("k6.io/", "chaos-mesh.org/", "argoproj.io/")


def _documents(files: dict[str, str], folder: str) -> list[dict]:
    return [doc for name, text in files.items() if name.startswith(f"{folder}/") and name.endswith(".yaml")
            for doc in yaml.safe_load_all(text)]


def test_every_generated_custom_resource_matches_its_crd() -> None:
    files = compile_examples().files
    checked = []
    for folder in ("loadtests", "gamedays", "canary"):
        for doc in _documents(files, folder):
            if doc["apiVersion"].startswith(CUSTOM_GROUPS):
                assert validate_custom_resource(doc) == [], (folder, doc["metadata"]["name"])
                checked.append(doc["kind"])
            if doc["kind"] == "ConfigMap" and "testrun.json" in doc["data"]:  # what the CronJob re-creates
                assert validate_custom_resource(json.loads(doc["data"]["testrun.json"])) == []
                checked.append("TestRun")
    assert sorted(set(checked)) == ["AnalysisTemplate", "Schedule", "TestRun", "Workflow"]


def test_thresholds_come_from_the_slos(tmp_path) -> None:
    """99.9 availability -> rate<0.001; 99.5 % under 300ms -> p(99.5)<300 (the issue's own example)."""
    service = next(s for s in compile_examples().services if s.name == "checkout-api")
    assert [(t.slo, t.metric, t.expression) for t in thresholds(service)] == [
        ("availability", "http_req_failed", "rate<0.001"),
        ("latency", "http_req_duration", "p(99.5)<300"),
    ]
    script = yaml.safe_load_all(compile_examples().files["loadtests/checkout-api.yaml"]).__next__()["data"]["script.js"]
    assert '"http_req_failed": [\n      "rate<0.001"\n    ]' in script
    assert '"http_req_duration": [\n      "p(99.5)<300"\n    ]' in script


def test_a_scheduled_game_day_is_a_forbid_schedule_of_a_workflow_with_the_gate() -> None:
    docs = _documents(compile_examples().files, "gamedays")
    schedule = next(d for d in docs if d["kind"] == "Schedule")
    assert schedule["spec"]["schedule"] == "0 10 * * 3"
    assert schedule["spec"]["concurrencyPolicy"] == "Forbid" and schedule["spec"]["type"] == "Workflow"
    gate = next(t for t in schedule["spec"]["workflow"]["templates"] if t["templateType"] == "StatusCheck")
    assert gate["abortWithStatusCheck"] is True
    assert gate["statusCheck"]["http"]["url"].endswith(
        "/gate?service=checkout-api&slo=availability&max_burn=6&window=5m")
    once = next(d for d in docs if d["kind"] == "Workflow")
    assert once["metadata"]["name"] == "gameday-order-worker-shipping-api-latency"


def test_every_game_day_has_a_runbook() -> None:
    files = compile_examples().files
    runbook = files["gamedays/checkout-api-pod-kill.md"]
    for heading in ("## Hypothesis", "## Blast radius", "## Abort condition", "## Stop it by hand",
                    "## Record afterwards"):
        assert heading in runbook
    assert "faster than **6x** over 5m" in runbook
    assert "kubectl -n chaos-mesh delete schedule gameday-checkout-api-pod-kill" in runbook


def test_the_canary_matcher_reaches_every_selector(tmp_path) -> None:
    output = compile_text(tmp_path, """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: a
team: t
runbook_url: https://r.example.com
slos:
  - name: raw
    objective: 99
    sli:
      raw: {error_ratio: 'sum(rate(e{job="a"}[{{window}}])) / sum(rate(t{job="a"}[{{window}}]))'}
canary: {slos: [raw]}
""")
    slo = output.services[0].slos[0]
    query = canary_query(slo, "5m")
    assert query == ('sum(rate(e{job="a",pod=~".+-{{args.canary-hash}}-[a-z0-9]+"}[5m])) / '
                     'sum(rate(t{job="a",pod=~".+-{{args.canary-hash}}-[a-z0-9]+"}[5m]))')
    template = yaml.safe_load(output.files["canary/a.yaml"])
    assert template["kind"] == "ClusterAnalysisTemplate"  # no namespace in the spec
    assert validate_custom_resource(template) == []
    # 99 % over 30d: budget 0.01 x the 14.4 page burn rate of the 5m window
    assert template["spec"]["metrics"][0]["successCondition"].endswith("result[0] < 0.144")


def test_a_one_off_test_run_stays_as_the_record_and_a_scheduled_one_cleans_up(tmp_path) -> None:
    spec = """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: a
team: t
runbook_url: https://r.example.com
slos:
  - name: availability
    objective: 99.9
    sli: {ratio: {errors: 'r{code="500"}', total: r}}
loadtest: {target: 'http://a.ns.svc/x', rate: 600, duration: 1m}
"""
    once = list(yaml.safe_load_all(compile_text(tmp_path, spec).files["loadtests/a.yaml"]))
    assert [d["kind"] for d in once] == ["ConfigMap", "TestRun"]
    assert "cleanup" not in once[1]["spec"] and once[1]["spec"]["parallelism"] == 2  # 600/s over two runners
    scheduled = spec.replace("duration: 1m}", "duration: 1m, schedule: '@daily'}")
    docs = list(yaml.safe_load_all(compile_text(tmp_path, scheduled, name="s.yaml").files["loadtests/a.yaml"]))
    assert [d["kind"] for d in docs] == ["ConfigMap", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "CronJob"]
    assert json.loads(docs[4]["data"]["testrun.json"])["spec"]["cleanup"] == "post"
