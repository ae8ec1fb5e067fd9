"""The local Kubernetes distributions the `local` stack runs on, and what differs between them.

Three things the platform needs depend on the distribution, and a value that is right for
kind is wrong elsewhere: the default StorageClass every PVC asks for, the container runtime
and socket Chaos Mesh's daemon talks to, and whether node-exporter can mount the node's root
filesystem with HostToContainer propagation (Docker Desktop's `/` is a private mount, so the
pod never starts: prometheus-community/helm-charts#467). The distribution comes from
`kubeDistribution`, or else from the kube context's name, which each tool sets the same way.

A stack without `kubeContext` deploys to the kubeconfig's current context (the Kubernetes
provider reads it), so that is the context whose name is read then; only the offline render,
which reaches no cluster, builds for kind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Distribution:
    name: str
    storage_class: str  # the class the distribution's own provisioner installs as default
    runtime: str  # Chaos Mesh chaosDaemon.runtime
    socket_path: str  # Chaos Mesh chaosDaemon.socketPath, on the node
    host_root_fs: bool  # node-exporter's hostRootFsMount


CONTAINERD = "/run/containerd/containerd.sock"
DOCKER = "/var/run/docker.sock"

DISTRIBUTIONS: dict[str, Distribution] = {
    d.name: d
    for d in (
        Distribution("kind", "standard", "containerd", CONTAINERD, True),
        # k3s keeps its own containerd under /run/k3s; its local-path provisioner is the default class.
        Distribution("k3d", "local-path", "containerd", "/run/k3s/containerd/containerd.sock", True),
        # minikube's default runtime is Docker (cri-dockerd); its hostpath provisioner class is `standard`.
        Distribution("minikube", "standard", "docker", DOCKER, True),
        Distribution("docker-desktop", "hostpath", "docker", DOCKER, False),
    )
}
# What a stack without kubeContext (an offline render, a test) is built for.
DEFAULT = "kind"
AUTO = "auto"


@dataclass(frozen=True)
class CurrentContext:
    """The kubeconfig's current context and the file(s) it was read from, for messages."""

    name: str
    source: str


def current_context(environ: Mapping[str, str] | None = None, home: Path | None = None) -> CurrentContext:
    """The current context the way kubectl and the Kubernetes provider find it.

    `KUBECONFIG` (a path list) or else ~/.kube/config; of several files the first that sets
    `current-context` wins (client-go's merge rules). Unreadable files are skipped, as there.
    """
    env = os.environ if environ is None else environ
    listed = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    paths = [Path(p).expanduser() for p in listed] or [(home or Path.home()) / ".kube" / "config"]
    source = "KUBECONFIG" if listed else str(paths[0])
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        name = data.get("current-context") if isinstance(data, dict) else None
        if isinstance(name, str) and name:
            return CurrentContext(name, str(path))
    return CurrentContext("", source)


def detect(context: str) -> Distribution | None:
    """The distribution a kube context name belongs to: the names kind, k3d, minikube and Docker Desktop give."""
    if not context:
        return DISTRIBUTIONS[DEFAULT]
    for prefix in ("kind-", "k3d-"):
        if context.startswith(prefix):
            return DISTRIBUTIONS[prefix[:-1]]
    if context == "minikube":
        return DISTRIBUTIONS["minikube"]
    if context in ("docker-desktop", "docker-for-desktop"):
        return DISTRIBUTIONS["docker-desktop"]
    return None


def resolve(
    setting: str, context: str, current: Callable[[], CurrentContext] | None = None
) -> Distribution | str:
    """The distribution, or the problem text for `kubeDistribution` when it cannot be known.

    `current` finds the kubeconfig's current context when `context` is empty; without it (the
    offline render) an empty context means kind.
    """
    choices = ", ".join(sorted(DISTRIBUTIONS))
    set_it = f"set it with `pulumi config set kubeDistribution NAME` (one of {choices})"
    if setting and setting != AUTO:
        return DISTRIBUTIONS.get(setting) or f"'{setting}' is not one of {AUTO}, {choices}"
    where = ""
    if not context and current is not None:
        found_context = current()
        if not found_context.name:
            return (
                f"kubeContext is empty and {found_context.source} names no current context, so neither the "
                f"cluster nor its distribution is known: set kubeContext (`pulumi config set kubeContext NAME`), "
                f"or {set_it}"
            )
        context, where = found_context.name, f" (the current context of {found_context.source})"
    found = detect(context)
    if found is None:
        return f"cannot tell the distribution of kube context '{context}'{where} from its name: {set_it}"
    return found
