"""tools/versions.toml and scripts/build-tools.py: one table per tool, checked before any build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.gotools import build_tools

GOOD = """
[etcd]
module = "go.etcd.io/etcd/server/v3"
version = "v3.6.16"
package = "go.etcd.io/etcd/server/v3"
binary = "etcd"
build = "tools/build/etcd"
"""


def test_the_pinned_tools_load_and_land_in_versioned_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    tools = build_tools()
    loaded = tools.load()
    assert {"pulumi", "pulumi-language-python", "pulumi-resource-kubernetes", "kube-apiserver", "etcd"} <= set(loaded)
    monkeypatch.setenv("RAC_TOOLS_DIR", "/opt/t")
    etcd = loaded["etcd"]
    assert etcd.path(tools.tools_dir()) == Path(f"/opt/t/etcd-{etcd.version}/bin/etcd")


def test_the_cli_and_the_language_host_share_one_pulumi_version() -> None:
    loaded = build_tools().load()
    assert loaded["pulumi"].version == loaded["pulumi-language-python"].version


def locked(package: str) -> str:
    """The exact version requirements.lock pins `package` at."""
    (version,) = re.findall(rf"^{re.escape(package)}==(\S+)$", (REPO / "requirements.lock").read_text(), re.M)
    return version


def release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.removeprefix("v").split("-")[0].split("."))


def test_the_pulumi_cli_is_at_least_as_new_as_the_python_sdk() -> None:
    """The engine must understand what the SDK sends; a CLI older than the SDK may not."""
    cli = build_tools().load()["pulumi"]
    assert release(cli.version) >= release(locked("pulumi")), (cli.version, locked("pulumi"))


def test_the_kubernetes_provider_is_installed_as_the_plugin_the_sdk_asks_for() -> None:
    """pulumi_kubernetes asks the engine for its own version of the plugin: the provider must be
    installed under exactly that version, or `pulumi up` looks for a plugin nobody installed."""
    provider = build_tools().load()["pulumi-resource-kubernetes"]
    assert provider.plugin == locked("pulumi_kubernetes")


def test_the_provider_substitution_is_stated_where_the_versions_are_pinned() -> None:
    """Built from one release, installed as another: versions.toml says so, with the proxy's refusal."""
    provider = build_tools().load()["pulumi-resource-kubernetes"]
    text = (REPO / "tools" / "versions.toml").read_text()
    note = text[:text.index("[pulumi-resource-kubernetes]")].rsplit("\n\n", 1)[-1]
    if provider.release == provider.plugin:
        return
    note = " ".join(line.removeprefix("#").strip() for line in note.splitlines())
    assert f"built from {provider.release} and installed as plugin {provider.plugin}" in note
    assert f"provider/v4@v{provider.plugin}: reading" in note
    assert "403 Forbidden" in note and "server response: This module version is not available." in note
    assert f"the commit tagged v{provider.release}" in note and provider.version in note


@pytest.mark.parametrize(("change", "message"), [
    (('version = "v3.6.16"', 'version = "v3.6.15"'),
     "[etcd] version v3.6.15 but {repo}/tools/build/etcd/go.mod requires go.etcd.io/etcd/server/v3 v3.6.16: "
     "make them the same"),
    (('binary = "etcd"\n', ""), "[etcd] binary: missing (a non-empty string)"),
    (('binary = "etcd"', 'binary = "etcd"\nbinaries = "etcd"'),
     "[etcd] binaries: unknown key (known: module, version, package, binary, build, ldflags, release, plugin, files, generate)"),
    (('package = "go.etcd.io/etcd/server/v3"', 'package = "go.etcd.io/etcd/etcdctl/v3"'),
     "[etcd] package: go.etcd.io/etcd/etcdctl/v3 is not in module go.etcd.io/etcd/server/v3 "
     "(or \".\", a build module's own program)"),
    (('build = "tools/build/etcd"', 'build = "tools/build/etcd2"'),
     "[etcd] build: {repo}/tools/build/etcd2/go.mod not found (a build module needs go.mod and go.sum)"),
])
def test_a_bad_table_names_the_tool_the_field_and_the_fix(tmp_path: Path, change: tuple[str, str],
                                                          message: str) -> None:
    tools = build_tools()
    versions = tmp_path / "versions.toml"
    assert change[0] in GOOD
    versions.write_text(GOOD.replace(*change))
    with pytest.raises(tools.ToolsError) as error:
        tools.load(versions)
    assert str(error.value) == f"{versions}: " + message.format(repo=tools.REPO)


