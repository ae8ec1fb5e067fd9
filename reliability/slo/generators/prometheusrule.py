"""The same rule groups wrapped as prometheus-operator `PrometheusRule` objects."""

from __future__ import annotations

import re
from typing import Any

from .. import naming
from ..model import Service

PART_OF = "reliability-as-code"
DEFAULT_NAMESPACE = "monitoring"


def label_value(text: str) -> str:
    """A valid Kubernetes label value (63 chars, alphanumeric at both ends)."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:63].strip("-._")
    return value


def prometheus_rule(service: Service, rules: dict[str, Any], namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": naming.k8s_name("slo", service.name),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/component": "slo-rules",
                "app.kubernetes.io/managed-by": "sre",
                "app.kubernetes.io/part-of": PART_OF,
                "slo.reliability-as-code.dev/service": label_value(service.name),
                "slo.reliability-as-code.dev/team": label_value(service.team),
            },
        },
        "spec": rules,
    }
