"""Changes users make in the first weeks on real clusters: what the program does with them.

Each test stands for a failure seen on EKS or a local cluster that mocks alone would not
show: a node group replaced by deleting the only one first, an access entry colliding with
the cluster creator's, a dev teardown stopped by BucketNotEmpty, a password rotation that
changes nothing, a Grafana upgrade stuck on its volume, kind-only local values.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
from typing import Any

import pulumi
import pytest

from components.cluster import node_group_prefix
from components.grafana import RESET_SCRIPT, password_checksum
from components.program import defaults
from reliability.platform.config import (
    OFFLINE,
    PROJECT,
    ConfigError,
    StackConfig,
    deploy_refusal,
    from_pulumi,
    parse,
)
from reliability.platform.distributions import DISTRIBUTIONS, CurrentContext, current_context
from reliability.platform.placeholders import documentation_range
from reliability.platform.render import (
    StackInput,
    _make_mocks,
    _make_monitor,
    _owned_event_loops,
    run_program,
    stack_input,
)

from .conftest import REPO, of_type, one
from .test_config import ADMIN, good

CLOUD = ("dev", "staging", "prod")


def registered(stack: str, **extra: Any) -> list[dict[str, Any]]:
    """Render `stack`'s own config with `extra` keys replaced (objects as JSON, as Pulumi passes them)."""
    base = stack_input(stack)
    values = {**base.values, **{f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in extra.items()}}
    secret_keys = set(base.secret_keys) | {f"{PROJECT}:{k}" for k in extra if k == "grafanaAdminPassword"}
    return run_program(StackInput(stack, values, secret_keys))


def chart_values(resources: list[dict[str, Any]], chart: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r["type"].startswith("kubernetes:helm.sh/") and r["inputs"]["chart"] == chart]
    return found["inputs"]["values"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ node groups


@pytest.mark.parametrize("stack", CLOUD)
def test_a_node_group_replacement_creates_the_new_group_before_deleting_the_old(stack):
    groups = of_type(stack, "aws:eks/nodeGroup:NodeGroup")
    assert groups
    for group in groups:
        # A fixed name would force delete-then-create: two groups cannot share a name.
        assert "nodeGroupName" not in group["inputs"], group["name"]
        assert group["inputs"]["nodeGroupNamePrefix"] == f"reliability-{stack}-system-"
        assert group["options"]["deleteBeforeReplace"] is False


def test_the_prefix_leaves_room_for_the_unique_suffix_eks_names_allow():
    # 63 characters in all, 26 of them the provider's suffix.
    long = node_group_prefix("a-cluster-name-of-forty-characters-ab", "system")
    assert len(long) == 37 and long.startswith("a-cluster-name-of-forty-characters-ab"[:30])
    assert node_group_prefix("reliability-dev", "system") == "reliability-dev-system-"


# ------------------------------------------------------------------ access entries


@pytest.mark.parametrize("stack", CLOUD)
def test_every_admin_is_one_explicit_access_entry_and_the_creator_gets_none(stack):
    (cluster,) = of_type(stack, "aws:eks/cluster:Cluster")
    assert cluster["inputs"]["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    # A running cluster keeps the setting it was created with rather than being replaced.
    assert "accessConfig.bootstrapClusterCreatorAdminPermissions" in cluster["options"]["ignoreChanges"]
    entries = sorted(e["inputs"]["principalArn"] for e in of_type(stack, "aws:eks/accessEntry:AccessEntry"))
    cfg, _ = parse(stack, stack_input(stack).values, stack_input(stack).secret_keys, defaults())
    assert entries == sorted(cfg.cluster.admin_arns) and entries


@pytest.mark.parametrize(
    ("arns", "message"),
    [
        ([], "reliability:cluster.adminArns: required for dev"),
        ([ADMIN, ADMIN], "reliability:cluster.adminArns: lists a principal twice: each gets one access entry"),
    ],
)
def test_admins_must_be_listed_once_each(arns, message):
    values = good("dev", cluster={"region": "eu-west-1", "adminArns": arns})
    with pytest.raises(ConfigError) as info:
        parse("dev", values, frozenset(), defaults())
    assert any(p.startswith(message) for p in info.value.problems), info.value.problems


# ------------------------------------------------------------------ teardown


@pytest.mark.parametrize(("stack", "forced"), [("dev", True), ("staging", False), ("prod", False)])
def test_only_unprotected_buckets_are_emptied_on_destroy(stack, forced):
    buckets = of_type(stack, "aws:s3/bucket:Bucket")
    assert len(buckets) == 3
    for bucket in buckets:
        assert bucket["inputs"]["forceDestroy"] is forced, bucket["name"]
        assert bucket["options"]["protect"] is not forced


# ------------------------------------------------------------------ Grafana


def test_a_new_admin_password_rolls_grafana_and_resets_the_stored_one():
    before = chart_values(registered("local", grafanaAdminPassword="first-password-1"), "grafana")
    after = chart_values(registered("local", grafanaAdminPassword="second-password-2"), "grafana")
    key = "reliability-as-code/admin-password-checksum"
    assert before["podAnnotations"][key] == password_checksum("first-password-1")
    assert after["podAnnotations"][key] == password_checksum("second-password-2")
    assert before["podAnnotations"][key] != after["podAnnotations"][key]
    # Nothing else changes: the rotation is the only reason for the rollout.
    assert {k: v for k, v in before.items() if k != "podAnnotations"} == {
        k: v for k, v in after.items() if k != "podAnnotations"
    }
    (init,) = after["extraInitContainers"]
    assert init["command"] == ["sh", "-c", RESET_SCRIPT]
    assert "admin reset-admin-password --password-from-stdin" in RESET_SCRIPT
    assert {"name": "storage", "mountPath": "/var/lib/grafana"} in init["volumeMounts"]
    env = {e["name"]: e for e in init["env"]}
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "grafana-admin", "key": "admin-password"}
    }


