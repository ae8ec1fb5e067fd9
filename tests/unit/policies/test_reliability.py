"""Reliability policies: a passing fixture, one thing broken, the exact message."""

from __future__ import annotations

from typing import Any

import pytest

from policies import reliability
from policies._common import chart_name

from .helpers import broken, check_resource, check_stack, resource

RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "reliability:helm:Chart"
VOLUME = {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "10Gi"}}}}}
KPS = {"chart": "kube-prometheus-stack", "version": "88.5.3", "values": {
    "prometheus": {"prometheusSpec": {"replicas": 2, "retention": "31d", "storageSpec": VOLUME}},
    "alertmanager": {"alertmanagerSpec": {"replicas": 3, "storage": VOLUME}}}}
THANOS = {"chart": "thanos", "version": "1.24.1", "values": {
    "query": {"replicas": 2},
    "storeGateway": {"enabled": True, "replicas": 2},
    "compact": {"extraArgs": ["--retention.resolution-raw=30d", "--retention.resolution-5m=1y",
                              "--retention.resolution-1h=1y"]}}}

LOKI_HA = {"chart": "loki", "version": "18.11.0", "values": {"deploymentMode": "Monolithic",
                                                             "singleBinary": {"replicas": 3}}}

# ------------------------------------------------------------------ HA

HA_CASES = [
    ("prometheus 1", RELEASE, broken(KPS, lambda k: k["values"]["prometheus"]["prometheusSpec"].update(replicas=1)),
     ["Prometheus runs 1 replica(s) in prod (values.prometheus.prometheusSpec.replicas); prod needs at least 2"]),
    ("alertmanager unset", RELEASE, broken(KPS, lambda k: k["values"]["alertmanager"].pop("alertmanagerSpec")),
     ["Alertmanager runs 1 replica (not set: chart default) in prod (values.alertmanager.alertmanagerSpec.replicas); "
      "prod needs at least 2"]),
    ("thanos query autoscaled from 1", CHART,
     broken(THANOS, lambda t: t["values"]["query"].update(autoscaling={"enabled": True, "minReplicas": 1})),
     ["Thanos query runs 1 replica(s) in prod (values.query.autoscaling.minReplicas); prod needs at least 2"]),
    ("thanos store gateway 1", CHART, broken(THANOS, lambda t: t["values"]["storeGateway"].update(replicas=1)),
     ["Thanos store gateway runs 1 replica(s) in prod (values.storeGateway.replicas); prod needs at least 2"]),
    ("loki single binary 1", RELEASE, broken(LOKI_HA, lambda v: v["values"]["singleBinary"].update(replicas=1)),
     ["Loki runs 1 replica(s) in prod (values.singleBinary.replicas); prod needs at least 2"]),
    ("loki simple scalable, write unset", RELEASE,
     broken(LOKI_HA, lambda v: v["values"].update(deploymentMode="SimpleScalable", read={"replicas": 3},
                                               backend={"replicas": 3})),
     ["Loki runs 1 replica (not set: chart default) in prod (values.write.replicas); prod needs at least 2"]),
    ("Prometheus object", "kubernetes:monitoring.coreos.com/v1:Prometheus", {"spec": {"replicas": 1}},
     ["Prometheus runs 1 replica(s) in prod (spec.replicas); prod needs at least 2"]),
    ("thanos query Deployment", "kubernetes:apps/v1:Deployment", {"metadata": {"name": "thanos-query"}, "spec": {}},
     ["Thanos query runs 1 replica (not set: chart default) in prod (spec.replicas); prod needs at least 2"]),
]


def test_ha_happy_path() -> None:
    assert check_resource(reliability.prod_ha_replicas, RELEASE, KPS) == []
    assert check_resource(reliability.prod_ha_replicas, CHART, THANOS) == []
    assert check_resource(reliability.prod_ha_replicas, RELEASE, LOKI_HA) == []
    no_store = broken(THANOS, lambda t: t["values"].update(storeGateway={"enabled": False}))
    assert check_resource(reliability.prod_ha_replicas, CHART, no_store) == []
    # A disabled component runs nothing; other environments may run one replica.
    off = broken(KPS, lambda k: k["values"].update(alertmanager={"enabled": False}))
    assert check_resource(reliability.prod_ha_replicas, RELEASE, off) == []
    one = broken(KPS, lambda k: k["values"]["prometheus"]["prometheusSpec"].update(replicas=1))
    assert check_resource(reliability.prod_ha_replicas, RELEASE, one, stack="dev") == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), HA_CASES, ids=[c[0] for c in HA_CASES])
