"""Alertmanager: HA settings and the receiver credentials Secret.

kube-prometheus-stack runs Alertmanager with `useExistingSecret` + `configSecret`
(the config Secret the SLO component writes from the routing, key
`alertmanager.yaml`) and mounts the credentials Secret created here through
`alertmanagerSpec.secrets`, at /etc/alertmanager/secrets/alertmanager-credentials/<key>;
the config refers to those files with `*_file` settings, so no credential is
ever inline. The operator picks the config Secret up when it appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from reliability.alerting.routing import CONFIG_SECRET, CREDENTIALS_SECRET, parse_routing, routing_warnings
from reliability.platform.config import StackConfig

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
            "persistentVolumeClaimRetentionPolicy": kube.claim_retention(cfg.protect_data),
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
    depends_on: tuple[pulumi.Resource, ...] = ()
    # Routing keys of the PagerDuty services the stack creates (components/oncall.py), by credential name.
    routing_keys: tuple[tuple[str, pulumi.Output[str]], ...] = ()


def credentials_data(
    credentials: pulumi.Input[dict[str, str]] | None, routing_keys: dict[str, pulumi.Output[str]]
) -> pulumi.Output[dict[str, str]]:
    """The data of the credentials Secret: the configured credentials plus the stack's routing keys, a secret."""
    keys = pulumi.Output.all(**routing_keys) if routing_keys else pulumi.Output.from_input({})
    return pulumi.Output.secret(
        pulumi.Output.all(pulumi.Output.from_input(credentials or {}), keys).apply(
            lambda both: dict(sorted({**both[0], **both[1]}.items()))
        )
    )


class Alertmanager(pulumi.ComponentResource):
    credentials_secret: pulumi.Output[str]
    secrets: list[pulumi.Resource]

    def __init__(self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:alerting:Alertmanager", name, None, opts)
        cfg = args.config
        after = list(args.depends_on)
        routing, _ = parse_routing(cfg.alerting, cfg.environment, cfg.credential_keys)
        for warning in routing_warnings(routing):
            pulumi.log.warn(warning, self)
        credentials = kube.secret(
            f"{name}-credentials",
            CREDENTIALS_SECRET,
            args.namespace,
            # Locally there is often no credential at all; Alertmanager still mounts the Secret.
            credentials_data(cfg.alerting_credentials, dict(args.routing_keys))
            if cfg.credential_keys or args.routing_keys else None,
            "alertmanager",
            self,
            after,
        )
        self.secrets = [credentials]
        self.credentials_secret = credentials.metadata.name
        self.register_outputs(
            {
                "credentialsSecret": self.credentials_secret,
                "credentialKeys": list(cfg.credential_keys),
            }
        )
