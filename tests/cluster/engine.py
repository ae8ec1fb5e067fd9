"""The real Pulumi engine for the cluster tests: the CLI, the Python language host and the
Kubernetes provider that `make tools` builds, in a throw-away PULUMI_HOME with a file backend.

Nothing is fetched: plugin acquisition is switched off, the provider is installed from its
built binary under the version the pulumi_kubernetes SDK asks for (tools/versions.toml says
why), and the language host is found on PATH.

On an external cluster (RAC_KUBECONFIG, apiserver.py) the engine is the Pulumi CLI on PATH
instead (the released one, as the GitHub `kind` job installs it with pulumi/actions, with its
own Python language host), which fetches the Kubernetes provider the SDK asks for as usual.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..conftest import REPO
from ..gotools import build_tools, built_tool
from .apiserver import ApiServer

PASSPHRASE = "cluster-tests-only"
# A run of the local stack under load on 2 cores takes minutes; a hang must still end.
TIMEOUT = 900


@dataclass
class Pulumi:
    cli: str
    env: dict[str, str]
    logs: Path
    runs: int = 0

    def run(self, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGS` in `cwd`; a failure shows the command and the end of its output.

        The output also goes, as it comes, to a numbered log under `logs`: a run that hangs can
        be watched, and one that is killed at TIMEOUT still says where it was."""
        self.runs += 1
        log = self.logs / f"{self.runs:02d}-{'-'.join(a for a in args[:2] if not a.startswith('-'))}.log"
        command = [self.cli, *args, "--non-interactive"]
        with log.open("w") as out, log.with_suffix(".err").open("w") as err:
            err.write(f"$ {' '.join(command)}\n")
            err.flush()
            try:
                code = subprocess.run(command, cwd=cwd, env=self.env, text=True, stdout=out, stderr=err,
                                      timeout=TIMEOUT, check=False).returncode
            except subprocess.TimeoutExpired:
                code = -9
        stdout, stderr = log.read_text(), log.with_suffix(".err").read_text()
        if check and code != 0:
            pytest.fail(f"pulumi {' '.join(args)} exited {code} in {cwd} (log {log}):\n"
                        f"{stdout[-6000:]}\n{stderr[-6000:]}")
        return subprocess.CompletedProcess(command, code, stdout, stderr)

    def export(self, stack: str, cwd: Path) -> list[dict[str, Any]]:
        """The resources of the stack's state (`pulumi stack export`)."""
        state = json.loads(self.run("stack", "export", "--stack", stack, cwd=cwd).stdout)
        return state["deployment"].get("resources") or []  # type: ignore[no-any-return]


def pulumi(workdir: Path, server: ApiServer) -> Pulumi:
    """A Pulumi CLI whose home, state and plugins live under `workdir`, pointed at `server`."""
    (workdir / "state").mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PULUMI_HOME": str(workdir / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{workdir / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "KUBECONFIG": str(server.kubeconfig),
        "NO_COLOR": "1",
    }
    if server.external:
        cli = shutil.which("pulumi")
        if cli is None:
            pytest.fail("RAC_KUBECONFIG is set but no pulumi CLI is on PATH: install the released CLI")
        return Pulumi(cli, env, workdir / "logs")
    cli = built_tool("pulumi")
    language_host = built_tool("pulumi-language-python")
    provider = built_tool("pulumi-resource-kubernetes")
    plugin_version = build_tools().load()["pulumi-resource-kubernetes"].plugin
    env["PATH"] = os.pathsep.join([str(Path(language_host).parent), str(Path(cli).parent), os.environ["PATH"]])
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    engine = Pulumi(cli, env, workdir / "logs")
    engine.run("plugin", "install", "resource", "kubernetes", plugin_version, "--file", provider, cwd=workdir)
    return engine


def venv_python_project(folder: Path, name: str, program: str) -> Path:
    """A Python project in `folder` that runs in this repository's .venv (its SDK versions)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {REPO / '.venv'}\n"
    )
    (folder / "__main__.py").write_text(program)
    return folder