def test_ha_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(reliability.prod_ha_replicas, typ, props) == messages


@pytest.mark.parametrize(("stack", "checked"), [("prod", True), ("prod-eu", True), ("alice", True),
                                                ("staging", False), ("eu.staging", False), ("local", False)])
def test_ha_environment_from_stack_name(stack: str, checked: bool) -> None:
    one = broken(KPS, lambda k: k["values"]["prometheus"]["prometheusSpec"].update(replicas=1))
    assert bool(check_resource(reliability.prod_ha_replicas, RELEASE, one, stack=stack)) is checked


# ------------------------------------------------------------------ stateful storage

BUCKET = "aws:s3/bucket:Bucket"
FIX = "set ResourceOptions(protect=True, retain_on_delete=True) so a delete or replace keeps the data"


def test_stateful_happy_path() -> None:
    policy = reliability.stateful_storage_retained
    assert check_resource(policy, BUCKET, {"bucket": "b"}, protect=True, retain_on_delete=True) == []
    # The engine passes no retainOnDelete: only protect is checked there.
    assert check_resource(policy, BUCKET, {"bucket": "b"}, protect=True) == []
    assert check_resource(policy, BUCKET, {"bucket": "b"}, stack="dev") == []
    assert check_resource(policy, BUCKET, {"bucket": "b", "forceDestroy": True}, stack="dev") == []
    assert check_resource(policy, RELEASE, KPS) == []
    # A chart's switch for the policy with Retain on both keeps the claims.
    loki = {"chart": "loki", "values": {"singleBinary": {"persistence": {
        "enabled": True, "enableStatefulSetAutoDeletePVC": True, "whenDeleted": "Retain", "whenScaled": "Retain"}}}}
    assert check_resource(policy, RELEASE, loki) == []
    thanos = {"chart": "thanos", "values": {"compact": {"persistence": {"retainDeleted": True, "retainScaled": True}}}}
    assert check_resource(policy, RELEASE, thanos) == []
    # Persistent volumes are a staging/prod matter, and a switched-off Alertmanager needs none.
    no_volumes = broken(KPS, lambda k: k["values"]["prometheus"]["prometheusSpec"].pop("storageSpec"))
    assert check_resource(policy, RELEASE, no_volumes, stack="dev") == []
    no_am = broken(KPS, lambda k: k["values"].update(alertmanager={"enabled": False}))
    assert check_resource(policy, RELEASE, no_am) == []


