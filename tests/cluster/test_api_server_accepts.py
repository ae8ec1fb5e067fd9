"""Every Kubernetes object of every stack passes a real API server: the program's own objects
(the offline render) and every object the stack's charts render (`helm template` with the values
the program passes, tests/charts).

Server-side dry run with strict field validation: the API server's own validation, its
admission chain and the CRDs' schemas (from the reference folder, installed first; for the
charts' objects, the charts' own CRDs, applied and Established first) all run, an unknown or
duplicated field is an error rather than silently dropped, and nothing is stored. Namespaces
are created for real first, since a namespaced object needs its namespace.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from reliability.platform import PROJECT_DIR
from reliability.platform.render import manifest_name, render
from reliability.platform.stackfiles import stack_names

from ..charts.stack import Stack, stack
from .kube import Kube, KubeError

STACKS = stack_names(PROJECT_DIR / "stacks")


def rendered_objects(stack: str) -> list[dict[str, Any]]:
    files = render(stack)
    return [yaml.safe_load(text) for name, text in sorted(files.items()) if name.startswith("manifests/")]


def dry_run_problems(kube: Kube, objects: list[dict[str, Any]]) -> list[str]:
    """The API server's refusals, one line per object; namespaces are applied for real first."""
    problems = []
    for obj in sorted(objects, key=lambda o: o["kind"] != "Namespace"):
        try:
            kube.apply(obj, dry_run=obj["kind"] != "Namespace")
        except KubeError as error:
            problems.append(f"{manifest_name(obj)}: {error}")
    return problems


def release_namespaces(st: Stack) -> dict[str, str]:
    """chart name -> the namespace its release installs into (what Helm gives objects without one)."""
    return {r["inputs"]["chart"]: r["inputs"]["namespace"] for r in st.resources
            if r["type"].startswith("kubernetes:helm.sh/")}


def install_chart_crds(kube: Kube, st: Stack) -> None:
    """The charts' own CRDs, for real, until Established, as Helm installs them before the rest."""
    crds = st.of_kind("CustomResourceDefinition")
    for crd in crds:
        kube.apply(crd)
    kube.wait_established([crd["metadata"]["name"] for crd in crds])


def chart_dry_run_problems(kube: Kube, st: Stack, charts: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The API server's refusals of the charts' objects (CRDs apart), one line per object naming
    the chart, kind, namespace/name and the server's message; the namespaces are created first."""
    namespaces = release_namespaces(st)
    placed = {chart: [_in_namespace(kube, obj, namespaces[chart]) for obj in objs
                      if obj["kind"] != "CustomResourceDefinition"] for chart, objs in charts.items()}
    wanted = {obj["metadata"]["namespace"] for objs in placed.values() for obj in objs
              if obj["metadata"].get("namespace")} | set(namespaces.values())
    for namespace in st.of_kind("Namespace"):  # the program's, with their labels
        kube.apply(namespace)
        wanted.discard(namespace["metadata"]["name"])
    for name in sorted(wanted):
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    problems = []
    for chart, objs in sorted(placed.items()):
        for obj in objs:
            meta = obj["metadata"]
            try:
                kube.apply(obj, dry_run=True)
            except KubeError as error:
                problems.append(f"{chart}: {obj['kind']} {meta.get('namespace', '')}/{meta['name']}: {error}")
    return problems


def _in_namespace(kube: Kube, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A namespaced object without a namespace goes to the release's, as Helm's client places it."""
    if obj["metadata"].get("namespace") or not kube.namespaced(obj["apiVersion"], obj["kind"]):
        return obj
    return {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}


def test_the_stacks_are_the_four_environments() -> None:
    assert STACKS == ["dev", "local", "prod", "staging"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_object_passes_the_api_server(kube: Kube, stack: str) -> None:
    objects = rendered_objects(stack)
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "PrometheusRule", "ConfigMap", "Secret"} <= kinds
    assert dry_run_problems(kube, [*team_namespaces(objects), *objects]) == []


def team_namespaces(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The namespaces canary AnalysisTemplates go to (`canary.namespace`, beside the team's Rollouts):
    the teams' own, which exist where Argo Rollouts runs and which the stack does not create."""
    own = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    names = {o["metadata"]["namespace"] for o in objects if o["kind"] == "AnalysisTemplate"} - own
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}} for name in sorted(names)]


def test_the_dry_run_catches_what_a_schema_forbids(kube: Kube) -> None:
    """The same check refuses a rule with a field the CRD does not have and a Secret with bad data."""
    objects = rendered_objects("local")
    rule = copy.deepcopy(next(o for o in objects if o["kind"] == "PrometheusRule"))
    rule["spec"]["groups"][0]["rules"][0]["fore"] = "5m"
    secret = copy.deepcopy(next(o for o in objects if o["kind"] == "Secret"))
    secret["data"] = {"key": "not base64!"}
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    problems = dry_run_problems(kube, [*namespaces, rule, secret])
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{manifest_name(rule)}: ")
    assert problems[0].endswith(".rules[0].fore: field not declared in schema")
    assert problems[1].startswith(f"{manifest_name(secret)}: ")
    assert "illegal base64" in problems[1]


def test_a_dry_run_stores_nothing(kube: Kube) -> None:
    objects = rendered_objects("local")
    assert dry_run_problems(kube, objects) == []
    rule = next(o for o in objects if o["kind"] == "PrometheusRule")
    meta = rule["metadata"]
    assert kube.get(rule["apiVersion"], "PrometheusRule", meta["name"], meta["namespace"]) is None
    namespace = next(o for o in objects if o["kind"] == "Namespace")
    assert kube.get("v1", "Namespace", namespace["metadata"]["name"]) is not None


@pytest.mark.parametrize("stack_name", STACKS)
def test_every_chart_object_passes_the_api_server(kube: Kube, stack_name: str) -> None:
    st = stack(stack_name)
    install_chart_crds(kube, st)
    charts = {chart: list(objs) for chart, objs in st.charts.items()}
    # Chaos Mesh is left out where the stack turns chaos off (prod).
    assert {"kube-prometheus-stack", "grafana", "loki", "tempo", "thanos", "opentelemetry-collector",
            "k6-operator"} <= set(charts)
    assert sum(len(objs) for objs in charts.values()) > 150
    assert chart_dry_run_problems(kube, st, charts) == []


def test_the_chart_dry_run_names_chart_object_and_the_server_message(kube: Kube) -> None:
    st = stack("local")
    install_chart_crds(kube, st)
    prometheus = copy.deepcopy(st.one("Prometheus", "kps-prometheus", "kube-prometheus-stack"))
    prometheus["spec"]["retentionTime"] = "7d"  # the field is `retention`
    problems = chart_dry_run_problems(kube, st, {"kube-prometheus-stack": [prometheus]})
    assert problems == ["kube-prometheus-stack: Prometheus monitoring/kps-prometheus: 500: failed to create "
                        "typed patch object (monitoring/kps-prometheus; monitoring.coreos.com/v1, Kind=Prometheus): "
                        ".spec.retentionTime: field not declared in schema"], problems
