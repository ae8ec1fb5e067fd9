"""The rest of a cluster around the loopback API server: controllers, scheduler, one simulated node.

kube-controller-manager runs the controllers a cluster has (Deployments make ReplicaSets make
Pods, the garbage collector finishes the foreground deletes the Kubernetes provider asks for,
namespaces are emptied before they go, PersistentVolumeClaims bind); kube-scheduler places Pods;
kwok plays one node and every Pod bound to it (Running and Ready at once, a Job's Pod
Succeeded). No container ever runs: what this proves is that the objects the program creates
converge as far as Kubernetes itself takes them, not that the images start. The volumes are
PersistentVolumes made here, as a cluster's storage would provide them.

On an external cluster (RAC_KUBECONFIG, apiserver.py) nothing is added: its own controllers,
nodes and storage run the Pods, and their containers really start.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..alertmanager_proc import spawn, stop
from ..gotools import built_tool
from .apiserver import ApiServer
from .kube import Kube

NODE = "kwok-node-0"
# The local stack's storageClass on kind; the volumes below are of this class.
STORAGE_CLASS = "standard"
VOLUMES, VOLUME_SIZE = 24, "200Gi"

_STAGES = ("node-initialize.yaml", "node-heartbeat.yaml", "pod-ready.yaml", "pod-complete.yaml", "pod-delete.yaml")


def _node() -> dict[str, object]:
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "500", "ephemeral-storage": "1Ti"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": NODE, "annotations": {"kwok.x-k8s.io/node": "fake"},
                     "labels": {"kubernetes.io/hostname": NODE, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "type": "kwok"}},
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def _storage() -> list[dict[str, object]]:
    storage_class = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                     "metadata": {"name": STORAGE_CLASS}, "provisioner": "kubernetes.io/no-provisioner",
                     "volumeBindingMode": "Immediate", "reclaimPolicy": "Delete"}
    volumes = [{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"volume-{i:02d}"},
                "spec": {"capacity": {"storage": VOLUME_SIZE}, "accessModes": ["ReadWriteOnce"],
                         "storageClassName": STORAGE_CLASS, "persistentVolumeReclaimPolicy": "Retain",
                         "hostPath": {"path": f"/tmp/volume-{i:02d}"}}}
               for i in range(VOLUMES)]
    return [storage_class, *volumes]


def _wait_node_ready(kube: Kube, processes: list[tuple[str, subprocess.Popen[bytes], Path]],
                     timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process, log in processes:
            if process.poll() is not None:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                pytest.fail(f"{name} exited with {process.returncode}; log {log}:\n{tail}")
        node = kube.get("v1", "Node", NODE) or {}
        conditions = (node.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return
        time.sleep(0.5)
    pytest.fail(f"node {NODE} not Ready after {timeout:.0f}s; logs in {processes[-1][2].parent}")


@contextmanager
def control_plane(server: ApiServer, kube: Kube, workdir: Path, timeout: float = 120) -> Iterator[None]:
    """Controllers, scheduler and kwok on `server`, with one Ready node and its volumes
    (nothing on an external cluster, which has its own)."""
    if server.external:
        yield
        return
    workdir.mkdir(parents=True, exist_ok=True)
    assert server.ca is not None
    certs = server.ca.parent
    kwok = built_tool("kwok")
    stages = [str(Path(kwok).parent / name) for name in _STAGES]
    commands = {
        "kube-controller-manager": [
            built_tool("kube-controller-manager"), "--kubeconfig", str(server.kubeconfig),
            "--authentication-kubeconfig", str(server.kubeconfig),
            "--authorization-kubeconfig", str(server.kubeconfig),
            "--leader-elect=false", "--secure-port=0", "--bind-address=127.0.0.1",
            "--service-account-private-key-file", str(certs / "sa.key"),
            "--root-ca-file", str(server.ca), "--cluster-name", "reliability-tests",
            # Fast enough for a test: a node that stops heartbeating is not the subject here.
            "--concurrent-gc-syncs=10", "--concurrent-namespace-syncs=5",
        ],
        "kube-scheduler": [
            built_tool("kube-scheduler"), "--kubeconfig", str(server.kubeconfig),
            "--authentication-kubeconfig", str(server.kubeconfig),
            "--authorization-kubeconfig", str(server.kubeconfig),
            "--leader-elect=false", "--secure-port=0", "--bind-address=127.0.0.1",
        ],
        "kwok": [
            kwok, "--kubeconfig", str(server.kubeconfig), *[f"--config={stage}" for stage in stages],
            "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--cidr=10.244.0.0/16", "--node-ip=10.0.0.1",
        ],
    }
    running: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    try:
        for name, command in commands.items():
            log = workdir / f"{name}.log"
            running.append((name, spawn(command, log), log))
        for obj in [_node(), *_storage()]:
            kube.apply(obj)  # type: ignore[arg-type]
        _wait_node_ready(kube, running, timeout)
        yield
    finally:
        for _, process, _ in reversed(running):
            stop(process, grace=10)
