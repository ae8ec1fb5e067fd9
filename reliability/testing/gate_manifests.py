"""The SLO gate in the cluster: this package's stdlib-only gate.py in a pinned upstream Python image.

No image of our own to build or trust: the script is mounted from a ConfigMap, and
a change to it rolls the pods (its hash is a pod annotation).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..slo.generators.endpoints import GATE_NAME, GATE_PORT, images

SCRIPT = Path(__file__).with_name("gate.py")


def gate_manifests(namespace: str, prometheus_url: str) -> list[dict[str, Any]]:
    """ConfigMap, Deployment and Service of the SLO gate, reading `prometheus_url`."""
    script = SCRIPT.read_text(encoding="utf-8")
    labels = {"app.kubernetes.io/name": GATE_NAME, "app.kubernetes.io/part-of": "reliability-as-code",
              "app.kubernetes.io/managed-by": "sre"}
    selector = {"app.kubernetes.io/name": GATE_NAME}
    meta = {"name": GATE_NAME, "namespace": namespace, "labels": labels}
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"gate.py": script}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels, "annotations": {
                    "slo.reliability-as-code.dev/gate-sha256": hashlib.sha256(script.encode()).hexdigest()}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "gate",
                        "image": images()["python"],
                        "command": ["python", "/app/gate.py", "serve", "--prometheus", prometheus_url,
                                    "--port", str(GATE_PORT)],
                        "env": [{"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
                                {"name": "PYTHONUNBUFFERED", "value": "1"}],
                        "ports": [{"name": "http", "containerPort": GATE_PORT}],
                        "readinessProbe": probe,
                        "livenessProbe": probe,
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "script", "mountPath": "/app", "readOnly": True}],
                    }],
                    "volumes": [{"name": "script", "configMap": {"name": GATE_NAME}}],
                },
            },
        }},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {
            "selector": selector, "ports": [{"name": "http", "port": GATE_PORT, "targetPort": "http"}]}},
    ]