def test_the_checksum_does_not_give_the_password_away():
    import hashlib

    value = password_checksum("hunter2")
    assert "hunter2" not in value
    assert value not in hashlib.sha256(b"hunter2").hexdigest()
    assert password_checksum("hunter2") == value  # stable: no diff on a second run


@pytest.mark.parametrize("stack", ("local", "dev", "staging", "prod"))
def test_grafana_replaces_its_pod_before_the_readwriteonce_volume_moves(stack):
    values = chart_values(registered(stack), "grafana")
    assert values["persistence"]["accessModes"] == ["ReadWriteOnce"]
    assert values["deploymentStrategy"] == {"type": "Recreate"}


# ------------------------------------------------------------------ local distributions


@pytest.mark.parametrize(
    ("context", "storage_class", "runtime", "socket", "root_fs"),
    [
        ("kind-kind", "standard", "containerd", "/run/containerd/containerd.sock", True),
        ("k3d-dev", "local-path", "containerd", "/run/k3s/containerd/containerd.sock", True),
        ("minikube", "standard", "docker", "/var/run/docker.sock", True),
        ("docker-desktop", "hostpath", "docker", "/var/run/docker.sock", False),
    ],
)
def test_each_local_distribution_gets_its_own_storage_runtime_and_mounts(context, storage_class, runtime, socket, root_fs):
    resources = registered("local", kubeContext=context)
    chaos = chart_values(resources, "chaos-mesh")["chaosDaemon"]
    assert (chaos["runtime"], chaos["socketPath"]) == (runtime, socket)
    kps = chart_values(resources, "kube-prometheus-stack")
    assert kps["prometheus-node-exporter"]["hostRootFsMount"] == {"enabled": root_fs}
    assert chart_values(resources, "grafana")["persistence"]["storageClassName"] == storage_class
    claims = kps["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claims["storageClassName"] == storage_class


def test_a_named_distribution_wins_over_the_context_and_the_stack_file_wins_over_both():
    cfg, _ = parse("local", good("local", kubeContext="my-laptop", kubeDistribution="k3d"), frozenset(), defaults())
    assert cfg.distribution.name == "k3d" and cfg.storage.storage_class == "local-path"
    cfg, _ = parse(
        "local", good("local", kubeContext="k3d-x", storage={"storageClass": "fast"}), frozenset(), defaults()
    )
    assert cfg.storage.storage_class == "fast" and cfg.distribution.runtime == "containerd"


@pytest.mark.parametrize(
    ("values", "stack", "message"),
    [
        (
            good("local", kubeContext="my-laptop"),
            "local",
            "reliability:kubeDistribution: cannot tell the distribution of kube context 'my-laptop' from its "
            "name: set it with `pulumi config set kubeDistribution NAME` (one of docker-desktop, k3d, kind, minikube)",
        ),
        (
            good("local", kubeDistribution="microk8s"),
            "local",
            "reliability:kubeDistribution: 'microk8s' is not one of auto, docker-desktop, k3d, kind, minikube",
        ),
        (good("dev", kubeDistribution="kind"), "dev", "reliability:kubeDistribution: only used by local; dev runs on EKS"),
    ],
)
def test_a_distribution_that_cannot_be_known_is_an_error(values, stack, message):
    with pytest.raises(ConfigError) as info:
        parse(stack, values, frozenset(), defaults())
    assert info.value.problems == [message]


def kubeconfig(path: Any, current: str | None) -> str:
    path.write_text(f"apiVersion: v1\nkind: Config\ncurrent-context: {current}\n" if current else "kind: Config\n")
    return str(path)


def deploy_config() -> StackConfig:
    """The config as `pulumi up` reads it (not the offline render), in a context and event loop of its own."""

    def run() -> StackConfig:
        with _owned_event_loops():  # from_pulumi makes secret Outputs
            return from_pulumi(defaults())

    return contextvars.Context().run(run)


def test_the_current_context_is_read_as_kubectl_reads_it(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    assert current_context({}, home) == CurrentContext("", str(home / ".kube" / "config"))
    kubeconfig(home / ".kube" / "config", "kind-kind")
    assert current_context({}, home) == CurrentContext("kind-kind", str(home / ".kube" / "config"))
    # KUBECONFIG wins over ~/.kube/config; of its files the first that names a current context.
    first, second = kubeconfig(tmp_path / "a", None), kubeconfig(tmp_path / "b", "k3d-dev")
    listed = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "missing"), first, second])}
    assert current_context(listed, home) == CurrentContext("k3d-dev", second)
    assert current_context({"KUBECONFIG": first}, home) == CurrentContext("", "KUBECONFIG")


