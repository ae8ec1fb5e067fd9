"""The local Kubernetes distributions the `local` stack runs on, and what differs between them.

Three things the platform needs depend on the distribution, and a value that is right for
kind is wrong elsewhere: the default StorageClass every PVC asks for, the container runtime
and socket Chaos Mesh's daemon talks to, and whether node-exporter can mount the node's root
filesystem with HostToContainer propagation (Docker Desktop's `/` is a private mount, so the
pod never starts: prometheus-community/helm-charts#467). The distribution comes from
`kubeDistribution`, or else from the kube context's name, which each tool sets the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def resolve(setting: str, context: str) -> Distribution | str:
    """The distribution, or the problem text for `kubeDistribution` when it cannot be known."""
    choices = ", ".join(sorted(DISTRIBUTIONS))
    if setting and setting != AUTO:
        return DISTRIBUTIONS.get(setting) or f"'{setting}' is not one of {AUTO}, {choices}"
    found = detect(context)
    if found is None:
        return (
            f"cannot tell the distribution of kube context '{context}' from its name: set it with "
            f"`pulumi config set kubeDistribution NAME` (one of {choices})"
        )
    return found
