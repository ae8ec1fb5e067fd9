"""Encryption in transit and of keys: S3 buckets refuse plain HTTP, KMS keys rotate.

AWS Foundational Security Best Practices S3.5 and KMS.4 (controls.yaml maps each).
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

from ._common import UNKNOWN, Report, cite, get, is_plain_text, listing, schema, settings, string_list
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

POLICIES = [s3_bucket_tls_only, kms_key_rotation]
