"""The program under mocks, per stack: component tree, per-env differences, options, determinism."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pulumi
import pytest
import yaml

from reliability.platform.render import RenderError, build, render, run_program, stack_input

from .conftest import REPO, STACKS, helm_values, of_type, one, rendered, resources

COMMON_COMPONENTS = {
    "reliability:index:Platform",
    "reliability:helm:Chart",
    "reliability:index:Namespaces",
    "reliability:alerting:Alertmanager",
    "reliability:metrics:PrometheusStack",
    "reliability:logs:Loki",
    "reliability:traces:Tempo",
    "reliability:collector:OpenTelemetry",
    "reliability:grafana:Server",
    "reliability:slos:ServiceLevels",
    "reliability:testing:ReliabilityTests",
    "reliability:loadtest:K6Operator",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_is_parented_to_a_registered_component(stack):
    by_urn = {r["urn"]: r for r in resources(stack)}
    for r in resources(stack):
        if r["type"] == "reliability:index:Platform":
            assert r["parent"].endswith("pulumi:pulumi:Stack::reliability-" + stack)
            continue
        parent = by_urn.get(r["parent"])
        assert parent is not None, f"{r['type']} {r['name']}: parent {r['parent']} is not a resource"
        assert parent["type"].startswith("reliability:"), f"{r['name']} is parented to {parent['type']}"
        # child names derive from the component's name
        assert r["name"].startswith(parent["name"]), (r["name"], parent["name"])


@pytest.mark.parametrize("stack", STACKS)
def test_component_types(stack):
    types = {r["type"] for r in of_type(stack, "reliability:")}
    cluster = "reliability:cluster:Local" if stack == "local" else "reliability:cluster:Eks"
    expected = COMMON_COMPONENTS | {cluster}
    expected |= set() if stack == "local" else {"reliability:storage:Buckets"}
    expected |= {"reliability:chaos:ChaosMesh"} if stack != "prod" else set()
    expected |= {"reliability:incidents:OnCallTeam"} if stack == "prod" else set()  # reliability:oncall
    assert types == expected


@pytest.mark.parametrize("stack", STACKS)
def test_one_kubernetes_provider_feeds_every_kubernetes_resource(stack):
    providers = of_type(stack, "pulumi:providers:kubernetes")
    assert len(providers) == 1
    for r in of_type(stack, "kubernetes:"):
        assert r["options"]["provider"] == providers[0]["urn"], r["name"]


def test_local_has_no_aws_resource():
    assert not [r["type"] for r in resources("local") if "aws" in r["type"].split(":")[0:2]]
    assert not of_type("local", "pulumi:providers:aws")


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_cloud_stacks_build_eks_with_irsa_storage(stack):
    types = {r["type"] for r in resources(stack)}
    assert {
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:eks/accessEntry:AccessEntry",
        "aws:ec2/natGateway:NatGateway",
    } <= types
    addon = of_type(stack, "aws:eks/addon:Addon")[0]
    assert addon["inputs"]["addonName"] == "aws-ebs-csi-driver"
    private = [s for s in of_type(stack, "aws:ec2/subnet:Subnet") if "private" in s["name"]]
    assert len({s["inputs"]["availabilityZone"] for s in private}) >= 2
    for r in of_type(stack, "aws:"):
        assert r["options"]["provider"].endswith("pulumi:providers:aws::reliability-aws"), r["name"]
    buckets = {b["inputs"]["bucket"] for b in of_type(stack, "aws:s3/bucket:Bucket")}
    assert buckets == {f"acme-reliability-{stack}-{w}-eu-west-1" for w in ("thanos", "loki", "tempo")}
    for kind in (
        "bucketVersioning:BucketVersioning",
        "bucketPublicAccessBlock:BucketPublicAccessBlock",
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    ):
        assert len(of_type(stack, f"aws:s3/{kind}")) == 3, kind


@pytest.mark.parametrize(("stack", "kept"), [("dev", False), ("staging", True), ("prod", True)])
def test_buckets_protected_and_retained_in_staging_and_prod(stack, kept):
    for bucket in of_type(stack, "aws:s3/bucket:Bucket"):
        assert bucket["options"]["protect"] is kept
        assert bucket["options"]["retainOnDelete"] is kept


@pytest.mark.parametrize(("stack", "raw", "days"), [("dev", "7d", 7), ("prod", "30d", 365)])
def test_retention_reaches_thanos_and_bucket_lifecycle(stack, raw, days):
    assert f"--retention.resolution-raw={raw}" in helm_values(stack, "thanos")["compact"]["extraArgs"]
    rule = one(
        stack,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "reliability-storage-thanos",
    )["inputs"]["rules"][0]
    assert rule["expiration"]["days"] == days


def test_prod_is_highly_available():
    kps = helm_values("prod", "kube-prometheus-stack")
    assert kps["prometheus"]["prometheusSpec"]["replicas"] >= 2
    assert kps["prometheus"]["prometheusSpec"]["podAntiAffinity"] == "hard"
    assert kps["prometheus"]["podDisruptionBudget"]["enabled"] is True
    assert kps["alertmanager"]["alertmanagerSpec"]["replicas"] >= 2
    assert kps["alertmanager"]["podDisruptionBudget"]["enabled"] is True
    thanos = helm_values("prod", "thanos")
    for part in ("query", "storeGateway"):
        assert thanos[part]["replicas"] >= 2
        assert thanos[part]["podDisruptionBudget"]["enabled"] is True
        assert "podAntiAffinity" in thanos[part]["affinity"]
    loki = helm_values("prod", "loki")
    assert loki["singleBinary"]["replicas"] >= 2
    assert loki["loki"]["storage"]["type"] == "s3"
    assert helm_values("local", "loki")["loki"]["storage"]["type"] == "filesystem"
    assert helm_values("local", "kube-prometheus-stack")["alertmanager"]["alertmanagerSpec"]["replicas"] == 1


@pytest.mark.parametrize("stack", STACKS)
def test_alertmanager_reads_config_and_credentials_from_our_secrets(stack):
    am = helm_values(stack, "kube-prometheus-stack")["alertmanager"]["alertmanagerSpec"]
    assert am["useExistingSecret"] is True
    assert am["configSecret"] == "alertmanager-config"
    assert am["secrets"] == ["alertmanager-credentials"]
    files = rendered(stack)
    assert "manifests/Secret-monitoring-alertmanager-config.yaml" in files
    creds = files["manifests/Secret-monitoring-alertmanager-credentials.yaml"]
    if stack != "local":
        assert "payments-" in creds and "[secret]" in creds
        assert "placeholder" not in creds


@pytest.mark.parametrize("stack", STACKS)
def test_every_v4_chart_has_its_inputs_where_policies_read_them(stack):
    """The engine hands policies a helm.v4.Chart without properties (a provider-constructed component,
    seen with the real engine): a sibling of the same name carries chart, version and values."""
    charts = of_type(stack, "kubernetes:helm.sh/v4:Chart")
    records = {(r["name"], r["parent"]): r["inputs"] for r in of_type(stack, "reliability:helm:Chart")}
    assert charts and len(records) == len(charts)
    for chart in charts:
        record = records[(chart["name"], chart["parent"])]
        for key in ("name", "chart", "version", "namespace", "values"):
            assert record.get(key) == chart["inputs"].get(key), (chart["name"], key)


def test_a_secret_without_data_has_no_string_data():
    """The provider stores an empty `stringData` as none: sent again, it replaced the Secret on every
    `pulumi up` of the local stack, whose credentials Secret is empty (seen with the real engine)."""
    creds = one("local", "kubernetes:core/v1:Secret", "reliability-alerting-credentials")
    assert "stringData" not in creds["inputs"] and "data" not in creds["inputs"]
    assert one("dev", "kubernetes:core/v1:Secret", "reliability-alerting-credentials")["inputs"]["stringData"]


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_never_plain(stack):
    text = rendered(stack)["resources.json"]
    assert "mock-password" not in text  # the generated Grafana password
    assert "v1:placeholder" not in text  # stack-file ciphertext
    secret = one(stack, "kubernetes:core/v1:Secret", "reliability-grafana-admin")
    assert secret["inputs"]["stringData"] == {"admin-password": "[secret]", "admin-user": "[secret]"}


@pytest.mark.parametrize("stack", STACKS)
def test_pod_logs_survive_a_collector_restart(stack):
    # The filelog receiver starts at the end of each file; only stored checkpoints let a restarted
    # collector pick up the lines written while it was away.
    logs = helm_values(stack, "opentelemetry-collector")["presets"]["logsCollection"]
    assert logs == {"enabled": True, "storeCheckpoints": True}


@pytest.mark.parametrize(("stack", "replicas"), [("local", 1), ("prod", 2)])
def test_pushed_metrics_reach_every_prometheus_replica(stack, replicas):
    # Through the shared Service each push would land on one replica only, which would then
    # evaluate rules and alerts on part of the data. The chart's per-replica Services are named
    # kps-prometheus-<i> (serviceperreplica.yaml).
    assert helm_values(stack, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]["replicas"] == replicas
    assert helm_values(stack, "kube-prometheus-stack")["prometheus"]["servicePerReplica"] == {"enabled": True}
    hosts = [f"http://kps-prometheus-{i}.monitoring.svc.cluster.local:9090" for i in range(replicas)]
    collector = helm_values(stack, "opentelemetry-collector")["config"]
    exporters = collector["service"]["pipelines"]["metrics"]["exporters"]
    assert [collector["exporters"][e]["endpoint"] for e in exporters] == [f"{h}/api/v1/otlp" for h in hosts]
    generator = helm_values(stack, "tempo")["tempo"]["metricsGenerator"]
    assert generator["storage"]["remote_write"] == [{"url": f"{h}/api/v1/write"} for h in hosts]


def test_slo_rules_compiled_for_the_stack_environment():
    dev = one(
        "dev", "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "reliability-slos-slo-checkout-api"
    )
    prod = one(
        "prod", "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "reliability-slos-slo-checkout-api"
    )
    assert dev["inputs"]["spec"] != prod["inputs"]["spec"]  # checkout-api's dev objective is 99, prod 99.9
    assert "0.001" in json.dumps(prod["inputs"]["spec"]) and "0.01" in json.dumps(dev["inputs"]["spec"])


@pytest.mark.parametrize("stack", ["local", "prod"])
def test_two_renders_are_byte_identical(stack):
    assert render(stack) == rendered(stack)


def test_numbers_keep_their_type():
    values = helm_values("prod", "kube-prometheus-stack")
    assert isinstance(values["prometheus"]["prometheusSpec"]["replicas"], int)
    release = of_type("prod", "kubernetes:helm.sh/v3:Release")[0]
    assert release["inputs"]["timeout"] == 900 and isinstance(release["inputs"]["timeout"], int)


def test_duplicate_names_fail_the_render():
    registered = [
        {
            "type": "kubernetes:core/v1:ConfigMap",
            "name": "a",
            "urn": "u1",
            "parent": None,
            "inputs": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "n"}},
            "options": {},
        },
        {
            "type": "kubernetes:core/v1:ConfigMap",
            "name": "a",
            "urn": "u2",
            "parent": None,
            "inputs": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y", "namespace": "n"}},
            "options": {},
        },
    ]
    with pytest.raises(
        RenderError, match="resource name 'a' is used 2 times for type kubernetes:core/v1:ConfigMap"
    ):
        build(registered)
    registered[1]["name"] = "b"
    registered[1]["inputs"]["metadata"]["name"] = "x"
    with pytest.raises(RenderError, match="same Kubernetes object ConfigMap-n-x"):
        build(registered)


def _open_event_loops() -> set[int]:
    gc.collect()
    return {id(o) for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()}


def test_a_failed_render_closes_every_event_loop_and_thread_it_used(tmp_path):
    # A loop left to the garbage collector can be finalised after its own self-pipe socket at
    # interpreter exit, printing "Exception ignored ... Invalid file descriptor: -1" after a
    # clean "exit 2" message; so the render closes what it opened, failed or not.
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "broken.yaml").write_text(
        "apiVersion: reliability-as-code/v1\nkind: ServiceLevelObjectives\n"
        "service: broken\nteam: payments\nslos:\n  - name: x\n    objective: 200\n"
    )
    stack_in = stack_input("local")
    stack_in.values["reliability:sloSpecs"] = str(specs)
    before = _open_event_loops()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(Exception, match="invalid SLO specs"):
            run_program(stack_in)
        left_open = _open_event_loops() - before
    assert not left_open, f"{len(left_open)} event loop(s) left open"
    assert not [w for w in caught if "event loop" in str(w.message)]
    assert not [t.name for t in threading.enumerate() if t.name.startswith("render-monitor")]


@pytest.mark.parametrize(
    "data",
    [
        lambda: {"webhook": "https://hooks.slack.com/services/T0/B0/XXXX"},  # written in code
        lambda: pulumi.Output.from_input({"webhook": "https://hooks.slack.com/services/T0/B0/XXXX"}),  # plain config
    ],
    ids=["literal", "plain-output"],
)
def test_a_secret_built_from_plain_values_fails_the_program(monkeypatch, data):
    # The Kubernetes SDK marks all Secret data secret, so the policy pack cannot tell where it came
    # from: kube.secret refuses data that was not a Pulumi secret before it got there.
    import components.program
    from components import kube

    def program() -> None:
        kube.secret("leaky", "leaky", "monitoring", data(), "test", None)  # type: ignore[arg-type]

    monkeypatch.setattr(components.program, "program", program)
    with pytest.raises(pulumi.RunError, match="Secret leaky: its data is not a Pulumi secret"):
        run_program(stack_input("local"))


def test_an_error_inside_an_output_is_reported_once():
    # The outputs that carried the error to the program would each print it again when
    # collected ("Future exception was never retrieved"), after sre's own message.
    script = """
