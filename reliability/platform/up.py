"""`sre up --stack local` (behind `make up`): bring the local stack up on the current kube context.

Checks what is missing first and says how to get it (the Pulumi CLI, kubectl, a
current context, a cluster that answers), then uses a file state backend inside
the repository (.pulumi-state/) and the passphrase secrets provider: the
passphrase comes from PULUMI_CONFIG_PASSPHRASE(_FILE) if set, else from a
generated .pulumi-state/passphrase. No Pulumi Cloud account is needed.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from . import PROJECT_DIR

STATE_DIR = ".pulumi-state"
PULUMI_INSTALL = "https://www.pulumi.com/docs/install/"
KUBECTL_INSTALL = "https://kubernetes.io/docs/tasks/tools/"
EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


class Missing(Exception):
    """A prerequisite is missing; the message says how to get it."""


def _run(
    args: list[str], env: Mapping[str, str], cwd: Path, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=dict(env), cwd=cwd, text=True, check=False, capture_output=capture, stdin=subprocess.DEVNULL
    )


def current_context(env: Mapping[str, str], cwd: Path) -> str:
    kubectl = shutil.which("kubectl", path=env.get("PATH"))
    if not kubectl:
        raise Missing(
            f"kubectl is not on PATH: install it ({KUBECTL_INSTALL}) and create a local cluster, "
            "e.g. `kind create cluster`"
        )
    found = _run([kubectl, "config", "current-context"], env, cwd, capture=True)
    context = found.stdout.strip()
    if found.returncode != 0 or not context:
        raise Missing(
            "no current kube context: create a local cluster, e.g. `kind create cluster` "
            "(or k3d, minikube, Docker Desktop), or pick one with `kubectl config use-context NAME`"
        )
    ready = _run(
        [kubectl, "--context", context, "get", "--raw", "/readyz", "--request-timeout=10s"],
        env,
        cwd,
        capture=True,
    )
    if ready.returncode != 0:
        detail = (ready.stderr or ready.stdout).strip().splitlines()
        raise Missing(
            f"the cluster of kube context '{context}' does not answer"
            f"{': ' + detail[-1] if detail else ''}; start it (e.g. `kind create cluster`) "
            "or switch context with `kubectl config use-context NAME`"
        )
    return context


def pulumi_env(env: Mapping[str, str], project_dir: Path) -> dict[str, str]:
    """File backend in the repo; passphrase from the environment or a generated file."""
    state = project_dir / STATE_DIR
    state.mkdir(exist_ok=True)
    out = dict(env)
    out["PULUMI_BACKEND_URL"] = f"file://{state}"
    out.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    if not out.get("PULUMI_CONFIG_PASSPHRASE") and not out.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        passphrase = state / "passphrase"
        if not passphrase.exists():
            fd = os.open(passphrase, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
        out["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase)
    return out


def preflight(env: Mapping[str, str], project_dir: Path) -> tuple[str, str]:
    """The Pulumi CLI and the current kube context, or Missing saying how to get what is not there."""
    pulumi = shutil.which("pulumi", path=env.get("PATH"))
    if not pulumi:
        raise Missing(
            f"the Pulumi CLI is not on PATH: install it ({PULUMI_INSTALL}), "
            "e.g. `curl -fsSL https://get.pulumi.com | sh`, then run `make up` again"
        )
    return pulumi, current_context(env, project_dir)


def up(
    stack: str = "local",
    yes: bool = True,
    env: Mapping[str, str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> int:
    env = dict(os.environ if env is None else env)
    try:
        pulumi, context = preflight(env, project_dir)
    except Missing as exc:
        print(f"sre up: {exc}", file=sys.stderr)
        return EXIT_INPUT
    penv = pulumi_env(env, project_dir)
    print(f"sre up: stack '{stack}' on kube context '{context}', state in {penv['PULUMI_BACKEND_URL']}")
    steps = [
        [
            pulumi,
            "stack",
            "select",
            stack,
            "--create",
            "--secrets-provider",
            "passphrase",
            "--non-interactive",
        ],
        [pulumi, "config", "set", "--stack", stack, "reliability:kubeContext", context, "--non-interactive"],
        [pulumi, "up", "--yes", "--stack", stack, "--non-interactive"]
        if yes
        else [pulumi, "preview", "--stack", stack, "--non-interactive"],
    ]
    for step in steps:
        if _run(step, penv, project_dir).returncode != 0:
            print(f"sre up: `pulumi {' '.join(step[1:3])}` failed (see above)", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    # `make up` runs this with the system Python before the two-minute install: it needs only
    # the standard library, so a missing Pulumi CLI or cluster is said at once.
    try:
        preflight(os.environ, PROJECT_DIR)
    except Missing as exc:
        print(f"make up: {exc}", file=sys.stderr)
        sys.exit(EXIT_INPUT)
