"""Every Kubernetes object of every stack's offline render passes a real API server.

Server-side dry run with strict field validation: the API server's own validation, its
admission chain and the CRDs' schemas (from the reference folder, installed first) all run,
an unknown or duplicated field is an error rather than silently dropped, and nothing is
stored. Namespaces are created for real first, since a namespaced object needs its namespace.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from reliability.platform import PROJECT_DIR
from reliability.platform.render import manifest_name, render
from reliability.platform.stackfiles import stack_names

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
