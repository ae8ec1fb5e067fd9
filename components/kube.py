"""Small Kubernetes helpers shared by components: labels, namespaces, secrets."""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "reliability-as-code"
MANAGED_BY = "pulumi"


def labels(component: str, name: str | None = None) -> dict[str, str]:
    """app.kubernetes.io labels of objects we create (no version label: selectors survive upgrades)."""
    out = {
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": PART_OF,
    }
    if name:
        out["app.kubernetes.io/name"] = name
    return out


def provider(
    resource_name: str, parent: pulumi.Resource, depends_on: list[pulumi.Resource] | None = None, **target: Any
) -> k8s.Provider:
    """The Kubernetes provider every object of the stack goes through; `target` says which cluster.

    Secrets are mutable (`enableSecretMutable`, pulumi/pulumi-kubernetes#3164; 4.34 has it): by
    default the provider replaces a Secret whose data changes, and our Secrets have fixed names
    (the Alertmanager CR, the Grafana chart and Thanos name them), so every replacement deletes the
    old Secret before creating the new one. For `alertmanager-config` that is a window in which the
    operator sees no config, on every routing change. Updated in place, the operator reloads the new
    config, mounted Secrets (Alertmanager's credentials) are refreshed by the kubelet, and what reads
    a Secret only at start rolls on a checksum of its data (Grafana's admin password). A change of
    `type` still replaces (Kubernetes forbids it in place).
    """
    return k8s.Provider(
        resource_name,
        enable_server_side_apply=True,
        enable_secret_mutable=True,
        **target,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )


def claim_retention(protect: bool) -> dict[str, str]:
    """A StatefulSet's `persistentVolumeClaimRetentionPolicy`: what happens to its volume claims.

    Kubernetes keeps the claims of a deleted StatefulSet by default, and with them their volumes
    (EBS volumes that outlive `pulumi destroy`). Where data is not protected (local, dev) they go
    with the StatefulSet; in staging and prod they stay. Scaling down keeps them everywhere, so
    scaling up again finds the data. Kubernetes 1.27 or later (on by default, GA in 1.32).
    """
    return {"whenDeleted": "Retain" if protect else "Delete", "whenScaled": "Retain"}


def namespace(
    name: str, resource_name: str, pod_security: str, parent: pulumi.Resource
) -> k8s.core.v1.Namespace:
    """A namespace with its Pod Security Admission level (node agents need `privileged`)."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            labels={
                **labels("namespace", name),
                "pod-security.kubernetes.io/enforce": pod_security,
                "pod-security.kubernetes.io/warn": pod_security,
            },
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def secret(
    resource_name: str,
    name: str,
    namespace: pulumi.Input[str],
    string_data: pulumi.Output[dict[str, Any]] | None,
    component: str,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
) -> k8s.core.v1.Secret:
    """A Secret whose data must already be a Pulumi secret; None for one that has no data yet.

    No data is no `stringData` at all: the provider stores an empty one as absent, so sending it
    again showed it added and replaced the Secret on every `pulumi up` (seen with the real engine).

    The Kubernetes SDK marks every Secret's data secret, so neither a preview nor
    the policy pack can tell a value that came from encrypted config from one read
    from plain config or written in code. The data is checked here instead; data
    without any credential says so at the call site with `pulumi.Output.secret(...)`.
    """
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels(component, name)),
        type="Opaque",
        string_data=None if string_data is None else _secret_only(resource_name, string_data),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )


def _secret_only(resource_name: str, data: Any) -> pulumi.Output[dict[str, Any]]:
    fix = (f"Secret {resource_name}: its data is not a Pulumi secret (plain config or a literal): read "
           "credentials from encrypted config (`pulumi config set --secret`) and pass them as Pulumi secrets")
    if not isinstance(data, pulumi.Output):
        raise pulumi.RunError(fix)

    def checked(pair: list[Any]) -> dict[str, Any]:
        is_secret, value = pair
        if not is_secret:
            raise pulumi.RunError(fix)
        return value  # type: ignore[no-any-return]

    is_secret = pulumi.Output.from_input(cast(Any, data.is_secret()))
    return pulumi.Output.all(is_secret, data).apply(checked)


def service_url(service: str, namespace: str, port: int, scheme: str = "http", path: str = "") -> str:
    return (
        f"{scheme}://{service}.{namespace}.svc.cluster.local:{port}{path}"
        if scheme
        else f"{service}.{namespace}.svc.cluster.local:{port}{path}"
    )


def apply(resource_name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """A Kubernetes object written as a manifest (the compiler's output), as its typed Pulumi resource.

    Kinds without a class here are custom resources (TestRun, Workflow, Schedule, ...).
    """
    meta = k8s.meta.v1.ObjectMetaArgs(**obj["metadata"])
    kind, api = obj["kind"], obj["apiVersion"]
    if (api, kind) == ("v1", "ConfigMap"):
        return k8s.core.v1.ConfigMap(resource_name, metadata=meta, data=obj.get("data"), opts=opts)
    if (api, kind) == ("v1", "ServiceAccount"):
        return k8s.core.v1.ServiceAccount(resource_name, metadata=meta, opts=opts)
    if (api, kind) == ("v1", "Service"):
        return k8s.core.v1.Service(resource_name, metadata=meta, spec=obj["spec"], opts=opts)
    if (api, kind) == ("apps/v1", "Deployment"):
        return k8s.apps.v1.Deployment(resource_name, metadata=meta, spec=obj["spec"], opts=opts)
    if (api, kind) == ("batch/v1", "CronJob"):
        return k8s.batch.v1.CronJob(resource_name, metadata=meta, spec=obj["spec"], opts=opts)
    if (api, kind) == ("rbac.authorization.k8s.io/v1", "Role"):
        return k8s.rbac.v1.Role(resource_name, metadata=meta, rules=obj["rules"], opts=opts)
    if (api, kind) == ("rbac.authorization.k8s.io/v1", "RoleBinding"):
        return k8s.rbac.v1.RoleBinding(resource_name, metadata=meta, role_ref=obj["roleRef"],
                                       subjects=obj["subjects"], opts=opts)
    if api.startswith("v1") or "/" not in api or api.split("/")[0] in ("apps", "batch", "rbac.authorization.k8s.io"):
        raise ValueError(f"no typed resource for {api} {kind}: add it to kube.apply")
    return k8s.apiextensions.CustomResource(resource_name, api_version=api, kind=kind, metadata=meta,
                                            spec=obj.get("spec"), opts=opts)
