"""Object storage for Thanos, Loki and Tempo: one S3 bucket and one IRSA role per workload.

Buckets are encrypted, versioned, closed to the public and expire objects at the
workload's retention. In staging and prod they are protected and retained on
delete: `pulumi destroy` must never take months of metrics with it. Elsewhere (dev)
they are force-destroyed with their objects, so the stack tears down in one command.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from reliability.platform.config import StackConfig

from .cluster import irsa_trust_policy

# Old object versions are kept this long, so an accidental overwrite or delete can be undone.
NONCURRENT_DAYS = 7


@dataclass(frozen=True)
class Workload:
    """A bucket user: its service accounts (namespace, name) and how long its data lives."""

    name: str
    service_accounts: tuple[tuple[str, str], ...]
    retention_days: int


def bucket_name(cfg: StackConfig, workload: str) -> str:
    """Deterministic and readable; `storage.bucketPrefix` makes it globally unique."""
    return f"{cfg.storage.bucket_prefix}-{cfg.stack}-{workload}-{cfg.cluster.region}"


def bucket_access_policy(bucket: str) -> str:
    """Read/write to one bucket only: what Thanos, Loki and Tempo need, nothing more."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ListBucket",
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
                {
                    "Sid": "Objects",
                    "Effect": "Allow",
                    "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                },
            ],
        },
        sort_keys=True,
    )


def tls_only_policy(bucket: str) -> str:
    """Bucket policy refusing every request made without TLS (FSBP S3.5)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


def lifecycle_rules(retention_days: int) -> list[Any]:
    return [
        {
            "id": "retention",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": retention_days},
            "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_DAYS},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
        }
    ]


def _trust(service_accounts: tuple[tuple[str, str], ...], oidc: list[str]) -> str:
    return irsa_trust_policy(oidc[0], oidc[1], list(service_accounts))


@dataclass(frozen=True)
class BucketsArgs:
    config: StackConfig
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    workloads: tuple[Workload, ...] = field(default_factory=tuple)


class Buckets(pulumi.ComponentResource):
    buckets: dict[str, pulumi.Output[str]]
    role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: BucketsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("reliability:storage:Buckets", name, None, opts)
        cfg = args.config
        tags = {"reliability-as-code/stack": cfg.stack}
        keep = cfg.protect_data
        self.buckets = {}
        self.role_arns = {}
        for workload in args.workloads:
            prefix = f"{name}-{workload.name}"
            child = pulumi.ResourceOptions(parent=self)
            bucket = aws.s3.Bucket(
                prefix,
                bucket=bucket_name(cfg, workload.name),
                tags={**tags, "workload": workload.name},
                # Unprotected environments (dev) are torn down in one `pulumi destroy`: S3 refuses to
                # delete a versioned bucket that still holds objects (BucketNotEmpty) unless forced.
                force_destroy=not keep,
                opts=pulumi.ResourceOptions(parent=self, protect=keep, retain_on_delete=keep),
            )
            aws.s3.BucketOwnershipControls(
                prefix, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
            )
            aws.s3.BucketPublicAccessBlock(
                prefix,
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
                opts=child,
            )
            aws.s3.BucketPolicy(prefix, bucket=bucket.id, policy=bucket.bucket.apply(tls_only_policy), opts=child)
            aws.s3.BucketServerSideEncryptionConfiguration(
                prefix,
                bucket=bucket.id,
                opts=child,
                rules=[
                    {
                        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                        "bucket_key_enabled": True,
                    }
                ],
            )
            versioning = aws.s3.BucketVersioning(
                prefix, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
            )
            aws.s3.BucketLifecycleConfiguration(
                prefix,
                bucket=bucket.id,
                rules=lifecycle_rules(workload.retention_days),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
            role = aws.iam.Role(
                prefix,
                assume_role_policy=pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
                    functools.partial(_trust, workload.service_accounts)
                ),
                tags={**tags, "workload": workload.name},
                opts=child,
            )
            aws.iam.RolePolicy(
                prefix, role=role.id, policy=bucket.bucket.apply(bucket_access_policy), opts=child
            )
            self.buckets[workload.name] = bucket.bucket
            self.role_arns[workload.name] = role.arn
        self.register_outputs({"buckets": self.buckets, "roleArns": self.role_arns})