STATEFUL_CASES = [
    ("bucket unprotected", BUCKET, {}, {"protect": False, "retain_on_delete": True},
     [f"stateful storage in prod without protect: {FIX}"]),
    ("bucket force-destroyed", BUCKET, {"forceDestroy": True}, {"protect": True},
     ["a bucket in prod with forceDestroy: `pulumi destroy` would delete every object in it; force-destroy only "
      "unprotected environments (dev)"]),
    ("volume neither", "aws:ebs/volume:Volume", {}, {"retain_on_delete": False},
     [f"stateful storage in prod without protect and retainOnDelete: {FIX}"]),
    ("pvc not retained", "kubernetes:core/v1:PersistentVolumeClaim", {}, {"protect": True, "retain_on_delete": False},
     [f"stateful storage in prod without retainOnDelete: {FIX}"]),
    ("release deleting its PVCs", RELEASE,
     broken(KPS, lambda k: k["values"]["prometheus"]["prometheusSpec"].update(
         persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete"})), {"retain_on_delete": False},
     ["a release whose volumes are deleted with it (values.prometheus.prometheusSpec."
      "persistentVolumeClaimRetentionPolicy.whenDeleted is Delete) in prod without protect and retainOnDelete: "
      "keep the claims (Retain), or protect the release (ResourceOptions(protect=True, retain_on_delete=True))"]),
    # The charts' own switches for the same policy (what components/ sets in local and dev).
    *[(f"{chart} deleting its PVCs", RELEASE, {"chart": chart, "values": values}, {"protect": False},
       [f"a release whose volumes are deleted with it (values.{where}) in prod without protect: keep the claims "
        "(Retain), or protect the release (ResourceOptions(protect=True, retain_on_delete=True))"])
      for chart, values, where in (
          ("tempo", {"persistence": {"enabled": True, "enableStatefulSetAutoDeletePVC": True}},
           "persistence.enableStatefulSetAutoDeletePVC is true and whenDeleted is not Retain"),
          ("loki", {"singleBinary": {"persistence": {"enabled": True, "enableStatefulSetAutoDeletePVC": True,
                                                     "whenDeleted": "Retain", "whenScaled": "Delete"}}},
           "singleBinary.persistence.enableStatefulSetAutoDeletePVC is true and whenScaled is Delete"),
          ("thanos", {"compact": {"persistence": {"enabled": True, "retainDeleted": False}}},
           "compact.persistence.retainDeleted is false"),
      )],
    ("prometheus on an emptyDir", RELEASE, broken(KPS, lambda k: k["values"]["prometheus"]["prometheusSpec"].pop(
        "storageSpec")), {"protect": True},
     ["Prometheus keeps its data on an emptyDir in prod (values.prometheus.prometheusSpec.storageSpec."
      "volumeClaimTemplate is not set): a restart or reschedule loses it; give it a persistent volume"]),
    ("loki persistence off", RELEASE, {"chart": "loki", "values": {"singleBinary": {"persistence": {"enabled": False}}}},
     {"protect": True},
     ["Loki keeps its data on an emptyDir in prod (values.singleBinary.persistence.enabled is false): a restart "
      "or reschedule loses it; give it a persistent volume"]),
]


@pytest.mark.parametrize(("case", "typ", "props", "opts", "messages"), STATEFUL_CASES, ids=[c[0] for c in STATEFUL_CASES])
def test_stateful_broken(case: str, typ: str, props: dict[str, Any], opts: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(reliability.stateful_storage_retained, typ, props, stack="prod", **opts) == messages


# ------------------------------------------------------------------ retention

LOKI = {"chart": "loki", "values": {"loki": {"limits_config": {"retention_period": "720h"}}}}
TEMPO = {"chart": "tempo", "values": {"tempo": {"retention": "336h"}}}
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
RETENTION_CASES = [
    ("prometheus", RELEASE, broken(KPS, lambda k: k["values"]["prometheus"]["prometheusSpec"].update(retention="12h")),
     ["values.prometheus.prometheusSpec.retention keeps Prometheus samples for 12h, below the prod minimum of 30d"]),
    ("thanos raw", CHART, broken(THANOS, lambda t: t["values"]["compact"]["extraArgs"].__setitem__(0, "--retention.resolution-raw=7d")),
     ["values.compact.extraArgs[0] keeps raw metrics for 7d, below the prod minimum of 30d"]),
    ("loki", CHART, broken(LOKI, lambda v: v["values"]["loki"]["limits_config"].update(retention_period="168h")),
     ["values.loki.limits_config.retention_period keeps logs for 168h, below the prod minimum of 30d"]),
    ("tempo", CHART, broken(TEMPO, lambda v: v["values"]["tempo"].update(retention="24h")),
     ["values.tempo.retention keeps traces for 24h, below the prod minimum of 14d"]),
    ("not a duration", CHART, broken(TEMPO, lambda v: v["values"]["tempo"].update(retention="two weeks")),
     ["values.tempo.retention is 'two weeks', not a duration"]),
    ("lifecycle of the metrics bucket", LIFECYCLE,
     {"bucket": "acme-prod-thanos", "rules": [{"status": "Enabled", "expiration": {"days": 90}}]},
     ["rules[0].expiration.days expires metrics objects after 90 day(s), before the prod minimum retention of "
      "5m-downsampled metrics (365d)"]),
]


def test_retention_happy_path() -> None:
    policy = reliability.retention_minimums
    for typ, props in ((RELEASE, KPS), (CHART, THANOS), (CHART, LOKI), (CHART, TEMPO)):
        assert check_resource(policy, typ, props) == [], props["chart"]
    forever = broken(THANOS, lambda t: t["values"]["compact"]["extraArgs"].__setitem__(0, "--retention.resolution-raw=0d"))
    assert check_resource(policy, CHART, forever) == []
    short = broken(TEMPO, lambda v: v["values"]["tempo"].update(retention="24h"))
    assert check_resource(policy, CHART, short, stack="local") == []
    lifecycle = {"bucket": "acme-prod-loki", "rules": [{"status": "Enabled", "expiration": {"days": 30}}]}
    assert check_resource(policy, LIFECYCLE, lifecycle) == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), RETENTION_CASES, ids=[c[0] for c in RETENTION_CASES])
def test_retention_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(reliability.retention_minimums, typ, props) == messages


def test_retention_floors_are_config() -> None:
    config = {"minimums": {"prod": {"traces": "30d"}}}
    assert check_resource(reliability.retention_minimums, CHART, TEMPO, config=config) == [
        "values.tempo.retention keeps traces for 336h, below the prod minimum of 30d"
    ]


# ------------------------------------------------------------------ chart versions

# `=1.24.1` is Helm's equality constraint (Masterminds semver): exactly that version.
@pytest.mark.parametrize("version", ["88.5.3", "v1.2.3", "1.0.0-rc.1+build.5", "=1.24.1", "=1.0.0-rc.1"])
def test_pinned_happy_path(version: str) -> None:
    assert check_resource(reliability.chart_version_pinned, RELEASE, {**KPS, "version": version}) == []
    assert check_resource(reliability.chart_version_pinned, CHART, {"chart": "./charts/local"}) == []


@pytest.mark.parametrize("version", ["^88.0.0", "~1.2", ">=1.0.0", "1.x", "1.2.*", "*", "1.2", "1.2.3 - 1.4.0", "1.2.3 || 2.0.0",
                                     "=1.2", "=1.x", "==1.2.3", "=^1.2.3"])
def test_pinned_ranges(version: str) -> None:
    assert check_resource(reliability.chart_version_pinned, RELEASE, {**KPS, "version": version}) == [
        f"[RAC Helm.Pinned] kube-prometheus-stack version '{version}' is not an exact version (a range or wildcard): pin one, e.g. 1.2.3"
    ]


def test_pinned_missing() -> None:
    assert check_resource(reliability.chart_version_pinned, CHART, {"chart": "oci://ghcr.io/x/grafana"}) == [
        "[RAC Helm.Pinned] grafana has no version: Helm installs whatever is newest; pin an exact version (e.g. 1.2.3)"
    ]


def test_a_v4_chart_is_read_through_its_recorded_inputs() -> None:
    """The engine hands policies a helm.v4.Chart with no properties: reporting "no version" for it
    failed every `pulumi preview --policy-pack` (seen with the real engine); its inputs are read
    from the reliability:helm:Chart the program registers beside it."""
    assert check_resource(reliability.chart_version_pinned, "kubernetes:helm.sh/v4:Chart", {}) == []
    assert check_resource(reliability.chart_version_pinned, "kubernetes:helm.sh/v4:Chart",
                          {"chart": "oci://ghcr.io/x/grafana"}) == []


def test_a_v4_chart_without_its_recorded_inputs_is_named_with_the_fix() -> None:
    recorded = resource("reliability:helm:Chart", {"chart": "grafana", "version": "10.1.4"}, "reliability-grafana")
    ours = resource("kubernetes:helm.sh/v4:Chart", {}, "reliability-grafana")
    theirs = resource("kubernetes:helm.sh/v4:Chart", {}, "team-redis")
    release = resource("kubernetes:helm.sh/v3:Release", {"chart": "redis", "version": "20.0.1"}, "team-cache")
    assert check_stack(reliability.helm_charts_readable, [recorded, ours, release]) == []
    assert check_stack(reliability.helm_charts_readable, [recorded, ours, theirs, release]) == [(
        "helm.v4.Chart 'team-redis' was created without components/helm.py chart(): the engine hands the policy "
        "pack a v4 Chart without its inputs, so its version pin and values go unchecked; create it with "
        "components.helm.chart(...), which records them beside it", "team-redis")]
    assert check_stack(reliability.helm_charts_readable, [recorded, ours, theirs],
                       {"exemptCharts": ["team-redis"]}) == []


# ------------------------------------------------------------------ chaos

POD_CHAOS = "kubernetes:chaos-mesh.org/v1alpha1:PodChaos"
EXPERIMENT = {"metadata": {"name": "kill-checkout", "namespace": "chaos-testing"},
              "spec": {"action": "pod-kill", "mode": "one",
                       "selector": {"namespaces": ["shop"], "labelSelectors": {"app": "checkout"}}}}
CHAOS_CASES = [
    ("kube-system", POD_CHAOS, broken(EXPERIMENT, lambda e: e["spec"]["selector"].update(namespaces=["shop", "kube-system"])),
     ["spec.selector.namespaces targets namespace kube-system, which chaos experiments must never touch"]),
    ("own namespace monitoring", "kubernetes:chaos-mesh.org/v1alpha1:NetworkChaos",
     broken(EXPERIMENT, lambda e: (e["metadata"].update(namespace="monitoring"), e["spec"]["selector"].pop("namespaces"))),
     ["spec.selector (no namespaces: the experiment's own namespace) targets namespace monitoring, which chaos "
      "experiments must never touch"]),
    ("schedule with pods in monitoring", "kubernetes:chaos-mesh.org/v1alpha1:Schedule",
     {"metadata": {"name": "s", "namespace": "chaos-testing"}, "spec": {"type": "PodChaos", "podChaos": {
         "selector": {"namespaces": ["shop"], "pods": {"monitoring": ["prometheus-0"]}}}}},
     ["spec.podChaos.selector.pods targets namespace monitoring, which chaos experiments must never touch"]),
    ("network partition target", "kubernetes:chaos-mesh.org/v1alpha1:NetworkChaos",
     broken(EXPERIMENT, lambda e: e["spec"].update(target={"selector": {"namespaces": ["kube-system"]}, "mode": "all"})),
     ["spec.target.selector.namespaces targets namespace kube-system, which chaos experiments must never touch"]),
]


def test_chaos_happy_path() -> None:
    assert check_resource(reliability.chaos_experiment_scope, POD_CHAOS, EXPERIMENT, stack="staging") == []
    assert check_resource(reliability.chaos_experiment_scope, POD_CHAOS, EXPERIMENT, stack="prod",
                          config={"prodAllowList": ["chaos-testing/kill-checkout"]}) == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), CHAOS_CASES, ids=[c[0] for c in CHAOS_CASES])
