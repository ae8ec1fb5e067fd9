"""Small Kubernetes helpers shared by components: labels, namespaces, secrets."""

from __future__ import annotations

from typing import Any

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
    string_data: pulumi.Input[dict[str, Any]],
    component: str,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
) -> k8s.core.v1.Secret:
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels(component, name)),
        type="Opaque",
        string_data=string_data,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )


def service_url(service: str, namespace: str, port: int, scheme: str = "http", path: str = "") -> str:
    return (
        f"{scheme}://{service}.{namespace}.svc.cluster.local:{port}{path}"
        if scheme
        else f"{service}.{namespace}.svc.cluster.local:{port}{path}"
    )