@pytest.mark.parametrize(("current", "distribution", "problem"), [
    ("k3d-dev", "k3d", None),
    ("docker-desktop", "docker-desktop", None),
    ("my-laptop", None, "reliability:kubeDistribution: cannot tell the distribution of kube context 'my-laptop' "
                        "(the current context of CONFIG) from its name: set it with `pulumi config set "
                        "kubeDistribution NAME` (one of docker-desktop, k3d, kind, minikube)"),
    (None, None, "reliability:kubeDistribution: kubeContext is empty and CONFIG names no current context, so "
                 "neither the cluster nor its distribution is known: set kubeContext (`pulumi config set "
                 "kubeContext NAME`), or set it with `pulumi config set kubeDistribution NAME` (one of "
                 "docker-desktop, k3d, kind, minikube)"),
])
def test_a_deploy_without_kube_context_reads_the_distribution_of_the_current_context(
    tmp_path, monkeypatch, current, distribution, problem
):
    """The provider deploys to the kubeconfig's current context; the values must be built for it."""
    config = kubeconfig(tmp_path / "config", current)
    monkeypatch.setenv("KUBECONFIG", config)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({f"{PROJECT}:environment": "local"}))
    if problem is None:
        assert deploy_config().distribution == DISTRIBUTIONS[distribution]
    else:
        with pytest.raises(pulumi.RunError) as info:
            deploy_config()
        source = config if current else "KUBECONFIG"
        assert problem.replace("CONFIG", source) in str(info.value)
    # A named context or distribution needs no kubeconfig; the offline render builds for kind.
    assert parse("local", good("local", kubeDistribution="minikube"), frozenset(), defaults(),
                 lambda: CurrentContext("", "nowhere"))[0].distribution == DISTRIBUTIONS["minikube"]
    assert parse("local", good("local"), frozenset(), defaults())[0].distribution == DISTRIBUTIONS["kind"]