import pulumi, components.program
from components import kube
from reliability.platform.render import run_program, stack_input
components.program.program = lambda: kube.secret("s", "s", "ns", pulumi.Output.from_input({"k": "v"}), "t", None)
for _ in range(2):  # the first render's outputs are collected during the second
    try:
        run_program(stack_input("local"))
    except pulumi.RunError:
        print("refused")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "refused\nrefused\n", "")


def test_a_secret_built_from_pulumi_secrets_is_accepted_even_after_a_failed_render(monkeypatch):
    import components.program
    from components import kube

    def program(data: Callable[[Any], Any]) -> Callable[[], None]:
        return lambda: kube.secret("s", "s", "monitoring", data({"k": "v"}), "test", None)  # type: ignore[arg-type]

    # A render that fails inside an output leaves pending tasks behind; the next render in the
    # same process (the test workers, `sre render` of several stacks) must not inherit them.
    monkeypatch.setattr(components.program, "program", program(pulumi.Output.from_input))
    with pytest.raises(pulumi.RunError):
        run_program(stack_input("local"))
    monkeypatch.setattr(components.program, "program", program(pulumi.Output.secret))
    registered = run_program(stack_input("local"))
    assert [r["name"] for r in registered] == ["s"]


@pytest.mark.parametrize(("stack", "expected"), [
    ("local", set()),  # the example specs name dev and staging only
    ("dev", {"ConfigMap/k6-operator/loadtest-checkout-api", "CronJob/k6-operator/loadtest-checkout-api"}),
    ("staging", {"ConfigMap/k6-operator/loadtest-checkout-api", "CronJob/k6-operator/loadtest-checkout-api",
                 "Schedule/chaos-mesh/gameday-checkout-api-pod-kill",
                 "Workflow/chaos-mesh/gameday-order-worker-shipping-api-latency",
                 "Deployment/monitoring/slo-gate", "Service/monitoring/slo-gate",
                 # reliability:canary.argoRollouts is true in staging only: one per service with `canary`,
                 # in the namespace of its Rollouts.
                 "AnalysisTemplate/shop/slo-checkout-api", "AnalysisTemplate/search/slo-search-api"}),
    ("prod", set()),  # never prod unless listed; no Argo Rollouts there
])
def test_reliability_tests_deploy_where_their_specs_name_the_environment(stack, expected):
    found = {f"{obj['kind']}/{obj['metadata']['namespace']}/{obj['metadata']['name']}"
             for obj in reliability_test_manifests(stack)}
    assert expected <= found
    assert bool(found) == bool(expected)
    canaries = {name for name in found if name.startswith("AnalysisTemplate/")}
    assert canaries == {name for name in expected if name.startswith("AnalysisTemplate/")}


