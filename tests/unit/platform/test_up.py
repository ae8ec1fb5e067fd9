"""`sre up --stack local` (make up) with stand-in `pulumi` and `kubectl` on PATH that record their calls."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from reliability.platform.up import up

RECORDER = """#!{python}
import json, os, sys
with open(os.environ["CALLS"], "a") as log:
    env = {{k: v for k, v in os.environ.items() if k.startswith("PULUMI_")}}
    log.write(json.dumps({{"tool": "{tool}", "args": sys.argv[1:], "env": env}}) + "\\n")
{body}
"""
KUBECTL_BODY = """
if sys.argv[1:3] == ["config", "current-context"]:
    context = os.environ.get("FAKE_CONTEXT", "")
    print(context)
    sys.exit(0 if context else 1)
if "/readyz" in sys.argv:
    if os.environ.get("FAKE_CLUSTER_DOWN"):
        print("The connection to the server 127.0.0.1:6443 was refused", file=sys.stderr)
        sys.exit(1)
    print("ok")
"""


def tool(bin_dir: Path, name: str, body: str = "") -> None:
    path = bin_dir / name
    path.write_text(RECORDER.format(python=sys.executable, tool=name, body=body))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def setup(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    calls = tmp_path / "calls.jsonl"
    env = {"PATH": str(bin_dir), "CALLS": str(calls), "FAKE_CONTEXT": "kind-kind", "HOME": str(tmp_path)}
    return bin_dir, project, calls, env


def recorded(calls: Path) -> list[dict]:
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_brings_local_up_with_file_backend_and_passphrase(setup, capsys):
    bin_dir, project, calls, env = setup
    tool(bin_dir, "pulumi")
    tool(bin_dir, "kubectl", KUBECTL_BODY)
    assert up("local", env=env, project_dir=project) == 0
    pulumi_calls = [c for c in recorded(calls) if c["tool"] == "pulumi"]
    assert [c["args"] for c in pulumi_calls] == [
        ["stack", "select", "local", "--create", "--secrets-provider", "passphrase", "--non-interactive"],
        ["config", "set", "--stack", "local", "reliability:kubeContext", "kind-kind", "--non-interactive"],
        ["up", "--yes", "--stack", "local", "--non-interactive"],
    ]
    state = project / ".pulumi-state"
    passphrase = state / "passphrase"
    for call in pulumi_calls:
        assert call["env"]["PULUMI_BACKEND_URL"] == f"file://{state}"
        assert call["env"]["PULUMI_CONFIG_PASSPHRASE_FILE"] == str(passphrase)
    assert len(passphrase.read_text().strip()) >= 32
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600
    # a second run keeps the same passphrase (the stack's secrets stay readable)
    before = passphrase.read_text()
    assert up("local", env=env, project_dir=project) == 0
    assert passphrase.read_text() == before


def test_passphrase_from_the_environment_wins(setup):
    bin_dir, project, calls, env = setup
    tool(bin_dir, "pulumi")
    tool(bin_dir, "kubectl", KUBECTL_BODY)
    assert up("local", env={**env, "PULUMI_CONFIG_PASSPHRASE": "team-secret"}, project_dir=project) == 0
    call = next(c for c in recorded(calls) if c["tool"] == "pulumi")
    assert call["env"]["PULUMI_CONFIG_PASSPHRASE"] == "team-secret"
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" not in call["env"]
    assert not (project / ".pulumi-state" / "passphrase").exists()


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("pulumi", "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/)"),
        ("kubectl", "kubectl is not on PATH"),
        ("context", "no current kube context: create a local cluster, e.g. `kind create cluster`"),
        ("cluster", "the cluster of kube context 'kind-kind' does not answer: The connection to the server"),
    ],
)
def test_says_what_is_missing(setup, capsys, missing, message):
    bin_dir, project, calls, env = setup
    if missing != "pulumi":
        tool(bin_dir, "pulumi")
    if missing != "kubectl":
        tool(bin_dir, "kubectl", KUBECTL_BODY)
    if missing == "context":
        env["FAKE_CONTEXT"] = ""
    if missing == "cluster":
        env["FAKE_CLUSTER_DOWN"] = "1"
    assert up("local", env=env, project_dir=project) == 2
    assert message in capsys.readouterr().err
    assert not [c for c in recorded(calls) if c["tool"] == "pulumi"]  # nothing run before the checks pass


def test_a_failing_pulumi_step_stops_and_exits_1(setup, capsys):
    bin_dir, project, _calls, env = setup
    tool(bin_dir, "pulumi", 'sys.exit(3 if sys.argv[1] == "up" else 0)')
    tool(bin_dir, "kubectl", KUBECTL_BODY)
    assert up("local", env=env, project_dir=project) == 1
    assert "`pulumi up --yes` failed" in capsys.readouterr().err


def test_make_up_checks_before_installing(setup):
    """`make up` says what is missing at once, with the system Python, before the two-minute install."""
    import shutil
    import subprocess

    from ...conftest import skip_or_fail
    from .conftest import REPO

    bin_dir, _, _, env = setup
    tool(bin_dir, "kubectl", KUBECTL_BODY)  # a cluster, but no Pulumi CLI
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    make = shutil.which("make")
    if not system_python or not make:
        skip_or_fail("needs /usr/bin/python3 and make")
    (bin_dir / "make").symlink_to(make)
    run = subprocess.run([make, "--no-print-directory", "-C", str(REPO), "up", f"PYTHON={system_python}"],
                         env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert run.stderr.splitlines()[0] == (
        "make up: the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/), "
        "e.g. `curl -fsSL https://get.pulumi.com | sh`, then run `make up` again")
    dry = subprocess.run([make, "--no-print-directory", "-n", "-C", str(REPO), "up"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert dry[0].endswith("-m reliability.platform.up")  # the check comes before the install
