"""Pure helpers of the components: networks, IAM documents, sizes, the Alertmanager config."""

from __future__ import annotations

import json

from components.cluster import irsa_trust_policy, subnet_cidrs
from components.logs import hours
from components.metrics import retention_size
from components.storage import bucket_access_policy, lifecycle_rules


def test_subnets_are_disjoint_and_inside_the_vpc():
    private, public = subnet_cidrs("10.60.0.0/16", 3)
    assert private == ["10.60.0.0/20", "10.60.16.0/20", "10.60.32.0/20"]
    assert public == ["10.60.128.0/20", "10.60.144.0/20", "10.60.160.0/20"]


def test_irsa_trust_names_only_the_given_service_accounts():
    doc = json.loads(
        irsa_trust_policy(
            "arn:aws:iam::1:oidc-provider/x",
            "https://oidc.example/id/ABC",
            [("monitoring", "prometheus"), ("monitoring", "thanos-compact")],
        )
    )
    cond = doc["Statement"][0]["Condition"]
    assert cond["StringEquals"] == {"oidc.example/id/ABC:aud": "sts.amazonaws.com"}
    assert cond["StringLike"]["oidc.example/id/ABC:sub"] == [
        "system:serviceaccount:monitoring:prometheus",
        "system:serviceaccount:monitoring:thanos-compact",
    ]


def test_bucket_policy_is_scoped_to_one_bucket():
    doc = json.loads(bucket_access_policy("b1"))
    resources = {s["Resource"] for s in doc["Statement"]}
    assert resources == {"arn:aws:s3:::b1", "arn:aws:s3:::b1/*"}
    assert not any(a == "*" or a.endswith(":*") for s in doc["Statement"] for a in s["Action"])


def test_lifecycle_and_durations():
    assert lifecycle_rules(30)[0]["expiration"] == {"days": 30}
    assert hours("30d") == "720h" and hours("1d") == "24h"
    assert retention_size("20Gi") == "17GiB" and retention_size("1Gi") == "870MiB"