def test_chaos_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(reliability.chaos_experiment_scope, typ, props, stack="staging") == messages


def test_chaos_in_prod_needs_the_allow_list() -> None:
    assert check_resource(reliability.chaos_experiment_scope, POD_CHAOS, EXPERIMENT, stack="prod") == [
        "chaos experiment chaos-testing/kill-checkout in prod is not in prodAllowList: add it there to run it in prod"
    ]


def test_chaos_allowed_namespaces() -> None:
    assert check_resource(reliability.chaos_experiment_scope, POD_CHAOS, EXPERIMENT, stack="dev",
                          config={"allowedNamespaces": ["sandbox"]}) == [
        "spec.selector.namespaces targets namespace shop, not one of allowedNamespaces (sandbox)"
    ]


# ------------------------------------------------------------------ resources in values

SIZED = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}


def test_values_resources() -> None:
    policy = reliability.helm_values_resources
    values = {"query": {"resources": SIZED},
              "storage": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}}}
    assert check_resource(policy, CHART, {"values": values}) == []
    bad = broken(values, lambda v: v["query"]["resources"].pop("limits"))
    assert check_resource(policy, CHART, {"values": bad}) == ["values.query.resources sets no limits.memory"]
    assert policy.enforcement_level.value == "mandatory"


def test_values_resources_of_the_main_workloads_must_be_set() -> None:
    policy = reliability.helm_values_resources
    thanos = {"chart": "thanos", "values": {"query": {"resources": SIZED}, "storeGateway": {"resources": SIZED},
                                            "compact": {"resources": SIZED}}}
    assert check_resource(policy, CHART, thanos) == []
    # Deleting a block leaves the chart's default: no requests, no limits.
    assert check_resource(policy, CHART, broken(thanos, lambda t: t["values"]["storeGateway"].pop("resources"))) == [
        "values.storeGateway.resources is not set: the chart's default runs that container without requests or "
        "limits; set cpu/memory requests and a memory limit"]
    assert check_resource(policy, CHART, broken(thanos, lambda t: t["values"]["query"].update(resources={}))) == [
        "values.query.resources sets no requests.cpu, requests.memory, limits.memory"]
    # A component that is switched off needs none.
    off = broken(thanos, lambda t: t["values"].update(storeGateway={"enabled": False}, compact={"replicas": 0}))
    assert check_resource(policy, CHART, off) == []
    # Which blocks are required is configurable per chart.
    assert check_resource(policy, CHART, {"chart": "grafana", "values": {}},
                          config={"requiredBlocks": {"grafana": []}}) == []
    assert check_resource(policy, CHART, {"chart": "grafana", "values": {}}) == [
        "values.resources is not set: the chart's default runs that container without requests or "
        "limits; set cpu/memory requests and a memory limit"]


