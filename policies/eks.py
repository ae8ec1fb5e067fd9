"""EKS control plane policies: endpoint access, Secrets encryption, control plane logging.

CIS Amazon EKS Benchmark section 2 and 5, AWS Foundational Security Best Practices EKS.x
(controls.yaml maps each). pulumi-aws `aws.eks.Cluster` inputs, camelCase as the engine hands them;
an unset input is judged by what EKS does with it (a public endpoint open to 0.0.0.0/0, no envelope
encryption, no logs).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import UNKNOWN, Report, cite, get, listing, schema, settings, string_list

CLUSTER = "aws:eks/cluster:Cluster"
_CLUSTER_SCHEMA = schema(
    {"clusterTypes": string_list(default=[CLUSTER], description="Resource types that are EKS clusters.")}
)
_ENDPOINT_SCHEMA = schema(
    {
        **_CLUSTER_SCHEMA.properties,
        "openCidrs": string_list(default=["0.0.0.0/0", "::/0"], description="CIDRs that stand for the whole internet."),
    }
)


def _public(props: Any) -> bool:
    """EKS makes the endpoint public unless told otherwise."""
    return get(props, "vpcConfig", "endpointPublicAccess", unknown=UNKNOWN) is not False


def _cluster(args: ResourceValidationArgs) -> bool:
    return args.resource_type in settings(args, _CLUSTER_SCHEMA)["clusterTypes"]


def _validate_endpoint_restricted(args: ResourceValidationArgs, report: Report) -> None:
    if not _cluster(args) or not _public(args.props):
        return
    cidrs = get(args.props, "vpcConfig", "publicAccessCidrs", unknown=UNKNOWN)
    if cidrs is UNKNOWN:
        return
    wide = settings(args, _ENDPOINT_SCHEMA)["openCidrs"]
    open_to = [c for c in listing(cidrs) if c in wide] if cidrs else ["0.0.0.0/0 (unset)"]
    if open_to:
        report(f"{cite('CIS EKS 5.4.1')} vpcConfig.publicAccessCidrs lets {', '.join(open_to)} reach the public "
               "API endpoint: list the CIDRs of your VPN or office (cluster.publicAccessCidrs), or set "
               "vpcConfig.endpointPublicAccess false")
    if get(args.props, "vpcConfig", "endpointPrivateAccess", unknown=UNKNOWN) is not True:
        report(f"{cite('CIS EKS 5.4.1')} vpcConfig.endpointPrivateAccess is not true, so nodes reach the API "
               "server over the internet: set vpcConfig.endpointPrivateAccess true")


eks_endpoint_restricted = ResourceValidationPolicy(
    name="eks-endpoint-restricted",
    description="An EKS API endpoint that is public is limited to listed CIDRs (never 0.0.0.0/0) and has "
    "private access on for the nodes.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_endpoint_restricted,
    config_schema=_ENDPOINT_SCHEMA,
)


def _validate_endpoint_private(args: ResourceValidationArgs, report: Report) -> None:
    if _cluster(args) and _public(args.props):
        report(f"{cite('CIS EKS 5.4.2', 'FSBP EKS.1')} vpcConfig.endpointPublicAccess is not false: the API "
               "endpoint can be reached from the internet (by the listed CIDRs); reach it through a VPN or "
               "bastion in the VPC and set vpcConfig.endpointPublicAccess false")


eks_endpoint_private = ResourceValidationPolicy(
    name="eks-endpoint-private",
    description="The EKS API endpoint is private (advisory: the stacks reach it over the internet from listed "
    "CIDRs until a VPN is in place).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate_endpoint_private,
    config_schema=_CLUSTER_SCHEMA,
)


def _validate_secrets_encrypted(args: ResourceValidationArgs, report: Report) -> None:
    if not _cluster(args):
        return
    configs = listing(get(args.props, "encryptionConfig", unknown=UNKNOWN))
    if UNKNOWN in configs:
        return
    encrypted = any(
        "secrets" in listing(get(c, "resources")) and get(c, "provider", "keyArn") not in (None, "") for c in configs
    )
    if not encrypted:
        report(f"{cite('CIS EKS 5.3.1', 'FSBP EKS.3')} encryptionConfig does not cover secrets with a KMS key: "
               'set encryptionConfig {provider: {keyArn: <a KMS key with rotation on>}, resources: ["secrets"]}')


eks_secrets_encrypted = ResourceValidationPolicy(
    name="eks-secrets-encrypted",
    description="EKS encrypts Kubernetes Secrets with a customer managed KMS key (envelope encryption).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_secrets_encrypted,
    config_schema=_CLUSTER_SCHEMA,
)

_LOGGING_SCHEMA = schema(
    {
        **_CLUSTER_SCHEMA.properties,
        "requiredLogTypes": string_list(
            default=["api", "audit", "authenticator"],
            description="Control plane log types every cluster sends to CloudWatch (of api, audit, authenticator, "
            "controllerManager, scheduler).",
        )
    }
)


def _validate_logging(args: ResourceValidationArgs, report: Report) -> None:
    if not _cluster(args):
        return
    enabled = get(args.props, "enabledClusterLogTypes", unknown=UNKNOWN)
    if enabled is UNKNOWN:
        return
    missing = [t for t in settings(args, _LOGGING_SCHEMA)["requiredLogTypes"] if t not in listing(enabled)]
    if missing:
        report(f"{cite('CIS EKS 2.1.1', 'FSBP EKS.8')} enabledClusterLogTypes leaves out {', '.join(missing)}: "
               "add them, so who did what to the cluster is on record")


eks_control_plane_logging = ResourceValidationPolicy(
    name="eks-control-plane-logging",
    description="EKS sends its audit, API and authenticator logs to CloudWatch.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_logging,
    config_schema=_LOGGING_SCHEMA,
)

POLICIES = [eks_endpoint_restricted, eks_endpoint_private, eks_secrets_encrypted, eks_control_plane_logging]
