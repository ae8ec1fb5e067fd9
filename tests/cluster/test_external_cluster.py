"""External cluster mode (RAC_KUBECONFIG): the suite uses that cluster and the Pulumi CLI on PATH,
and starts nothing of its own. Proven here against the loopback API server, reached through a
kubeconfig written the way kind writes one (credentials inline as base64 `-data` fields)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import yaml

from .apiserver import EXTERNAL, ApiServer, api_server
from .controlplane import control_plane
from .engine import pulumi
from .kube import Kube


def kind_style_kubeconfig(server: ApiServer, path: Path, context: str = "kind-reliability") -> Path:
    assert server.ca and server.client_cert and server.client_key

    def data(file: Path) -> str:
        return base64.b64encode(file.read_bytes()).decode()

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": server.url,
                                                   "certificate-authority-data": data(server.ca)}}],
        "users": [{"name": context, "user": {"client-certificate-data": data(server.client_cert),
                                             "client-key-data": data(server.client_key)}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
    }))
    return path


def test_an_external_cluster_is_used_and_nothing_is_started(apiserver: ApiServer, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXTERNAL, str(kind_style_kubeconfig(apiserver, tmp_path / "kind.yaml")))
    with api_server(tmp_path / "apiserver") as server:
        assert (server.url, server.context, server.external) == (apiserver.url, "kind-reliability", True)
        assert server.kubeconfig == tmp_path / "kind.yaml"
        kube = Kube(server)
        kube.discover()
        assert kube.get("v1", "Namespace", "default") is not None
        with control_plane(server, kube, tmp_path / "control-plane"):
            pass
    assert not (tmp_path / "apiserver" / "etcd").exists()  # no etcd, no kube-apiserver
    assert list((tmp_path / "control-plane").glob("*.log")) == []  # no controllers, scheduler or kwok


def test_an_external_cluster_runs_the_pulumi_cli_on_path(apiserver: ApiServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    released = tmp_path / "released" / "pulumi"
    released.parent.mkdir()
    released.write_text("#!/bin/sh\n")
    released.chmod(0o755)
    monkeypatch.setenv("PATH", f"{released.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(EXTERNAL, str(kind_style_kubeconfig(apiserver, tmp_path / "kind.yaml")))
    with api_server(tmp_path / "apiserver") as server:
        engine = pulumi(tmp_path / "engine", server)
    assert engine.cli == str(released)
    assert engine.env["KUBECONFIG"] == str(tmp_path / "kind.yaml")
    # The released CLI fetches the provider the SDK asks for; nothing was installed beforehand.
    assert "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION" not in engine.env and engine.runs == 0


def test_a_kubeconfig_without_credentials_is_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "exec.yaml"
    config.write_text(yaml.safe_dump({
        "current-context": "eks", "clusters": [{"name": "c", "cluster": {"server": "https://example.invalid"}}],
        "users": [{"name": "u", "user": {"exec": {"command": "aws"}}}],
        "contexts": [{"name": "eks", "context": {"cluster": "c", "user": "u"}}],
    }))
    monkeypatch.setenv(EXTERNAL, str(config))
    with pytest.raises(pytest.fail.Exception) as failed, api_server(tmp_path / "apiserver"):
        pass
    assert str(failed.value) == (f"RAC_KUBECONFIG={config}: user of context 'eks' has neither a token nor a client "
                                 "certificate and key (exec and auth-provider plugins are not supported)")
