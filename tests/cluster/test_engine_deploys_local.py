"""The real engine deploys the local stack: `pulumi up`, a second run, the policy pack, `pulumi destroy`.

This repository's program (a copy of it, so the stack file written by `pulumi config set` stays
out of the checkout) runs through the Pulumi CLI, the Python language host and the Kubernetes
provider `make tools` built, with a file backend and a passphrase in a temporary folder, charts
from the shared copies (`charts.folder`, as an air-gapped cluster would have them), against the
loopback API server with controllers, a scheduler and one simulated node (controlplane.py).
The steps are `sre up`'s (reliability/platform/up.py) without kubectl, which is not built here.

What differs from a user's `make up`: Grafana's admin password is set instead of generated (the
pulumi-random plugin is not served by the Go module proxy here), and no container runs. With
RAC_KUBECONFIG set (apiserver.py), the same steps run on that cluster with the Pulumi CLI on PATH
instead: the GitHub `kind` job does so on kind with the released CLI, where containers do run.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import REPO, reference
from .apiserver import ApiServer, api_server
from .controlplane import control_plane
from .engine import Pulumi, pulumi
from .kube import Kube

STACK = "local"
PROGRAM = ("Pulumi.yaml", "__main__.py", "components", "policies", "slo-specs", "stacks")
PASSWORD = "engine-test-password"
IGNORE = shutil.ignore_patterns("__pycache__", "venv", ".pulumi-state")


def copy_program(target: Path) -> Path:
    """The program's files in `target`, both runtimes pointed at this checkout's .venv."""
    target.mkdir(parents=True)
    for name in PROGRAM:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=IGNORE)
        else:
            shutil.copyfile(source, target / name)
    for config in (target / "Pulumi.yaml", target / "policies" / "PulumiPolicy.yaml"):
        document = yaml.safe_load(config.read_text())
        document["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
        config.write_text(yaml.safe_dump(document, sort_keys=False))
    return target


# The cluster-scoped kinds a chart or the program may leave behind, outside every namespace.
CLUSTER_SCOPED = (
    ("rbac.authorization.k8s.io/v1", "ClusterRole"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("v1", "PersistentVolume"), ("apiregistration.k8s.io/v1", "APIService"),
    ("scheduling.k8s.io/v1", "PriorityClass"), ("storage.k8s.io/v1", "StorageClass"),
)
# What `pulumi destroy` leaves on purpose (docs/operations.md, "Tearing an environment down"): the
# CRDs, and with them every custom resource users made, of
#   monitoring.coreos.com  the prometheus-operator-crds release marks them helm.sh/resource-policy: keep
#   chaos-mesh.org         Chaos Mesh's are in the chart's crds/ folder, which Helm never deletes
# and the APIServices the API server registers by itself for each CRD group-version it serves.
KEPT_CRD_GROUPS = ("monitoring.coreos.com", "chaos-mesh.org")


def cluster_scoped(kube: Kube) -> set[str]:
    """`Kind name` of every cluster-scoped object of CLUSTER_SCOPED's kinds."""
    return {f"{kind} {item['metadata']['name']}" for api_version, kind in CLUSTER_SCOPED
            for item in kube.list(api_version, kind)}


def kept_by_design(name: str) -> bool:
    """A CRD `plural.GROUP` or an APIService `VERSION.GROUP` of a kept group."""
    kind, _, obj = name.partition(" ")
    return kind in ("CustomResourceDefinition", "APIService") and obj.split(".", 1)[1] in KEPT_CRD_GROUPS


class Deployment:
    def __init__(self, engine: Pulumi, project: Path, kube: Kube):
        self.engine, self.project, self.kube = engine, project, kube
        self.before_up: set[str] = set()

    def run(self, *args: str, check: bool = True) -> Any:
        return self.engine.run(*args, "--stack", STACK, cwd=self.project, check=check)

    def resources(self) -> list[dict[str, Any]]:
        return self.engine.export(STACK, self.project)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    charts = reference("charts-src")
    workdir = tmp_path_factory.mktemp("engine-local")
    # A cluster of its own: the session's API server has the reference CRDs, which the stack's
    # Helm releases would refuse to adopt, as on any cluster where someone installed them by hand.
    # (On an external cluster, RAC_KUBECONFIG, it is that one: run this file on its own, first.)
    with api_server(workdir / "apiserver") as server:
        kube = Kube(server)
        kube.discover()
        with control_plane(server, kube, workdir / "control-plane"):
            yield deploy(workdir, server, kube, charts)