# ------------------------------------------------------------------ chaos namespaces opt in

CHAOS_MESH = {"chart": "chaos-mesh", "version": "2.8.3",
              "values": {"controllerManager": {"enableFilterNamespace": True}}}


def test_chaos_mesh_must_filter_namespaces() -> None:
    assert check_resource(reliability.chaos_namespace_opt_in, RELEASE, CHAOS_MESH) == []
    off = broken(CHAOS_MESH, lambda r: r["values"]["controllerManager"].pop("enableFilterNamespace"))
    assert check_resource(reliability.chaos_namespace_opt_in, RELEASE, off) == [
        "chaos-mesh: set controllerManager.enableFilterNamespace: true, so chaos runs only in namespaces annotated "
        "chaos-mesh.org/inject=enabled (the chart's default lets it reach every namespace)"
    ]
    assert check_resource(reliability.chaos_namespace_opt_in, RELEASE, KPS) == []  # other charts: not its business


def test_generated_game_days_stay_in_scope_and_the_policy_reads_their_workflows() -> None:
    """The example game days pass in staging; the same Schedule aimed at monitoring is refused."""
    import yaml

    from ..slo.helpers import compile_examples

    files = compile_examples().files
    schedule = next(yaml.safe_load_all(files["gamedays/checkout-api.yaml"]))
    typ = "kubernetes:chaos-mesh.org/v1alpha1:Schedule"
    assert check_resource(reliability.chaos_experiment_scope, typ, schedule, stack="staging") == []
    chaos = schedule["spec"]["workflow"]["templates"][1]["podChaos"]
    chaos["selector"]["namespaces"] = ["monitoring"]
    assert check_resource(reliability.chaos_experiment_scope, typ, schedule, stack="staging") == [
        "spec.workflow.templates[1].podChaos.selector.namespaces targets namespace monitoring, which chaos "
        "experiments must never touch"
    ]


@pytest.mark.parametrize("chart, name", [
    ("oci://ghcr.io/x/grafana:1.2.3", "grafana"),
    ("grafana", "grafana"),
    ("/srv/charts/opentelemetry-collector-0.170.0", "opentelemetry-collector"),  # charts.folder layout
    ("./charts/k6-operator/", "k6-operator"),
    ("/srv/charts/loki-18.11.0-rc.1", "loki"),
    ("https://example.com/charts/tempo-2.2.4.tgz", "tempo-2.2.4.tgz"),  # not a folder: left as it is
])
def test_chart_name_of_a_folder_drops_the_version(chart: str, name: str) -> None:
    """Allow-lists name charts; a chart from `charts.folder` must match them as the upstream one does."""
    assert chart_name({"chart": chart}) == name
