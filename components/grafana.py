"""Grafana: Thanos Query, Loki and Tempo as linked datasources, dashboards from ConfigMaps.

Links: exemplars on metrics open the trace in Tempo, `trace_id` in a log line opens
the trace, a span opens its logs (traces-to-logs), Tempo's service map reads the
span metrics in Prometheus. The sidecar loads every ConfigMap labelled
`grafana_dashboard` in any namespace into the folder named by its
`grafana_folder` annotation. The admin password is a Pulumi secret (config
`grafanaAdminPassword`, or generated) in a Secret the chart reads.

Grafana reads the admin password from its environment only when it first creates its
database; after that a new password in the Secret changes nothing. So the pod carries a
checksum of the password (a change rolls it) and an init container that resets the admin
password in the existing database to the Secret's value before Grafana starts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from reliability.platform.config import StackConfig

from . import helm, kube

RELEASE = "grafana"
ADMIN_SECRET = "grafana-admin"
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"  # what kube-prometheus-stack's dashboards carry too
FOLDER_ANNOTATION = "grafana_folder"
PASSWORD_ANNOTATION = "reliability-as-code/admin-password-checksum"
DATA_DIR = "/var/lib/grafana"
# Runs before Grafana in every new pod; on the first start there is no database yet and
# Grafana creates the admin from GF_SECURITY_ADMIN_PASSWORD itself.
RESET_SCRIPT = (
    f'if [ -f {DATA_DIR}/grafana.db ]; then printf %s "$GF_SECURITY_ADMIN_PASSWORD" | '
    "grafana cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini "
    "admin reset-admin-password --password-from-stdin; fi"
)


def password_checksum(password: str) -> str:
    """Rolls the pod when the password changes; a slow salted hash, since pod annotations are widely readable."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), b"reliability-as-code/grafana-admin", 200_000)
    return digest.hex()[:32]


def reset_admin_container(cfg: StackConfig) -> dict[str, Any]:
    """An init container (the chart's image, through its `tpl`) that applies the Secret's password."""
    return {
        "name": "reset-admin-password",
        "image": "{{ .Values.image.registry }}/{{ .Values.image.repository }}:"
        "{{ .Values.image.tag | default .Chart.AppVersion }}",
        "command": ["sh", "-c", RESET_SCRIPT],
        "env": [
            {
                "name": "GF_SECURITY_ADMIN_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET, "key": "admin-password"}},
            },
            {"name": "GF_PATHS_DATA", "value": DATA_DIR},
        ],
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/grafana/grafana.ini", "subPath": "grafana.ini"},
            {"name": "storage", "mountPath": DATA_DIR},
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "runAsUser": 472,
            "runAsGroup": 472,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": cfg.resources.grafana.as_k8s(),
    }