def deploy(workdir: Path, server: ApiServer, kube: Kube, charts: Path) -> Deployment:
    """`sre up --stack local`'s steps, with the test's settings (the module docstring says which)."""
    engine = pulumi(workdir, server)
    project = copy_program(workdir / "program")
    engine.run("stack", "select", STACK, "--create", "--secrets-provider", "passphrase", cwd=project)
    deployment = Deployment(engine, project, kube)
    deployment.run("config", "set", "reliability:kubeContext", server.context)
    deployment.run("config", "set", "reliability:kubeDistribution", "kind")
    deployment.run("config", "set", "--path", "reliability:charts.folder", str(charts))
    deployment.run("config", "set", "--secret", "reliability:grafanaAdminPassword", PASSWORD)
    deployment.before_up = cluster_scoped(kube)
    deployment.run("up", "--yes", "--skip-preview")
    kube.discover()  # the CRDs the charts installed
    return deployment


def test_up_creates_what_the_program_declares(deployment: Deployment) -> None:
    kube = deployment.kube
    for name in ("monitoring", "observability", "chaos-mesh", "k6-operator"):
        assert kube.get("v1", "Namespace", name) is not None, name
    for name in ("alertmanager-config", "alertmanager-credentials", "grafana-admin"):
        assert kube.get("v1", "Secret", name, "monitoring") is not None, name
    # A secret from the stack's encrypted config reaches the cluster, and only as a secret.
    admin = kube.get("v1", "Secret", "grafana-admin", "monitoring") or {}
    assert base64.b64decode(admin["data"]["admin-password"]) == PASSWORD.encode()
    assert PASSWORD not in (deployment.project / "stacks" / f"Pulumi.{STACK}.yaml").read_text()
    assert PASSWORD not in json.dumps(deployment.resources())
    rules = kube.list("monitoring.coreos.com/v1", "PrometheusRule", "monitoring")
    assert {"slo-checkout-api", "slo-order-worker", "slo-search-api"} <= {r["metadata"]["name"] for r in rules}
    assert kube.get("monitoring.coreos.com/v1", "Prometheus", "kps-prometheus", "monitoring") is not None
    # The charts' workloads converged as far as Kubernetes takes them (the engine and Helm waited
    # for it): every Pod scheduled on the node and Ready.
    ready = {}
    for kind, want, have in (("Deployment", "replicas", "readyReplicas"), ("StatefulSet", "replicas", "readyReplicas"),
                             ("DaemonSet", "desiredNumberScheduled", "numberReady")):
        for item in kube.list("apps/v1", kind):
            spec, status = item["spec"], item.get("status") or {}
            wanted = spec.get(want, 1) if kind != "DaemonSet" else status.get(want)
            ready[f"{kind} {item['metadata']['namespace']}/{item['metadata']['name']}"] = \
                bool(wanted) and status.get(have) == wanted
    assert {"Deployment monitoring/grafana", "Deployment monitoring/kps-operator",
            "Deployment monitoring/thanos-query", "Deployment k6-operator/k6-operator-controller-manager",
            "Deployment chaos-mesh/chaos-controller-manager", "DaemonSet chaos-mesh/chaos-daemon"} <= set(ready), ready
    assert [name for name, ok in ready.items() if not ok] == [], ready


def test_a_second_run_changes_nothing(deployment: Deployment) -> None:
    deployment.run("preview", "--expect-no-changes", "--diff")


def test_the_policy_pack_runs_in_the_engine_and_stops_a_bad_change(deployment: Deployment) -> None:
    passed = deployment.run("preview", "--policy-pack", "policies")
    assert "Policies:" in passed.stdout and "mandatory" not in passed.stdout, passed.stdout
    # Logs kept 12h, under local's 1d minimum: the pack's retention-minimums policy refuses it.
    deployment.run("config", "set", "--path", "reliability:retention.logs", "12h")
    try:
        refused = deployment.run("preview", "--policy-pack", "policies", check=False)
    finally:
        deployment.run("config", "rm", "--path", "reliability:retention.logs")
    assert refused.returncode != 0, refused.stdout
    assert "retention-minimums" in refused.stdout and "below the local minimum of 1d" in refused.stdout, \
        refused.stdout


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in state