def reliability_test_manifests(stack: str) -> list[dict[str, Any]]:
    """The manifests `sre render` wrote for the stack's load tests, game days, gate and canary templates."""
    names = ("loadtest", "gameday", "slo-gate", "canary-analysis")
    objs = [yaml.safe_load(text) for name, text in rendered(stack).items() if name.startswith("manifests/")]
    return [obj for obj in objs if obj["metadata"].get("labels", {}).get("app.kubernetes.io/name") in names]


def test_rendered_canary_templates_match_the_argo_rollouts_crd():
    from tests.crds import validate_custom_resource

    templates = [obj for obj in reliability_test_manifests("staging") if obj["kind"] == "AnalysisTemplate"]
    assert len(templates) == 2
    for template in templates:
        assert validate_custom_resource(template) == [], template["metadata"]["name"]
        assert [a["name"] for a in template["spec"]["args"]] == ["canary-hash", "prometheus-address"]


def test_canary_templates_are_deployed_only_where_argo_rollouts_runs():
    """A ClusterAnalysisTemplate (no canary.namespace) too; without the setting the kind would not exist."""
    from components.program import defaults
    from components.reliability_tests import documents
    from reliability.platform.config import parse
    from reliability.slo.load import load
    from tests.unit.slo.helpers import EXAMPLES

    stack_in = stack_input("dev")
    cfg, _ = parse("dev", stack_in.values, stack_in.secret_keys, defaults())
    result = load([str(EXAMPLES)], env="dev")
    services = [replace(s, canary=replace(s.canary, namespace=None)) if s.name == "search-api" else s
                for s in result.services]

    def canaries(argo_rollouts: bool) -> list[tuple[str, str | None, str]]:
        on = cfg.model_copy(update={"canary": cfg.canary.model_copy(update={"argo_rollouts": argo_rollouts})})
        return [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"])
                for d in documents(on, services, result.catalogs, "monitoring") if "Analysis" in d["kind"]]

    assert cfg.canary.argo_rollouts is False and canaries(False) == []
    assert canaries(True) == [("AnalysisTemplate", "shop", "slo-checkout-api"),
                              ("ClusterAnalysisTemplate", None, "slo-search-api")]


def test_chaos_mesh_filters_namespaces():
    assert helm_values("staging", "chaos-mesh")["controllerManager"]["enableFilterNamespace"] is True


def test_test_endpoints_name_the_platform_services():
    """The generated tests reach Prometheus, Thanos query and the gate by the names the components give them."""
    from components import metrics
    from reliability.slo.generators.endpoints import Endpoints

    endpoints = Endpoints.in_namespace("monitoring")
    urls = metrics.urls("monitoring")
    assert endpoints.query == urls["thanosQuery"]
    assert endpoints.remote_write == metrics.replica_urls("monitoring", 1, "/api/v1/write")[0]