# ------------------------------------------------------------------ placeholders


def test_documentation_networks_and_example_accounts_are_refused_in_a_real_stack():
    cluster = {
        "region": "eu-west-1",
        "adminArns": [ADMIN, "arn:aws:iam::123456789012:role/admin"],
        "publicAccessCidrs": ["10.1.0.0/16", "203.0.113.0/24", "198.51.100.7/32"],
    }
    with pytest.raises(ConfigError) as info:
        parse("dev", good("dev", cluster=cluster), frozenset(), defaults())
    mark = "or, if this stack only documents a layout, mark it `reliability:example: true`"
    assert info.value.problems == [
        "reliability:cluster.adminArns[1]: 123456789012 is an example account id: use the ARNs of your "
        f"account's admin and deploy roles, {mark}",
        "reliability:cluster.publicAccessCidrs[1]: 203.0.113.0/24 is in the documentation range "
        "203.0.113.0/24 (TEST-NET-3), which no one connects from: list the networks your admins and CI "
        f"reach the API from, {mark}",
        "reliability:cluster.publicAccessCidrs[2]: 198.51.100.7/32 is in the documentation range "
        "198.51.100.0/24 (TEST-NET-2), which no one connects from: list the networks your admins and CI "
        f"reach the API from, {mark}",
    ]
    cfg, _ = parse("dev", good("dev", cluster=cluster, example="true"), frozenset(), defaults())
    assert cfg.example is True


@pytest.mark.parametrize("stack", CLOUD)
def test_the_committed_cloud_stacks_are_marked_as_examples(stack):
    values = dict(stack_input(stack).values)
    assert values.pop(f"{PROJECT}:example") == "true"
    with pytest.raises(ConfigError) as info:
        parse(stack, values, stack_input(stack).secret_keys, defaults())
    assert all("example" in p for p in info.value.problems) and info.value.problems


def test_an_example_stack_is_rendered_but_never_deployed():
    cfg, _ = parse("dev", stack_input("dev").values, stack_input("dev").secret_keys, defaults())
    refusal = deploy_refusal(cfg, offline=False)
    assert refusal and refusal.startswith(
        "stack 'dev' is an example (reliability:example: true): its cluster settings are placeholders"
    )
    assert "so it is neither previewed nor deployed" in refusal  # deploy_refusal holds in any engine run
    assert "stacks/Pulumi.dev.yaml" in refusal
    assert deploy_refusal(cfg, offline=True) is None
    local, _ = parse("local", good("local", example="true"), frozenset(), defaults())
    assert deploy_refusal(local, offline=False) is None  # nothing in local is a placeholder
    # The offline render marks its own context, so the example renders (and nothing else sees the mark).
    assert one("dev", "aws:eks/cluster:Cluster", "reliability-cluster-eks")
    assert OFFLINE.get() is False


# ------------------------------------------------------------------ Secrets


@pytest.mark.parametrize("stack", ("local", "dev", "staging", "prod"))
def test_our_fixed_name_secrets_are_updated_in_place_not_deleted_first(stack):
    """A routing change must not delete `alertmanager-config` before its replacement exists.

    pulumi-kubernetes replaces a Secret whose data changes unless its provider sets
    `enableSecretMutable` (pulumi/pulumi-kubernetes#3164), and a Secret marked `immutable` is
    replaced even then; with a fixed metadata.name a replacement deletes first.
    """
    providers = {p["urn"]: p for p in of_type(stack, "pulumi:providers:kubernetes")}
    secrets = {s["inputs"]["metadata"]["name"]: s for s in of_type(stack, "kubernetes:core/v1:Secret")}
    expected = {"alertmanager-config", "alertmanager-credentials", "grafana-admin"}
    if stack != "local":
        expected.add("thanos-objstore")
    assert set(secrets) == expected
    for name, secret in secrets.items():
        assert "immutable" not in secret["inputs"], name
        provider = providers[secret["options"]["provider"]]
        assert provider["inputs"]["enableSecretMutable"] == "true", name
        assert provider["inputs"]["enableServerSideApply"] == "true", name


