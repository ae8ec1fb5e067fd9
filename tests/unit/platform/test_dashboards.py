"""The SLO dashboards in the program: ConfigMaps for Grafana's sidecar, a folder per team, the render's copy."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from components.grafana import DASHBOARD_LABEL, FOLDER_ANNOTATION
from components.slos import CONFIGMAP_MAX_BYTES, dashboard_configmaps
from reliability.platform.render import RenderError, build
from reliability.slo.compile import compile_paths
from reliability.slo.generators.dashboards import GeneratedDashboard

from .conftest import REPO, STACKS, helm_values, of_type, rendered

FOLDERS = {
    "slo-checkout-api.json": "payments",
    "slo-feature-flags.json": "platform",
    "slo-order-worker.json": "fulfilment",
    "slo-search-api.json": "search",
    "slos-overview.json": "SLOs",
}


def configmaps(stack: str) -> list[dict]:
    return [
        yaml.safe_load(text)
        for name, text in sorted(rendered(stack).items())
        if name.startswith("manifests/ConfigMap-") and DASHBOARD_LABEL in text
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_one_configmap_per_dashboard_for_the_sidecar_in_the_team_folder(stack: str) -> None:
    maps = configmaps(stack)
    expected = dict(FOLDERS)
    if stack == "local":
        del expected["slo-feature-flags.json"]  # disabled in local by its spec
    seen = {}
    for cm in maps:
        meta = cm["metadata"]
        assert meta["labels"][DASHBOARD_LABEL] == "1"
        assert meta["namespace"] == "monitoring"
        [(key, text)] = cm["data"].items()
        seen[key] = meta["annotations"][FOLDER_ANNOTATION]
        assert len(text.encode()) < CONFIGMAP_MAX_BYTES
        assert meta["name"] == "dashboard-" + json.loads(text)["uid"]
    assert seen == expected


def test_grafana_sidecar_reads_that_label_and_annotation_into_folders() -> None:
    sidecar = helm_values("dev", "grafana")["sidecar"]["dashboards"]
    assert sidecar["enabled"] is True
    assert (sidecar["label"], sidecar["labelValue"]) == (DASHBOARD_LABEL, "1")
    assert sidecar["folderAnnotation"] == FOLDER_ANNOTATION
    assert sidecar["provider"]["foldersFromFilesStructure"] is True
    assert sidecar["searchNamespace"] == "ALL"


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_render_writes_the_dashboards_the_configmaps_carry(stack: str) -> None:
    files = rendered(stack)
    carried = {key: text for cm in configmaps(stack) for key, text in cm["data"].items()}
    written = {name.removeprefix("dashboards/"): text for name, text in files.items() if name.startswith("dashboards/")}
    assert written == carried
    # ... and they are what `sre slo compile --env <stack's environment>` writes (indented there, for review;
    # compact in the ConfigMaps, which only Grafana reads).
    environment = stack  # each stack deploys the environment of its name
    _, output = compile_paths([str(REPO / "slo-specs")], env=environment)
    assert output is not None
    compiled = {name.removeprefix("dashboards/"): json.loads(text) for name, text in output.files.items()
                if name.startswith("dashboards/")}
    assert {name: json.loads(text) for name, text in written.items()} == compiled
    assert all("\n" not in text.rstrip("\n") for text in written.values())


def test_configmaps_are_children_of_the_slo_component() -> None:
    [component] = of_type("prod", "reliability:slos:")
    maps = [r for r in of_type("prod", "kubernetes:core/v1:ConfigMap") if r["name"].startswith(component["name"])]
    assert len(maps) == len(FOLDERS)
    assert {m["parent"] for m in maps} == {component["urn"]}


def test_a_dashboard_over_one_mebibyte_stops_the_program_naming_it() -> None:
    small = GeneratedDashboard("slo-small", "small SLOs", "payments", "payments", {"uid": "slo-small"})
    big = GeneratedDashboard("slo-big", "big SLOs", "payments", "payments",
                             {"uid": "slo-big", "description": "x" * CONFIGMAP_MAX_BYTES})
    assert len(dashboard_configmaps([small], "monitoring")) == 1
    with pytest.raises(pulumi.RunError) as info:
        dashboard_configmaps([small, big], "monitoring")
    message = str(info.value)
    assert message.startswith("1 SLO dashboard(s) exceed the 1048576 bytes a ConfigMap can hold")
    assert "  slo-big.json (big SLOs): 1048611 bytes" in message


def test_two_configmaps_with_one_dashboard_file_fail_the_render() -> None:
    def cm(name: str) -> dict:
        inputs = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": name, "namespace": "n", "labels": {DASHBOARD_LABEL: "1"}},
                  "data": {"same.json": "{}"}}
        return {"type": "kubernetes:core/v1:ConfigMap", "name": name, "urn": name, "parent": None,
                "inputs": inputs, "options": {}}

    assert build([cm("a")])["dashboards/same.json"] == "{}"
    with pytest.raises(RenderError, match=r"two ConfigMaps carry the dashboard file same\.json"):
        build([cm("a"), cm("b")])