def _shown(value: Any) -> Any:
    """State inputs as `sre render` shows them: a secret as "[secret]"."""
    if isinstance(value, dict):
        return "[secret]" if SECRET_SIG in value else {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def test_the_offline_render_registers_what_the_engine_does(deployment: Deployment, tmp_path: Path) -> None:
    """`sre render` (Pulumi's mocks) against `pulumi stack export`: the same resources, and the same
    inputs for our own Kubernetes objects. Only what the engine adds is left out: the stack, the
    default provider, and the objects the provider's helm.v4.Chart renders (tests/charts renders
    them with `helm template`)."""
    out = tmp_path / "render"
    subprocess.run([str(REPO / ".venv" / "bin" / "sre"), "render", "--stack", STACK, "--project-dir",
                    str(deployment.project), "--out", str(out)], check=True, capture_output=True, text=True)
    # The one difference in naming: under the mocks the root stack's type leads every URN's type
    # chain (`...::pulumi:pulumi:Stack$reliability:index:Platform::reliability`); the engine
    # leaves it out. URNs are compared without it.
    def urn(text: str | None) -> str | None:
        return text.replace("::pulumi:pulumi:Stack$", "::") if text else text

    rendered = {(r["type"], r["name"], urn(r["parent"])): r
                for r in json.loads((out / "resources.json").read_text())}
    engine = {}
    for r in deployment.resources():
        chain = r["urn"].split("::")[2]
        if r["type"] == "pulumi:pulumi:Stack" or r["urn"].split("::")[-1].startswith("default"):
            continue
        if "kubernetes:helm.sh/v4:Chart$" in chain:
            continue
        engine[(r["type"], r["urn"].split("::")[-1], r.get("parent"))] = r
    assert sorted(set(rendered) - set(engine), key=str) == []
    assert sorted(set(engine) - set(rendered), key=str) == []
    ours = [key for key in engine if key[0].startswith("kubernetes:") and not key[0].startswith("kubernetes:helm.sh/")]
    assert len(ours) >= 10
    for key in ours:
        registered, offline = _shown(engine[key]["inputs"]), dict(rendered[key]["inputs"])
        if key[0] == "kubernetes:core/v1:Secret":
            # The provider keeps a Secret's stringData as base64 `data`, one secret as a whole.
            assert ("data" in registered) == ("stringData" in offline), key
            registered.pop("data", None), offline.pop("stringData", None)
        assert registered == offline, key


def test_destroy_leaves_none_of_our_objects_behind(deployment: Deployment) -> None:
    """No namespace, no state, and outside the namespaces only the documented leftovers: the
    CRDs Helm keeps by design (KEPT_CRD_GROUPS) and the APIServices of their groups."""
    kube = deployment.kube
    created = cluster_scoped(kube) - deployment.before_up
    # The snapshot sees what `up` made: the charts' RBAC, CRDs and webhooks.
    assert {"ClusterRole kps-operator", "ClusterRoleBinding kps-operator", "ClusterRole grafana-clusterrole",
            "CustomResourceDefinition prometheusrules.monitoring.coreos.com",
            "CustomResourceDefinition testruns.k6.io", "APIService v1alpha1.k6.io"} <= created, sorted(created)
    assert any(name.startswith("MutatingWebhookConfiguration ") for name in created), sorted(created)
    deployment.run("destroy", "--yes", "--skip-preview")
    for name in ("monitoring", "observability", "chaos-mesh", "k6-operator"):
        assert kube.get("v1", "Namespace", name) is None, name
    assert deployment.resources() == []
    # A PersistentVolume a claim had goes when its provisioner deletes it, after the claim is gone.
    deadline = time.monotonic() + 120
    while True:
        left = sorted(name for name in cluster_scoped(kube) - deployment.before_up if not kept_by_design(name))
        if not left or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert left == []
    kept = {name for name in created if kept_by_design(name)}
    assert {name.split(" ")[0] for name in kept} == {"CustomResourceDefinition", "APIService"}
    assert kept <= cluster_scoped(kube)