def test_the_readme_says_how_to_tear_down_each_environment():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Tearing a stack down", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")][2:]  # no header
    stacks = [name.strip() for row in rows for name in row[0].split(",")]
    assert stacks == ["local", "dev", "staging", "prod"]
    assert all("pulumi destroy" in row[1] for row in rows)
    assert "docs/operations.md#tearing-an-environment-down" in section


# ------------------------------------------------------------------ teardown: volumes and logs


@pytest.mark.parametrize(("stack", "when_deleted"),
                         [("local", "Delete"), ("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")])
def test_volume_claims_go_with_their_statefulsets_only_where_data_is_unprotected(stack, when_deleted):
    """Claims of a deleted StatefulSet stay by default, and their EBS volumes with them."""
    resources = registered(stack)
    policy = {"whenDeleted": when_deleted, "whenScaled": "Retain"}
    kps = chart_values(resources, "kube-prometheus-stack")
    assert kps["prometheus"]["prometheusSpec"]["persistentVolumeClaimRetentionPolicy"] == policy
    assert kps["alertmanager"]["alertmanagerSpec"]["persistentVolumeClaimRetentionPolicy"] == policy
    loki = chart_values(resources, "loki")["singleBinary"]["persistence"]
    assert (loki["enableStatefulSetAutoDeletePVC"], loki["whenDeleted"], loki["whenScaled"]) == (
        True, when_deleted, "Retain")
    # Tempo's chart knows one policy, Delete on both, or none (claims retained).
    assert chart_values(resources, "tempo")["persistence"]["enableStatefulSetAutoDeletePVC"] is (
        when_deleted == "Delete")
    thanos = chart_values(resources, "thanos")
    for part in ("storeGateway", "compact"):
        if stack == "local":
            assert "persistence" not in thanos[part]  # no bucket: neither runs
            continue
        persistence = thanos[part]["persistence"]
        assert (persistence["retainDeleted"], persistence["retainScaled"]) == (when_deleted == "Retain", True)


@pytest.mark.parametrize(("stack", "days", "kept"), [("dev", 7, False), ("staging", 90, True), ("prod", 365, True)])
def test_the_control_plane_log_group_is_the_stacks_own_and_exists_before_the_cluster(stack, days, kept):
    resources = registered(stack)
    (group,) = [r for r in resources if r["type"] == "aws:cloudwatch/logGroup:LogGroup"]
    (cluster,) = [r for r in resources if r["type"] == "aws:eks/cluster:Cluster"]
    # The name EKS writes to: with it in place first, EKS does not create its own (never expiring) one.
    assert group["inputs"]["name"] == f"/aws/eks/{cluster['inputs']['name']}/cluster"
    assert group["inputs"]["retentionInDays"] == days
    assert group["urn"] in cluster["options"]["dependsOn"]
    assert (group["options"]["protect"], group["options"]["retainOnDelete"]) == (kept, kept)


@pytest.mark.parametrize(("days", "problem"), [
    (30, None),
    (10, "reliability:cluster.logRetentionDays: 10 is not a retention CloudWatch Logs offers: use one of 1, 3, 5, 7, "
         "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"),
])
def test_the_log_retention_is_one_cloudwatch_offers(days, problem):
    values = good("dev", cluster={"region": "eu-west-1", "adminArns": [ADMIN], "logRetentionDays": days})
    if problem is None:
        cfg, _ = parse("dev", values, frozenset(), defaults())
        assert cfg.cluster.log_retention_days == days
        return
    with pytest.raises(ConfigError) as info:
        parse("dev", values, frozenset(), defaults())
    assert info.value.problems == [problem]


