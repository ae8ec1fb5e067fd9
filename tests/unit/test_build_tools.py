"""tools/versions.toml and scripts/build-tools.py: one table per tool, checked before any build."""

from __future__ import annotations

from pathlib import Path

import pytest

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