def test_files_of_a_go_install_build_come_from_its_own_module(tmp_path: Path) -> None:
    tools = build_tools()
    versions = tmp_path / "versions.toml"
    versions.write_text('[kwok]\nmodule = "sigs.k8s.io/kwok"\nversion = "v0.8.0"\npackage = "sigs.k8s.io/kwok/cmd/kwok"\n'
                        'binary = "kwok"\nfiles = ["sigs.k8s.io/kwok:a.yaml", "k8s.io/api:b.yaml"]\n')
    with pytest.raises(tools.ToolsError) as error:
        tools.load(versions)
    assert str(error.value) == (f"{versions}: [kwok] files: k8s.io/api:b.yaml is not in module sigs.k8s.io/kwok, "
                                "the only module a `go install` build has (a build module of ours can name others)")


def test_make_tools_builds_every_pinned_tool() -> None:
    """The tests use each of them (tests/gotools.py); `make test` must not leave one unbuilt."""
    makefile = (build_tools().REPO / "Makefile").read_text()
    line = makefile.split("GO_TOOLS :=", 1)[1].split("\ntools:", 1)[0]
    assert sorted(line.replace("\\", " ").split()) == sorted(build_tools().load())


def test_the_command_refuses_an_unknown_tool(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_tools().main(["kubectl"]) == 2
    assert "unknown tool(s) kubectl: tools/versions.toml has" in capsys.readouterr().err


def test_a_present_tool_is_not_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    tools = build_tools()
    monkeypatch.setenv("RAC_TOOLS_DIR", str(tmp_path))
    etcd = tools.load()["etcd"]
    binary = etcd.path(tmp_path)
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", "")  # no go: a build would fail with exit code 2
    assert tools.main(["etcd"]) == 0
    assert f"tools: etcd {etcd.version}: present ({binary})" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["bench-report", "bench-rules"])
def test_benchmarks_of_promtool_and_prometheus_build_no_go_tool(target: str) -> None:
    """They run Debian's promtool/prometheus only: `make tools` would first build ten Go programs (~25 min)."""
    makefile = (build_tools().REPO / "Makefile").read_text()
    rule = next(line for line in makefile.splitlines() if line.startswith(f"{target}:"))
    assert rule.split(":", 1)[1].split() == ["install", "debian-tools"]


def test_the_tools_table_of_the_testing_page_lists_every_pinned_tool() -> None:
    """docs/testing.md's table names each tool of tools/versions.toml with its version and where it is built from."""
    page = (REPO / "docs" / "testing.md").read_text()
    start = page.index("| Tool | Version | Built from |")
    table = page[start:page.index("\n\n", start)]
    for tool in build_tools().load().values():
        assert (tool.release or tool.version.removeprefix("v")) in table, tool.name
        assert tool.module in table or tool.build in table, tool.name


def test_the_docs_name_the_go_version_ci_builds_with() -> None:
    workflow = (REPO / ".github" / "workflows" / "checks.yml").read_text()
    found = re.search(r'go-version: "([0-9.]+)"', workflow)
    assert found
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for version in re.findall(r"\bGo ([0-9]+\.[0-9]+)\b", page.read_text()):
            assert version == found.group(1), f"{page.name} says Go {version}; CI builds with {found.group(1)}"