@pytest.mark.parametrize(("cidr", "refused"), [
    ("198.0.0.0/8", None),  # holds TEST-NET-2, but is a real network
    ("192.0.0.0/16", None),  # holds TEST-NET-1
    ("203.0.0.0/12", None),
    ("203.0.113.0/24", "203.0.113.0/24 (TEST-NET-3)"),
    ("203.0.113.128/25", "203.0.113.0/24 (TEST-NET-3)"),
    ("192.0.2.1/32", "192.0.2.0/24 (TEST-NET-1)"),
])
def test_only_networks_inside_a_documentation_range_are_refused(cidr, refused):
    assert documentation_range(cidr) == refused
    cluster = {"region": "eu-west-1", "adminArns": [ADMIN], "publicAccessCidrs": [cidr]}
    if refused is None:
        cfg, _ = parse("dev", good("dev", cluster=cluster), frozenset(), defaults())
        assert cfg.cluster.public_access_cidrs == [cidr]
    else:
        with pytest.raises(ConfigError) as info:
            parse("dev", good("dev", cluster=cluster), frozenset(), defaults())
        assert info.value.problems[0].startswith(
            f"reliability:cluster.publicAccessCidrs[0]: {cidr} is in the documentation range {refused}, which no one")


# ------------------------------------------------------------------ the deploying principal


DEPLOYER = "arn:aws:iam::210987654320:role/ci/deploy"


@pytest.mark.parametrize(("caller", "warning"), [
    ("arn:aws:sts::210987654320:assumed-role/deploy/gha-1234", None),  # the role, whatever its path
    ("arn:aws:sts::210987654320:assumed-role/other/me",
     "arn:aws:sts::210987654320:assumed-role/other/me runs this deployment but is not in "
     "reliability:cluster.adminArns: the cluster gives its creator no access of its own, so once it exists every "
     "Kubernetes resource of the stack fails with Unauthorized. Add arn:aws:iam::210987654320:role/other (with the "
     "role's path, if it has one) to cluster.adminArns"),
    ("arn:aws:sts::999999999998:assumed-role/deploy/x", "Add arn:aws:iam::999999999998:role/deploy (with"),
    ("arn:aws:iam::210987654320:user/ana", "Add arn:aws:iam::210987654320:user/ana to cluster.adminArns"),
    ("arn:aws:iam::210987654320:root", "Add the ARN of a role you assume (not the root user) to"),
])
def test_a_deploy_by_a_principal_without_an_access_entry_is_warned_before_anything_is_created(
    caplog, caller, warning
):
    class Caller(type(_make_mocks())):  # type: ignore[misc]
        def call(self, args):
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
                return {"arn": caller, "accountId": caller.split(":")[4], "userId": "AIDA", "id": "x"}, []
            return super().call(args)

    # The dev stack made real: its own networks and admins instead of the placeholders.
    base = stack_input("dev")
    cluster = {**json.loads(base.values[f"{PROJECT}:cluster"]), "adminArns": [ADMIN, DEPLOYER],
               "publicAccessCidrs": ["10.1.0.0/16"]}
    values = {k: v for k, v in base.values.items() if k != f"{PROJECT}:example"}
    values[f"{PROJECT}:cluster"] = json.dumps(cluster)
    with caplog.at_level(logging.WARNING):
        run_program(StackInput("dev", values, base.secret_keys), _make_monitor(Caller()), offline=False)
    warned = [r.getMessage() for r in caplog.records if "reliability:cluster.adminArns" in r.getMessage()]
    if warning is None:
        assert warned == []
    else:
        assert len(warned) == 1 and warning in warned[0], warned


def test_the_offline_render_asks_no_one_who_runs_it():
    # The render's mocks answer no getCallerIdentity: the lookup is made by deploys only.
    assert one("dev", "aws:eks/cluster:Cluster", "reliability-cluster-eks")
