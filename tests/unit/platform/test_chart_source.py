"""The `charts` stack setting: charts from upstream, from a folder of unpacked charts, or from one mirror."""

from __future__ import annotations

import json
import shutil
import urllib.error
from pathlib import Path

import pytest
import yaml

from components.program import defaults
from reliability.platform.charts import ChartRef, chart_version, folder_problems, locate, pins, repository_problems
from reliability.platform.config import PROJECT, ConfigError, parse
from reliability.platform.render import render

from ...conftest import reference
from .test_config import good


def chart_folder(root: Path, name: str, version: str, chart: str | None = None) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "Chart.yaml").write_text(f"apiVersion: v2\nname: {chart or name.rsplit('-', 1)[0]}\n"
                                            f"version: {version}\n")


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A folder holding every pinned chart (Chart.yaml only: enough for the checks)."""
    for pin in pins().values():
        chart_folder(tmp_path, f"{pin.chart}-{pin.version}", pin.version)
    return tmp_path


def charts_problems(env: str, charts: dict[str, str], **extra: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(env, good(env, charts=charts, **extra), frozenset(), defaults())
    return [p for p in info.value.problems if p.startswith(f"{PROJECT}:charts")]


def test_nothing_set_means_the_upstream_repositories():
    cfg, _ = parse("local", good("local"), frozenset(), defaults())
    pin = pins()["kube-prometheus-stack"]
    assert locate(pin, cfg.charts.folder, cfg.charts.repository) == ChartRef(
        "kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts")


def test_a_mirror_repository_serves_the_pinned_versions():
    pin = pins()["grafana"]
    assert locate(pin, None, "https://charts.corp.example/helm") == ChartRef(
        "grafana", "12.11.1", "https://charts.corp.example/helm")
    assert locate(pin, None, "oci://registry.corp.example/charts/") == ChartRef(
        "oci://registry.corp.example/charts/grafana", "12.11.1", None)


def test_a_folder_holding_every_pin_is_accepted(mirror: Path):
    cfg, _ = parse("local", good("local", charts={"folder": str(mirror)}), frozenset(), defaults())
    assert locate(pins()["tempo"], cfg.charts.folder, None) == ChartRef(str(mirror / "tempo-2.2.4"), None, None)


def test_a_folder_may_name_charts_without_their_version(mirror: Path):
    (mirror / "tempo-2.2.4").rename(mirror / "tempo")
    assert locate(pins()["tempo"], str(mirror), None) == ChartRef(str(mirror / "tempo"), None, None)


def test_a_chart_of_another_version_is_an_error_naming_both(mirror: Path):
    shutil.rmtree(mirror / "kube-prometheus-stack-88.5.3")
    chart_folder(mirror, "kube-prometheus-stack-88.4.0", "88.4.0")
    (mirror / "tempo-2.2.4").rename(mirror / "tempo")
    (mirror / "tempo" / "Chart.yaml").write_text("apiVersion: v2\nname: tempo\nversion: 2.3.0\n")
    assert charts_problems("local", {"folder": str(mirror)}) == [
        f"reliability:charts.folder (stacks/Pulumi.local.yaml): {mirror} has kube-prometheus-stack-88.4.0 but "
        "components/charts.yaml pins kube-prometheus-stack 88.5.3: put kube-prometheus-stack-88.5.3 there",
        f"reliability:charts.folder (stacks/Pulumi.local.yaml): {mirror}/tempo holds tempo 2.3.0 but "
        "components/charts.yaml pins 2.2.4: put tempo-2.2.4 there (helm pull tempo --version 2.2.4 --untar)",
    ]


def test_a_folder_with_a_stamped_version_but_another_chart_is_refused(mirror: Path):
    (mirror / "grafana-12.11.1" / "Chart.yaml").write_text("apiVersion: v2\nname: grafana-agent\nversion: 12.11.1\n")
    assert charts_problems("local", {"folder": str(mirror)}) == [
        f"reliability:charts.folder (stacks/Pulumi.local.yaml): {mirror}/grafana-12.11.1/Chart.yaml names "
        "chart 'grafana-agent', not 'grafana'"
    ]


def test_charts_a_stack_does_not_install_need_not_be_there(mirror: Path):
    shutil.rmtree(mirror / "chaos-mesh-2.8.3")
    parse("local", good("local", charts={"folder": str(mirror)}, chaos={"enabled": False}), frozenset(), defaults())
    assert charts_problems("local", {"folder": str(mirror)}, chaos={"enabled": True}) == [
        f"reliability:charts.folder (stacks/Pulumi.local.yaml): no chaos-mesh-2.8.3/Chart.yaml under {mirror} "
        "(the pin of components/charts.yaml)"
    ]


@pytest.mark.parametrize(
    ("charts", "message"),
    [
        ({"folder": "/nonexistent/charts"}, "reliability:charts.folder (stacks/Pulumi.dev.yaml): /nonexistent/charts "
         "is not a folder (a folder of unpacked charts, <chart>-<version>/)"),
        ({"folder": "x", "repository": "https://charts.example"}, "reliability:charts: set folder (unpacked charts) "
         "or repository (a mirror), not both"),
        ({"repository": "ftp://charts.example"}, "reliability:charts.repository: \"ftp://charts.example\" is not valid here: write a value matching"),
        ({"mirror": "https://charts.example"}, "reliability:charts.mirror: unknown key"),
    ],
)
def test_one_field_broken(charts, message):
    found = charts_problems("dev", charts)
    assert any(p.startswith(message) for p in found), found


def test_the_program_installs_from_the_folder():
    """Every chart of the local render comes from the shared copies, without a version or repository."""
    src = reference("charts-src")
    files = render("local", overrides={f"{PROJECT}:charts": json.dumps({"folder": str(src)})})
    helm = [r for r in json.loads(files["resources.json"]) if r["type"].startswith("kubernetes:helm.sh/")]
    assert len(helm) == 9  # chaos and load tests are on locally
    for r in helm:
        pin = next(p for p in pins().values() if r["inputs"]["chart"] == str(src / f"{p.chart}-{p.version}"))
        assert "version" not in r["inputs"] and "repositoryOpts" not in r["inputs"], pin.chart


def test_the_pins_match_the_shared_chart_copies():
    """components/charts.yaml and ../shared/reference/charts-src (what the cluster tests install) agree."""
    src = reference("charts-src")
    assert folder_problems(str(src), list(pins()), src, "stacks/Pulumi.local.yaml") == []
    for pin in pins().values():
        assert chart_version(src / f"{pin.chart}-{pin.version}") == (pin.chart, pin.version)


MIRROR = "https://charts.example.internal/helm"
WHERE = "reliability:charts.repository (stacks/Pulumi.dev.yaml)"


def index_of(**charts: list[str]) -> bytes:
    return yaml.safe_dump({"apiVersion": "v1", "entries": {
        chart: [{"name": chart, "version": v} for v in versions] for chart, versions in charts.items()}}).encode()


def refused(url: str) -> bytes:
    raise urllib.error.URLError("[Errno 111] Connection refused")


@pytest.mark.parametrize(("read", "message"), [
    (lambda url: index_of(tempo=["2.2.3", "2.3.0"]),
     f"{WHERE}: {MIRROR} has tempo 2.2.3, 2.3.0 but components/charts.yaml pins 2.2.4: mirror tempo 2.2.4 there "
     "(helm pull tempo --repo https://grafana-community.github.io/helm-charts --version 2.2.4)"),
    (lambda url: index_of(grafana=["12.11.1"]),
     f"{WHERE}: {MIRROR} has no tempo (components/charts.yaml pins 2.2.4): mirror tempo 2.2.4 there "
     "(helm pull tempo --repo https://grafana-community.github.io/helm-charts --version 2.2.4)"),
    (refused, f"{WHERE}: cannot read {MIRROR}/index.yaml (<urlopen error [Errno 111] Connection refused>): "
              "check the mirror's URL, or set charts.folder instead"),
    (lambda url: b"<html>login</html>", f"{WHERE}: {MIRROR}/index.yaml is not a Helm repository index (no `entries`)"),
])
def test_a_repository_mirror_is_read_from_its_index(read, message) -> None:
    assert pins()["tempo"].version == "2.2.4"
    assert repository_problems(MIRROR, ["tempo"], "stacks/Pulumi.dev.yaml", read=read) == [message]


def test_the_index_is_asked_for_at_the_mirror_and_an_oci_registry_is_left_to_helm() -> None:
    asked: list[str] = []
    good_index = index_of(tempo=["2.2.4"])
    assert repository_problems(MIRROR + "/", ["tempo"], "s", read=lambda url: asked.append(url) or good_index) == []
    assert asked == [f"{MIRROR}/index.yaml"]
    assert repository_problems("oci://registry.example/charts", ["tempo"], "s", read=refused) == []
