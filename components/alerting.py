"""Alertmanager's configuration and receiver credentials, as Kubernetes Secrets.

kube-prometheus-stack runs Alertmanager with `useExistingSecret` + `configSecret`
(the config Secret created here, key `alertmanager.yaml`) and mounts the
credentials Secret through `alertmanagerSpec.secrets`, at
/etc/alertmanager/secrets/alertmanager-credentials/<key>; the config refers to
those files with `*_file` settings, so no credential is ever inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.alertmanager import CONFIG_KEY, CONFIG_SECRET, CREDENTIALS_SECRET
from reliability.config import StackConfig

from . import kube


def alertmanager_values(cfg: StackConfig) -> dict[str, Any]:
    """kube-prometheus-stack `alertmanager` values: HA per env, config and credentials from our Secrets."""
    replicas = cfg.replicas.alertmanager
    ha = replicas > 1
    return {
        "podDisruptionBudget": {"enabled": ha, "minAvailable": 1},
        "alertmanagerSpec": {
            "replicas": replicas,
            "useExistingSecret": True,
            "configSecret": CONFIG_SECRET,
            "secrets": [CREDENTIALS_SECRET],
            "resources": cfg.resources.alertmanager.as_k8s(),
            "podAntiAffinity": "hard" if ha else "soft",
            "podAntiAffinityTopologyKey": "topology.kubernetes.io/zone"
            if cfg.environment == "prod"
            else "kubernetes.io/hostname",
            "storage": {
                "volumeClaimTemplate": {
                    "spec": {
                        "storageClassName": cfg.storage.storage_class,
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": cfg.volumes.alertmanager}},
                    }
                }
            },
        },
    }


@dataclass(frozen=True)
class AlertingArgs:
    config: StackConfig
    namespace: pulumi.Input[str]
    # The text of alertmanager.yaml: reliability.alertmanager.alertmanager_config (issue 4's routing later).
    alertmanager_yaml: pulumi.Input[str]
    depends_on: tuple[pulumi.Resource, ...] = ()


class Alertmanager(pulumi.ComponentResource):
    config_secret: pulumi.Output[str]
    credentials_secret: pulumi.Output[str]
    secrets: list[pulumi.Resource]

    def __init__(self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:alerting:Alertmanager", name, None, opts)
        cfg = args.config
        after = list(args.depends_on)
        credentials = kube.secret(
            f"{name}-credentials",
            CREDENTIALS_SECRET,
            args.namespace,
            pulumi.Output.secret(cfg.alerting_credentials or {}),
            "alertmanager",
            self,
            after,
        )
        config = kube.secret(
            f"{name}-config",
            CONFIG_SECRET,
            args.namespace,
            pulumi.Output.from_input(args.alertmanager_yaml).apply(lambda text: {CONFIG_KEY: text}),
            "alertmanager",
            self,
            after,
        )
        self.secrets = [credentials, config]
        self.config_secret = config.metadata.name
        self.credentials_secret = credentials.metadata.name
        self.register_outputs(
            {
                "configSecret": self.config_secret,
                "credentialsSecret": self.credentials_secret,
                "credentialKeys": list(cfg.credential_keys),
            }
        )
