"""Encryption in transit, at rest and of keys: S3 buckets refuse plain HTTP, EBS volumes are encrypted, KMS
keys rotate.

AWS Foundational Security Best Practices S3.5 and EC2.3, Security Hub KMS.4 (controls.yaml maps each).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._common import (
    UNKNOWN,
    Report,
    cite,
    fmt_path,
    get,
    is_on,
    is_plain_text,
    k8s_group,
    k8s_kind,
    listing,
    schema,
    settings,
    string_list,
)
from .security import BUCKET_SCHEMA, buckets_and_companions

_POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)


def _denies_plain_http(policy: Any) -> bool | None:
    """Does a bucket policy deny requests without TLS? None when it cannot be read (unknown, secret)."""
    if is_plain_text(policy):
        try:
            policy = json.loads(policy)
        except ValueError:
            return False
    if not isinstance(policy, Mapping):
        return None
    for statement in listing(get(policy, "Statement")):
        if get(statement, "Effect") != "Deny":
            continue
        secure = get(statement, "Condition", "Bool", "aws:SecureTransport")
        if str(secure).lower() == "false":
            return True
    return False


def _validate_tls_only(args: StackValidationArgs, report: Report) -> None:
    cfg = settings(args, BUCKET_SCHEMA)
    for bucket, policies in buckets_and_companions(args, _POLICY_TYPES, cfg["bucketTypes"]):
        verdicts = [_denies_plain_http(get(p.props, "policy", unknown=UNKNOWN)) for p in policies]
        if None in verdicts or True in verdicts:
            continue
        what = "no BucketPolicy" if not policies else "its BucketPolicy has no Deny on aws:SecureTransport false"
        report(f"{cite('FSBP S3.5')} {what}: add a BucketPolicy statement denying s3:* when the Condition "
               'Bool aws:SecureTransport is "false"', bucket.urn)


s3_bucket_tls_only = StackValidationPolicy(
    name="s3-bucket-tls-only",
    description="Every S3 bucket's policy denies requests made without TLS.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_tls_only,
    config_schema=BUCKET_SCHEMA,
)


_KEY_SCHEMA = schema(
    {"keyTypes": string_list(default=["aws:kms/key:Key"], description="Resource types that are KMS keys.")}
)


def _validate_rotation(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in settings(args, _KEY_SCHEMA)["keyTypes"]:
        return
    spec = get(args.props, "customerMasterKeySpec", default=get(args.props, "keySpec", default="SYMMETRIC_DEFAULT"))
    if spec != "SYMMETRIC_DEFAULT":
        return  # KMS rotates only symmetric encryption keys
    rotation = get(args.props, "enableKeyRotation", unknown=UNKNOWN)
    if rotation is not UNKNOWN and rotation is not True:
        shown = "unset" if rotation is None else str(rotation).lower()
        report(f"{cite('Security Hub KMS.4')} enableKeyRotation is {shown} (unset is off): set it true, KMS then "
               "rotates the key material every year")


kms_key_rotation = ResourceValidationPolicy(
    name="kms-key-rotation",
    description="Symmetric KMS keys have automatic rotation on.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_rotation,
    config_schema=_KEY_SCHEMA,
)

_EBS_SCHEMA = schema(
    {
        "provisioners": string_list(
            default=["ebs.csi.aws.com", "kubernetes.io/aws-ebs"],
            description="StorageClass provisioners that create EBS volumes (FSBP EC2.3).",
        )
    }
)


def _unencrypted_volumes(resource_type: str, props: Any, provisioners: list[str]) -> list[tuple[str, Any]]:
    """(property path, value) of each EBS volume setting that leaves a volume unencrypted."""
    if k8s_kind(resource_type) == "StorageClass" and k8s_group(resource_type) == "storage.k8s.io":
        if get(props, "provisioner") not in provisioners:
            return []
        paths: list[tuple[str | int, ...]] = [("parameters", "encrypted")]
    elif resource_type == "aws:ebs/volume:Volume":
        paths = [("encrypted",)]
    elif resource_type == "aws:ec2/launchTemplate:LaunchTemplate":
        paths = [("blockDeviceMappings", i, "ebs", "encrypted")
                 for i, mapping in enumerate(listing(get(props, "blockDeviceMappings"))) if get(mapping, "ebs")]
    elif resource_type == "aws:ec2/instance:Instance":
        paths = [("rootBlockDevice", "encrypted")]
        paths += [("ebsBlockDevices", i, "encrypted") for i in range(len(listing(get(props, "ebsBlockDevices"))))]
    else:
        return []
    out = []
    for path in paths:
        value = get(props, *path, unknown=UNKNOWN)
        if value is not UNKNOWN and not is_on(value):
            out.append((fmt_path(path), value))
    return out


def _validate_ebs(args: ResourceValidationArgs, report: Report) -> None:
    provisioners = settings(args, _EBS_SCHEMA)["provisioners"]
    for where, value in _unencrypted_volumes(args.resource_type, args.props, provisioners):
        shown = ("unset (unset is unencrypted, unless the account encrypts by default)" if value is None
                 else str(value).lower() if isinstance(value, bool) else repr(value))
        fix = 'set it "true"' if where.startswith(("parameters", "blockDeviceMappings")) else "set it true"
        report(f"{cite('FSBP EC2.3')} {where} is {shown}: {fix}, so the volume and its snapshots are encrypted "
               "at rest")


ebs_volumes_encrypted = ResourceValidationPolicy(
    name="ebs-volumes-encrypted",
    description="EBS volumes are encrypted: StorageClasses of the EBS CSI driver, volumes, launch templates and "
    "instances.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_ebs,
    config_schema=_EBS_SCHEMA,
)

POLICIES = [s3_bucket_tls_only, ebs_volumes_encrypted, kms_key_rotation]