def datasources(thanos_query: str, loki: str, tempo: str) -> dict[str, Any]:
    """Provisioning file; `$$` escapes Grafana's own env expansion of `${__value.raw}`."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Thanos",
                "type": "prometheus",
                "uid": "prometheus",
                "url": thanos_query,
                "access": "proxy",
                "isDefault": True,
                "jsonData": {
                    "httpMethod": "POST",
                    "prometheusType": "Thanos",
                    "exemplarTraceIdDestinations": [{"name": "trace_id", "datasourceUid": "tempo"}],
                },
            },
            {
                "name": "Loki",
                "type": "loki",
                "uid": "loki",
                "url": loki,
                "access": "proxy",
                "jsonData": {
                    "derivedFields": [
                        {
                            "name": "TraceID",
                            "matcherType": "label",
                            "matcherRegex": "trace_id",
                            "datasourceUid": "tempo",
                            "url": "$${__value.raw}",
                            "urlDisplayLabel": "View trace",
                        }
                    ]
                },
            },
            {
                "name": "Tempo",
                "type": "tempo",
                "uid": "tempo",
                "url": tempo,
                "access": "proxy",
                "jsonData": {
                    "tracesToLogsV2": {
                        "datasourceUid": "loki",
                        "spanStartTimeShift": "-5m",
                        "spanEndTimeShift": "5m",
                        "filterByTraceID": True,
                        "tags": [{"key": "service.name", "value": "service_name"}],
                    },
                    "serviceMap": {"datasourceUid": "prometheus"},
                    "nodeGraph": {"enabled": True},
                    "lokiSearch": {"datasourceUid": "loki"},
                },
            },
        ],
    }


def grafana_values(
    cfg: StackConfig, thanos_query: str, loki: str, tempo: str, checksum: pulumi.Input[str] = ""
) -> dict[str, Any]:
    return {
        "admin": {"existingSecret": ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
        "podAnnotations": {PASSWORD_ANNOTATION: checksum},
        "extraInitContainers": [reset_admin_container(cfg)],
        # One ReadWriteOnce volume: a rolling update's new pod waits for the old pod's volume,
        # which never detaches while the old pod runs (a deadlock once the two land on
        # different nodes). Recreate stops the old pod first.
        "deploymentStrategy": {"type": "Recreate"},
        "datasources": {"datasources.yaml": datasources(thanos_query, loki, tempo)},
        "sidecar": {
            "dashboards": {
                "enabled": True,
                "label": DASHBOARD_LABEL,
                "labelValue": DASHBOARD_LABEL_VALUE,
                "folderAnnotation": FOLDER_ANNOTATION,
                "searchNamespace": "ALL",
                "provider": {"foldersFromFilesStructure": True},
            },
            "resources": cfg.resources.grafana_sidecar.as_k8s(),
        },
        "persistence": {
            "enabled": True,
            "size": cfg.volumes.grafana,
            "storageClassName": cfg.storage.storage_class,
            "accessModes": ["ReadWriteOnce"],
            # Otherwise the PVC gains spec.volumeName after binding: a diff on every run.
            "lookupVolumeName": False,
        },
        # Runs as root; the pod's fsGroup already makes the volume writable.
        "initChownData": {"enabled": False},
        "resources": cfg.resources.grafana.as_k8s(),
        "testFramework": {"enabled": False},
        "grafana.ini": {
            "analytics": {"reporting_enabled": False, "check_for_updates": False},
            # Grafana's defaults, said out loud so a change is a visible diff (policy grafana-hardened).
            "auth.anonymous": {"enabled": False},
            "users": {"allow_sign_up": False},
            # Secure cookies wherever Grafana sits behind TLS; local is reached over plain http.
            "security": {
                "allow_embedding": False,
                "cookie_samesite": "lax",
                "cookie_secure": cfg.environment != "local",
            },
        },
    }


@dataclass(frozen=True)
class GrafanaArgs:
    config: StackConfig
    namespace: str
    thanos_query: str
    loki: str
    tempo: str
    depends_on: tuple[pulumi.Resource, ...] = ()


class Server(pulumi.ComponentResource):
    admin_password: pulumi.Output[str]
    url: str

    def __init__(self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:grafana:Server", name, None, opts)
        cfg = args.config
        if cfg.grafana_admin_password is not None:
            password = pulumi.Output.secret(cfg.grafana_admin_password)
        else:
            password = random.RandomPassword(
                f"{name}-admin", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
            ).result
        admin = kube.secret(
            f"{name}-admin",
            ADMIN_SECRET,
            args.namespace,
            pulumi.Output.secret(password).apply(lambda p: {"admin-user": "admin", "admin-password": p}),
            "grafana",
            self,
            list(args.depends_on),
        )
        helm.install(
            f"{name}-grafana",
            "grafana",
            args.namespace,
            grafana_values(
                cfg,
                args.thanos_query,
                args.loki,
                args.tempo,
                # Not secret (a slow salted hash, like the cluster's copy): a secret inside would
                # hide the whole chart's values from every preview diff.
                pulumi.Output.unsecret(pulumi.Output.from_input(password).apply(password_checksum)),
            ),
            parent=self,
            source=args.config.charts,
            depends_on=[*args.depends_on, admin],
            release_name=RELEASE,
        )
        self.admin_password = pulumi.Output.secret(password)
        self.url = kube.service_url(RELEASE, args.namespace, 80)
        self.register_outputs(
            {"url": self.url, "adminSecret": ADMIN_SECRET, "adminPassword": self.admin_password}
        )
