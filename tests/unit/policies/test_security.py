"""Security policies: a passing fixture, one thing broken, the exact message (awsguard style)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from policies import security
from policies._common import SecretText

from .helpers import broken, check_resource, check_stack, resource

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"

COMPANIONS = {
    SSE: {"bucket": "logs-id", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
    VERSIONING: {"bucket": "logs-id", "versioningConfiguration": {"status": "Enabled"}},
    PAB: {"bucket": "logs-id", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
          "restrictPublicBuckets": True},
}


def bucket_stack(companions: dict[str, Any] | None = None, link: str = "dependencies") -> list[Any]:
    """A bucket and its companions, linked the way the engine or the render says so."""
    bucket = resource(BUCKET, {"bucket": "acme-logs"}, "logs")
    other = resource(BUCKET, {"bucket": "acme-other"}, "other")
    out = [bucket, other]
    for typ, props in (COMPANIONS if companions is None else companions).items():
        if link == "dependencies":
            out.append(resource(typ, props, "logs", dependencies=[bucket]))
        elif link == "property":
            out.append(resource(typ, props, "logs", dependencies=[bucket, other], property_dependencies={"bucket": [bucket]}))
        else:
            out.append(resource(typ, {**props, "bucket": "acme-logs"}, "logs"))
        for_other = {**props, "bucket": "acme-other"}
        out.append(resource(typ, for_other, "other"))
    return out


S3_POLICIES = [security.s3_bucket_encrypted, security.s3_bucket_versioned, security.s3_bucket_public_access_blocked]


@pytest.mark.parametrize("link", ["dependencies", "property", "name"])
@pytest.mark.parametrize("policy", S3_POLICIES, ids=lambda p: p.name)
def test_s3_happy_path(policy: Any, link: str) -> None:
    assert check_stack(policy, bucket_stack(link=link)) == []


S3_CASES = [
    ("no encryption", security.s3_bucket_encrypted, {k: v for k, v in COMPANIONS.items() if k != SSE},
     "[Security Hub S3.17] no BucketServerSideEncryptionConfiguration: add one with "
     "rules[].applyServerSideEncryptionByDefault.sseAlgorithm aws:kms"),
    ("weak algorithm", security.s3_bucket_encrypted,
     {**COMPANIONS, SSE: {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "none"}}]}},
     "[Security Hub S3.17] sseAlgorithm 'none' is not one of aws:kms, aws:kms:dsse: set "
     "rules[].applyServerSideEncryptionByDefault.sseAlgorithm aws:kms"),
    ("no versioning", security.s3_bucket_versioned, {k: v for k, v in COMPANIONS.items() if k != VERSIONING},
     "[Security Hub S3.14] no BucketVersioning: add one with versioningConfiguration.status Enabled"),
    ("versioning suspended", security.s3_bucket_versioned,
     {**COMPANIONS, VERSIONING: {"versioningConfiguration": {"status": "Suspended"}}},
     "[Security Hub S3.14] versioningConfiguration.status is 'Suspended', not 'Enabled': set it to Enabled"),
    ("no public access block", security.s3_bucket_public_access_blocked,
     {k: v for k, v in COMPANIONS.items() if k != PAB},
     "[FSBP S3.8] no BucketPublicAccessBlock: add one with blockPublicAcls, blockPublicPolicy, ignorePublicAcls, "
     "restrictPublicBuckets all true"),
    ("public policy allowed", security.s3_bucket_public_access_blocked,
     {**COMPANIONS, PAB: {**COMPANIONS[PAB], "blockPublicPolicy": False}},
     "[FSBP S3.8] BucketPublicAccessBlock leaves blockPublicPolicy off (unset is off): set all four to true"),
    ("public access flags left unset", security.s3_bucket_public_access_blocked,
     {**COMPANIONS, PAB: {"bucket": "logs-id", "blockPublicAcls": True}},
     "[FSBP S3.8] BucketPublicAccessBlock leaves blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets off "
     "(unset is off): set all four to true"),
]


@pytest.mark.parametrize(("case", "policy", "companions", "message"), S3_CASES, ids=[c[0] for c in S3_CASES])
def test_s3_broken(case: str, policy: Any, companions: dict[str, Any], message: str) -> None:
    stack = [r for r in bucket_stack(companions) if r.name == "logs"]
    assert check_stack(policy, stack) == [(message, "logs")]


def test_s3_companion_of_another_bucket_does_not_count() -> None:
    logs = resource(BUCKET, {"bucket": "acme-logs"}, "logs")
    other = resource(BUCKET, {"bucket": "acme-other"}, "other")
    sse = resource(SSE, COMPANIONS[SSE], "x", dependencies=[logs, other], property_dependencies={"bucket": [other]})
    assert check_stack(security.s3_bucket_encrypted, [logs, other, sse]) == [
        ("[Security Hub S3.17] no BucketServerSideEncryptionConfiguration: add one with "
         "rules[].applyServerSideEncryptionByDefault.sseAlgorithm aws:kms", "logs")
    ]


def test_s3_inline_settings_count() -> None:
    bucket = resource(BUCKET, {"bucket": "b", "versioning": {"enabled": True}, "serverSideEncryptionConfiguration": {
        "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}}}, "b")
    assert check_stack(security.s3_bucket_encrypted, [bucket], config={"algorithms": ["AES256"]}) == []
    assert check_stack(security.s3_bucket_versioned, [bucket]) == []


# ------------------------------------------------------------------ IAM

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCOPED = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::acme-logs"},
        {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::acme-logs/*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    ],
}


def statement(**fields: Any) -> dict[str, Any]:
    return broken(SCOPED, lambda d: d["Statement"].append({"Effect": "Allow", **fields}))


IAM_CASES = [
    ("s3:* on *", ROLE_POLICY, {"policy": json.dumps(statement(Action="s3:*", Resource="*"))},
     ["[FSBP IAM.21] policy: statement 3 allows s3:* on every resource (*): scope it to the resources' ARNs"]),
    ("*:* as object", "aws:iam/policy:Policy", {"policy": statement(Sid="Admin", Action=["*:*"], Resource="arn:x")},
     ["[FSBP IAM.1] policy: statement 'Admin' allows every action (*:*): list the actions the workload needs"]),
    ("* in a role's inline policy", "aws:iam/role:Role",
     {"inlinePolicies": [{"name": "x", "policy": json.dumps(statement(Action="*", Resource="arn:x"))}]},
     ["[FSBP IAM.1] inlinePolicies[0].policy: statement 3 allows every action (*): list the actions the workload "
      "needs"]),
    ("NotAction", "aws:iam/userPolicy:UserPolicy", {"policy": json.dumps(statement(NotAction="iam:*", Resource="*"))},
     ["[FSBP IAM.2] user: a policy attached to an IAM user: attach it to a group or a role the user assumes",
      "[FSBP IAM.1] policy: statement 3 allows every action but its NotAction list: list the allowed actions instead"]),
    ("service wildcard on NotResource", ROLE_POLICY,
     {"policy": json.dumps(statement(Action="ec2:*", NotResource="arn:x"))},
     ["[FSBP IAM.21] policy: statement 3 allows ec2:* on every resource (NotResource): scope it to the resources' "
      "ARNs"]),
    ("s3:* on every bucket", ROLE_POLICY, {"policy": json.dumps(statement(Action=["s3:*"], Resource="arn:aws:s3:::*"))},
     ["[FSBP IAM.21] policy: statement 3 allows s3:* on every bucket (arn:aws:s3:::*): scope it to the buckets' ARNs"]),
    ("object wildcards on every bucket's objects", ROLE_POLICY,
     {"policy": json.dumps(statement(Sid="Objects", Action="s3:*Object", Resource=["arn:aws:s3:::acme-logs/*",
                                                                                 "arn:*:s3:::*/*"]))},
     ["[FSBP IAM.21] policy: statement 'Objects' allows s3:*Object on every bucket (arn:*:s3:::*/*): scope it to the "
      "buckets' ARNs"]),
    ("prefix wildcards on *", ROLE_POLICY,
     {"policy": json.dumps(statement(Action=["s3:Get*", "s3:Put*", "s3:Delete*"], Resource="*"))},
     [f"[FSBP IAM.21] policy: statement 3 allows {a} on every resource (*): scope it to the resources' ARNs"
      for a in ("s3:Get*", "s3:Put*", "s3:Delete*")]),
    ("not JSON", ROLE_POLICY, {"policy": "{not json"},
     ['[FSBP IAM.1] policy is not a JSON policy document, so what it allows cannot be checked: write it as JSON '
      '({"Version": "2012-10-17", "Statement": [...]})']),
    ("admin managed policy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
     ["[FSBP IAM.1] policyArn attaches the AWS managed policy AdministratorAccess: write a policy scoped to what the "
      "workload needs"]),
    ("? wildcards: every action", ROLE_POLICY, {"policy": json.dumps(statement(Action="?*", Resource="arn:x"))},
     ["[FSBP IAM.1] policy: statement 3 allows every action (?*): list the actions the workload needs"]),
    ("? wildcards: every resource", ROLE_POLICY, {"policy": json.dumps(statement(Action="s3:Get?bject", Resource="?*"))},
     ["[FSBP IAM.21] policy: statement 3 allows s3:Get?bject on every resource (?*): scope it to the resources' ARNs"]),
    ("? wildcards: every bucket", ROLE_POLICY,
     {"policy": json.dumps(statement(Action="s3:Put*", Resource="arn:aws:s3:::???*/*"))},
     ["[FSBP IAM.21] policy: statement 3 allows s3:Put* on every bucket (arn:aws:s3:::???*/*): scope it to the "
      "buckets' ARNs"]),
    ("iam:PassRole on *", ROLE_POLICY, {"policy": json.dumps(statement(Action="iam:PassRole", Resource="*"))},
     ["[RAC IAM.PassRole] policy: statement 3 allows iam:PassRole on every resource (*): whoever holds it can hand "
      "any role to a service and act as it; list the roles' ARNs and add a Condition on iam:PassedToService"]),
    ("iam:PassRole on every role", ROLE_POLICY,
     {"policy": json.dumps(statement(Action="iam:PassRole", Resource="arn:aws:iam::123456789012:role/*"))},
     ["[RAC IAM.PassRole] policy: statement 3 allows iam:PassRole on arn:aws:iam::123456789012:role/*: whoever holds "
      "it can hand any role to a service and act as it; list the roles' ARNs and add a Condition on "
      "iam:PassedToService"]),
    ("kms:Decrypt on * (managed)", "aws:iam/policy:Policy",
     {"policy": json.dumps(statement(Action="kms:Decrypt", Resource="*"))},
     ["[FSBP KMS.1] policy: statement 3 allows kms:Decrypt on every resource (*): scope it to the keys' ARNs"]),
    ("kms:ReEncryptFrom on * (inline)", ROLE_POLICY,
     {"policy": json.dumps(statement(Action="kms:ReEncryptFrom", Resource="*"))},
     ["[FSBP KMS.2] policy: statement 3 allows kms:ReEncryptFrom on every resource (*): scope it to the keys' ARNs"]),
    ("iam:Pass* on every role", ROLE_POLICY,
     {"policy": json.dumps(statement(Action="iam:Pass*", Resource="arn:aws:iam::123456789012:role/*"))},
     ["[RAC IAM.PassRole] policy: statement 3 allows iam:Pass* (which includes iam:PassRole) on "
      "arn:aws:iam::123456789012:role/*: whoever holds it can hand any role to a service and act as it; list the "
      "roles' ARNs and add a Condition on iam:PassedToService"]),
    ("iam:PassRol? on every IAM resource of an account", ROLE_POLICY,
     {"policy": json.dumps(statement(Action="iam:PassRol?", Resource="arn:aws:iam::123456789012:*"))},
     ["[RAC IAM.PassRole] policy: statement 3 allows iam:PassRol? (which includes iam:PassRole) on "
      "arn:aws:iam::123456789012:*: whoever holds it can hand any role to a service and act as it; list the roles' "
      "ARNs and add a Condition on iam:PassedToService"]),
    ("iam:* on *", ROLE_POLICY, {"policy": json.dumps(statement(Action="iam:*", Resource="*"))},
     ["[FSBP IAM.21] policy: statement 3 allows iam:* on every resource (*): scope it to the resources' ARNs",
      "[RAC IAM.PassRole] policy: statement 3 allows iam:* (which includes iam:PassRole) on every resource (*): "
      "whoever holds it can hand any role to a service and act as it; list the roles' ARNs and add a Condition on "
      "iam:PassedToService"]),
    ("kms:Decrypt on every key of an account (managed)", "aws:iam/policy:Policy",
     {"policy": json.dumps(statement(Action="kms:Decrypt", Resource="arn:aws:kms:*:123456789012:key/*"))},
     ["[FSBP KMS.1] policy: statement 3 allows kms:Decrypt on every key (arn:aws:kms:*:123456789012:key/*): scope it "
      "to the keys' ARNs"]),
    ("kms:*crypt* on every key (inline)", ROLE_POLICY,
     {"policy": json.dumps(statement(Action="kms:*crypt*", Resource="arn:aws:kms:eu-west-1:123456789012:key/*"))},
     ["[FSBP KMS.2] policy: statement 3 allows kms:*crypt* (which includes kms:Decrypt, kms:ReEncryptFrom) on every "
      "key (arn:aws:kms:eu-west-1:123456789012:key/*): scope it to the keys' ARNs"]),
    ("policy attached to a user", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
     {"user": "alice", "policyArn": "arn:aws:iam::123456789012:policy/reader"},
     ["[FSBP IAM.2] user: a policy attached to an IAM user: attach it to a group or a role the user assumes"]),
]


def test_iam_happy_path() -> None:
    assert check_resource(security.iam_least_privilege, ROLE_POLICY, {"policy": json.dumps(SCOPED)}) == []
    # A Deny grants nothing; named actions on every bucket and a bucket prefix are not wildcards on all.
    for extra in ({"Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]},
                  {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
                  {"Effect": "Allow", "Action": "s3:GetObject*", "Resource": "arn:aws:s3:::acme-*/*"},
                  {"Effect": "Allow", "Action": "ec2:*", "Resource": "arn:aws:s3:::*"},
                  # Patterns that do not name the sensitive action, or name it on one role or key.
                  {"Effect": "Allow", "Action": "iam:Get*", "Resource": "arn:aws:iam::123456789012:role/*"},
                  {"Effect": "Allow", "Action": "iam:Pass*", "Resource": "arn:aws:iam::123456789012:role/app"},
                  {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "arn:aws:kms:*:123456789012:key/*"},
                  {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-west-1:1:key/k-1"},
                  {"Effect": "Allow", "Action": "iam:[P]assRole", "Resource": "*"}):
        document = {**SCOPED, "Statement": [*SCOPED["Statement"], extra]}
        assert check_resource(security.iam_least_privilege, ROLE_POLICY, {"policy": json.dumps(document)}) == [], extra
    assert check_resource(security.iam_least_privilege, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                          {"policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}) == []
    assert check_resource(security.iam_least_privilege, ROLE_POLICY, {"policy": "[unknown]"}) == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), IAM_CASES, ids=[c[0] for c in IAM_CASES])
def test_iam_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(security.iam_least_privilege, typ, props) == messages


def test_iam_config_allows_a_service_wildcard() -> None:
    props = {"policy": json.dumps(statement(Action=["logs:*", "ec2:Describe*"], Resource="*"))}
    assert check_resource(security.iam_least_privilege, ROLE_POLICY, props,
                          config={"allowedServiceWildcards": ["logs:*", "ec2:Describe*"]}) == []


# ------------------------------------------------------------------ exposure

SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
CHART = "reliability:helm:Chart"
RELEASE = "kubernetes:helm.sh/v3:Release"
GRAFANA_VALUES = {"service": {"type": "ClusterIP"}, "ingress": {"enabled": False}}
KPS_VALUES = {"prometheus": {"service": {"type": "ClusterIP"}}, "alertmanager": {"ingress": {"enabled": False}}}
GRAFANA_SERVICE = {"metadata": {"name": "grafana", "labels": {"app.kubernetes.io/name": "grafana"}},
                   "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": "grafana"}}}
AUTH = {"nginx.ingress.kubernetes.io/auth-url": "https://oauth2-proxy/oauth2/auth"}
PROM_INGRESS = {"metadata": {"name": "metrics", "annotations": AUTH}, "spec": {"rules": [{"http": {"paths": [
    {"path": "/", "backend": {"service": {"name": "kps-prometheus", "port": {"number": 9090}}}}]}}]}}
HTTPROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
PROM_ROUTE = {"metadata": {"name": "metrics", "annotations": AUTH}, "spec": {
    "parentRefs": [{"name": "public"}], "hostnames": ["metrics.example.com"],
    "rules": [{"backendRefs": [{"name": "kps-prometheus", "port": 9090}]}]}}
HINT = ("keep it ClusterIP and reach it through an authenticating proxy or an Ingress with an auth annotation")
PROXY_HINT = ("grafana.ini auth.proxy trusts the X-WEBAUTH-USER header from whoever connects, so anyone who reaches "
              "grafana this way can log in as any user, admin too; auth.proxy counts only behind an Ingress or route "
              "with an auth annotation (nginx auth-url, oauth2-proxy) that authenticates first")
PROXY_SERVICE = f"{PROXY_HINT}: keep the Service ClusterIP and expose Grafana only through such an Ingress"
PROXY_ROUTE = f"{PROXY_HINT}: give this one an auth annotation (authAnnotations in the policy config)"
EXPOSURE_CASES = [
    ("grafana chart LoadBalancer", CHART, {"chart": "grafana", "values": broken(GRAFANA_VALUES, lambda v: v["service"].update(type="LoadBalancer"))},
     [f"values.service.type is LoadBalancer: it exposes grafana without authentication; {HINT}"]),
    ("grafana chart ingress", CHART, {"chart": "grafana", "values": broken(GRAFANA_VALUES, lambda v: v["ingress"].update(enabled=True))},
     [f"values.ingress.enabled enables an Ingress: it exposes grafana without authentication; {HINT}"]),
    ("kps prometheus NodePort", RELEASE, {"chart": "kube-prometheus-stack", "values": broken(KPS_VALUES, lambda v: v["prometheus"]["service"].update(type="NodePort"))},
     [f"values.prometheus.service.type is NodePort: it exposes prometheus without authentication; {HINT}"]),
    ("kps alertmanager ingress", RELEASE, {"chart": "kube-prometheus-stack", "values": broken(KPS_VALUES, lambda v: v["alertmanager"]["ingress"].update(enabled=True))},
     [f"values.alertmanager.ingress.enabled enables an Ingress: it exposes alertmanager without authentication; {HINT}"]),
    ("grafana with anonymous access", CHART, {"chart": "grafana", "values": {
        "service": {"type": "LoadBalancer"},
        "grafana.ini": {"auth.generic_oauth": {"enabled": True}, "auth.anonymous": {"enabled": True}}}},
     [f"values.service.type is LoadBalancer: it exposes grafana without authentication; {HINT}"]),
    # auth.proxy trusts the X-WEBAUTH-USER header: on a public load balancer anyone logs in as admin.
    ("grafana auth.proxy on a LoadBalancer", CHART, {"chart": "grafana", "values": {
        "service": {"type": "LoadBalancer"}, "grafana.ini": {"auth.proxy": {"enabled": True}}}},
     [f"values.service.type is LoadBalancer: {PROXY_SERVICE}"]),
    ("grafana auth.proxy beside OAuth on a NodePort", RELEASE, {"chart": "kube-prometheus-stack", "values": {
        "grafana": {"service": {"type": "NodePort"},
                    "grafana.ini": {"auth": {"proxy": {"enabled": "true"}, "generic_oauth": {"enabled": True}}}}}},
     [f"values.grafana.service.type is NodePort: {PROXY_SERVICE}"]),
    ("grafana auth.proxy behind an Ingress without auth", CHART, {"chart": "grafana", "values": {
        "ingress": {"enabled": True}, "grafana.ini": {"auth.proxy": {"enabled": True}}}},
     [f"values.ingress.enabled enables an Ingress: {PROXY_ROUTE}"]),
    ("grafana auth.proxy switched on by env", CHART, {"chart": "grafana", "values": {
        "service": {"type": "LoadBalancer"}, "env": {"GF_AUTH_PROXY_ENABLED": "true"},
        "grafana.ini": {"auth.github": {"enabled": True}}}},
     [f"values.service.type is LoadBalancer: {PROXY_SERVICE}"]),
    # Gateway API routes in chart values (grafana chart `route.main`, kube-prometheus-stack `<component>.route.main`).
    ("grafana chart route", CHART, {"chart": "grafana", "values": broken(GRAFANA_VALUES, lambda v: v.update(
        route={"main": {"enabled": True, "hostnames": ["grafana.example.com"]}}))},
     [f"values.route.main.enabled enables an HTTPRoute: it exposes grafana without authentication; {HINT}"]),
    ("kps alertmanager route", RELEASE, {"chart": "kube-prometheus-stack", "values": broken(KPS_VALUES, lambda v: v[
        "alertmanager"].update(route={"main": {"enabled": True, "hostnames": ["am.example.com"]}}))},
     [f"values.alertmanager.route.main.enabled enables an HTTPRoute: it exposes alertmanager without "
      f"authentication; {HINT}"]),
    ("grafana auth.proxy behind a route without auth", CHART, {"chart": "grafana", "values": {
        "route": {"main": {"enabled": True}}, "grafana.ini": {"auth.proxy": {"enabled": True}}}},
     [f"values.route.main.enabled enables an HTTPRoute: {PROXY_ROUTE}"]),
    ("plain HTTPRoute without auth", HTTPROUTE, broken(PROM_ROUTE, lambda i: i["metadata"].pop("annotations")),
     ["HTTPRoute routes to prometheus without an authentication annotation (one of nginx.ingress.kubernetes.io/auth-url, "
      "nginx.ingress.kubernetes.io/auth-type, alb.ingress.kubernetes.io/auth-type, ingress.kubernetes.io/auth-type)"]),
    ("plain LoadBalancer Service", SERVICE, broken(GRAFANA_SERVICE, lambda s: s["spec"].update(type="LoadBalancer")),
     ["Service of type LoadBalancer exposes grafana without authentication: make it ClusterIP and put an "
      "authenticating proxy or Ingress in front"]),
    ("plain Ingress without auth", INGRESS, broken(PROM_INGRESS, lambda i: i["metadata"].pop("annotations")),
     ["Ingress routes to prometheus without an authentication annotation (one of nginx.ingress.kubernetes.io/auth-url, "
      "nginx.ingress.kubernetes.io/auth-type, alb.ingress.kubernetes.io/auth-type, ingress.kubernetes.io/auth-type)"]),
]


def test_exposure_happy_path() -> None:
    policy = security.ui_requires_authentication
    assert check_resource(policy, CHART, {"chart": "grafana", "values": GRAFANA_VALUES}) == []
    assert check_resource(policy, RELEASE, {"chart": "kube-prometheus-stack", "values": KPS_VALUES}) == []
    assert check_resource(policy, SERVICE, GRAFANA_SERVICE) == []
    assert check_resource(policy, INGRESS, PROM_INGRESS) == []
    # Grafana behind single sign-on may have a load balancer; an unrelated app may too.
    sso = {"service": {"type": "LoadBalancer"}, "grafana.ini": {"auth.generic_oauth": {"enabled": True}}}
    assert check_resource(policy, CHART, {"chart": "grafana", "values": sso}) == []
    # auth.proxy behind an Ingress whose annotation authenticates (oauth2-proxy via nginx auth-url) is the
    # setup auth.proxy is for.
    proxied = {"ingress": {"enabled": True, "annotations": AUTH}, "grafana.ini": {"auth.proxy": {"enabled": True}}}
    assert check_resource(policy, CHART, {"chart": "grafana", "values": proxied}) == []
    shop = {"metadata": {"name": "shop"}, "spec": {"type": "LoadBalancer", "selector": {"app": "shop"}}}
    assert check_resource(policy, SERVICE, shop) == []
    # Routes: off, authenticated by annotation, to Grafana with SSO, or to another app.
    off = {"route": {"main": {"enabled": False}}, "grafana.ini": {}}
    assert check_resource(policy, CHART, {"chart": "grafana", "values": off}) == []
    annotated = {"prometheus": {"route": {"main": {"enabled": True, "annotations": AUTH}}}}
    assert check_resource(policy, RELEASE, {"chart": "kube-prometheus-stack", "values": annotated}) == []
    routed_sso = {"route": {"main": {"enabled": True}}, "grafana.ini": {"auth.generic_oauth": {"enabled": True}}}
    assert check_resource(policy, CHART, {"chart": "grafana", "values": routed_sso}) == []
    assert check_resource(policy, HTTPROUTE, PROM_ROUTE) == []
    shop_route = broken(PROM_ROUTE, lambda r: (r["metadata"].update(name="shop", annotations={}),
                                               r["spec"]["rules"][0]["backendRefs"][0].update(name="shop")))
    assert check_resource(policy, HTTPROUTE, shop_route) == []
    # Alertmanager's own `route` (its routing tree) is not a Gateway API route.
    am_config = {"alertmanager": {"config": {"route": {"receiver": "x", "routes": [{"receiver": "x"}]}}}}
    assert check_resource(policy, RELEASE, {"chart": "kube-prometheus-stack", "values": am_config}) == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), EXPOSURE_CASES, ids=[c[0] for c in EXPOSURE_CASES])
def test_exposure_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(security.ui_requires_authentication, typ, props) == [f"[RAC UI.Auth] {m}" for m in messages]


# ------------------------------------------------------------------ plaintext credentials

SECRET = "kubernetes:core/v1:Secret"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
FIX = "make it a Pulumi secret (pulumi config set --secret) held in a Kubernetes Secret and reference that (*_file, existingSecret)"
AM_VALUES = {"alertmanager": {"config": {
    "global": {"resolve_timeout": "5m"},
    "receivers": [{"name": "payments-page", "pagerduty_configs": [{"routing_key_file": "/etc/alertmanager/secrets/pd"}]},
                  {"name": "chat", "slack_configs": [{"api_url_file": "/etc/alertmanager/secrets/slack"}]}]}}}
WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
CREDENTIAL_CASES = [
    ("Slack webhook in values", RELEASE, {"values": broken(AM_VALUES, lambda v: v["alertmanager"]["config"]["global"].update(slack_api_url=WEBHOOK))},
     [f"Slack webhook URL in plain text at values.alertmanager.config.global.slack_api_url: {FIX}"]),
    ("PagerDuty routing key in values", RELEASE, {"values": broken(AM_VALUES, lambda v: v["alertmanager"]["config"]["receivers"][0]["pagerduty_configs"][0].update(routing_key="0123456789abcdef0123456789abcdef"))},
     [f"literal routing_key in plain text at values.alertmanager.config.receivers[0].pagerduty_configs[0].routing_key: {FIX}"]),
    ("OpsGenie key in a ConfigMap's config text", CONFIGMAP, {"data": {"alertmanager.yaml": "receivers:\n- name: x\n  opsgenie_configs:\n  - api_key: 'abc123def456'\n"}},
     [f'literal api_key in plain text at data["alertmanager.yaml"]: {FIX}']),
    ("private key in a Secret built from plain config", SECRET, {"stringData": {"tls.key": PEM}},
     [f'private key in plain text at stringData["tls.key"]: {FIX}']),
    ("webhook in a Secret's base64 data", SECRET, {"data": {"url": base64.b64encode(WEBHOOK.encode()).decode()}},
     [f"Slack webhook URL in plain text at data.url: {FIX}"]),
    # Key names beyond the old fixed list: Alertmanager's HTTP client, env vars, chart-made Secrets.
    ("webhook authorization credentials", RELEASE, {"values": broken(AM_VALUES, lambda v: v["alertmanager"]["config"][
        "receivers"].append({"name": "hook", "webhook_configs": [{"url": "https://hooks.example.com/am", "http_config": {
            "authorization": {"type": "Bearer", "credentials": "k3y-0123456789abcdef"}}}]}))},
     ["literal credentials in plain text at values.alertmanager.config.receivers[2].webhook_configs[0].http_config."
      f"authorization.credentials: {FIX}"]),
    ("PagerDuty key in grafana env", CHART, {"chart": "grafana", "values": {"env": {
        "GF_SERVER_ROOT_URL": "https://grafana.example.com", "PAGERDUTY_ROUTING_KEY": "0123456789abcdef0123456789abcdef"}}},
     [f"literal PAGERDUTY_ROUTING_KEY in plain text at values.env.PAGERDUTY_ROUTING_KEY: {FIX}"]),
    ("env-style secret and token", CHART, {"chart": "x", "values": {"extraEnv": {
        "OAUTH_CLIENT_SECRET": "s3cr3t-value", "webhookUrl": "https://example.com/hook/abc"},
        "config": {"auth_token": "abc123", "passwd": "hunter2"}}},
     [f"literal OAUTH_CLIENT_SECRET in plain text at values.extraEnv.OAUTH_CLIENT_SECRET: {FIX}",
      f"literal webhookUrl in plain text at values.extraEnv.webhookUrl: {FIX}",
      f"literal auth_token in plain text at values.config.auth_token: {FIX}",
      f"literal passwd in plain text at values.config.passwd: {FIX}"]),
    ("container env list", "kubernetes:apps/v1:Deployment", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "SLACK_TOKEN", "value": "abc-123"}]}]}}}},
     [f"literal SLACK_TOKEN in plain text at spec.template.spec.containers[0].env[1].value: {FIX}"]),
    ("kps extraSecret data", RELEASE, {"chart": "kube-prometheus-stack", "values": {"alertmanager": {"extraSecret": {
        "name": "pd", "data": {"pd-key": "0123456789abcdef0123456789abcdef"}}}}},
     [f"Secret data pd-key in plain text at values.alertmanager.extraSecret.data.pd-key: {FIX}"]),
    ("credentials in config text", CONFIGMAP, {"data": {"alertmanager.yaml": (
        "receivers:\n- name: x\n  webhook_configs:\n  - url: https://x\n    http_config:\n      authorization:\n"
        "        credentials: abc123def\n")}},
     [f'literal credentials in plain text at data["alertmanager.yaml"]: {FIX}']),
    ("password in a container env", "kubernetes:apps/v1:Deployment", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "X", "value": "x"}], "args": ["--password=hunter2"]}]}}}},
     [f"literal password in plain text at spec.template.spec.containers[0].args[0]: {FIX}"]),
]


def test_credentials_happy_path() -> None:
    policy = security.no_plaintext_credentials
    assert check_resource(policy, RELEASE, {"values": AM_VALUES}) == []
    # Values that came from Pulumi secrets: "[secret]" in a render, SecretText in a real preview.
    assert check_resource(policy, SECRET, {"stringData": {"url": "[secret]", "pd": "[secret]"}}) == []
    assert check_resource(policy, SECRET, {"stringData": {"url": SecretText(WEBHOOK), "routing_key": SecretText("k")}}) == []
    # References to credentials are not credentials.
    refs = {"values": {"adminPassword": "", "env": {"password": "$GF_PASSWORD"}, "apiKey": "{{ .Values.key }}",
                       "config": "password_file: /etc/secret\nrouting_key_file: /x\n"}}
    assert check_resource(policy, CHART, refs) == []
    # File settings, Grafana's $__file/$__env and ${VAR} expansion, secretKeyRef/valueFrom, names of Secrets
    # (and of keys in them), empty values and the render's mask.
    more = {"values": {
        "admin": {"existingSecret": "grafana-admin", "passwordKey": "admin-password", "userKey": "admin-user"},
        "alertmanager": {"alertmanagerSpec": {"configSecret": "alertmanager-config"}, "extraSecret": {"data": {
            "pd-key": "[secret]"}}, "config": {"receivers": [{"name": "hook", "webhook_configs": [{"http_config": {
                "authorization": {"credentials_file": "/etc/am/token"}, "basic_auth": {"password_file": "/x"},
                "bearer_token_file": "/y"}}]}]}},
        "grafana.ini": {"auth.generic_oauth": {"client_secret": "$__file{/etc/secrets/oauth}"},
                        "smtp": {"password": "$__env{SMTP_PASSWORD}"}},
        "env": {"PAGERDUTY_ROUTING_KEY": "${PD_KEY}", "SLACK_TOKEN_FILE": "/etc/secrets/slack", "GF_TOKEN": ""},
        "extraEnv": [{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
                     {"name": "DB_PASSWORD", "value": "[secret]"}],
        "config": "authorization:\n  credentials_file: /etc/token\ntoken_url: https://login.example.com/token\n"}}
    assert check_resource(policy, RELEASE, more) == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), CREDENTIAL_CASES, ids=[c[0] for c in CREDENTIAL_CASES])
def test_credentials_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(security.no_plaintext_credentials, typ, props) == [f"[CIS EKS 4.4.2] {m}" for m in messages]


# ------------------------------------------------------------------ containers

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONTAINER = {"name": "app", "securityContext": {"runAsNonRoot": True},
             "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}}
WORKLOAD = {"metadata": {"name": "sink", "namespace": "monitoring"},
            "spec": {"template": {"spec": {"securityContext": {"runAsUser": 65534}, "containers": [CONTAINER]}}}}


def containers(props: dict[str, Any]) -> list[dict[str, Any]]:
    return props["spec"]["template"]["spec"]["containers"]


C = "spec.template.spec.containers[0]"
MISSING = "has no resources.requests.cpu, resources.requests.memory, resources.limits.memory"
FIX = "set them, so the scheduler places it and the kernel bounds its memory"
CONTAINER_CASES = [
    ("root user", DEPLOYMENT, broken(WORKLOAD, lambda w: containers(w)[0]["securityContext"].update(runAsUser=0)),
     [f"[CIS EKS 4.2.6] container app ({C}) runs as root (runAsUser: 0): set securityContext.runAsUser to a non-zero "
      "user and runAsNonRoot: true"]),
    ("no non-root setting", "kubernetes:apps/v1:StatefulSet",
     broken(WORKLOAD, lambda w: (w["spec"]["template"]["spec"].pop("securityContext"), containers(w)[0].pop("securityContext"))),
     [f"[CIS EKS 4.2.6] container app ({C}) does not set runAsNonRoot: true or a non-zero runAsUser: set "
      "securityContext.runAsNonRoot: true (on the container or the pod)"]),
    ("privileged", "kubernetes:apps/v1:DaemonSet", broken(WORKLOAD, lambda w: containers(w)[0]["securityContext"].update(privileged=True)),
     [f"[CIS EKS 4.2.1] container app ({C}) is privileged (securityContext.privileged: true): remove it"]),
    ("no limits", DEPLOYMENT, broken(WORKLOAD, lambda w: containers(w)[0]["resources"].pop("limits")),
     [f"container app ({C}) has no resources.limits.memory: {FIX}"]),
    ("init container without requests", "kubernetes:batch/v1:Job",
     broken(WORKLOAD, lambda w: w["spec"]["template"]["spec"].update(initContainers=[{"name": "init"}])),
     [f"container init (spec.template.spec.initContainers[0]) {MISSING}: {FIX}"]),
    ("bare Pod", "kubernetes:core/v1:Pod", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "securityContext": {"runAsNonRoot": True}}]}},
     [f"container c (spec.containers[0]) {MISSING}: {FIX}"]),
]


def test_containers_happy_path() -> None:
    policy = security.containers_non_root_with_resources
    assert check_resource(policy, DEPLOYMENT, WORKLOAD) == []
    cron = {"spec": {"jobTemplate": {"spec": {"template": WORKLOAD["spec"]["template"]}}}}
    assert check_resource(policy, "kubernetes:batch/v1:CronJob", cron) == []
    # A chart's own templates (children of a helm.v4.Chart) are the chart's business.
    root = broken(WORKLOAD, lambda w: containers(w)[0]["securityContext"].update(runAsUser=0))
    chart_child = "urn:pulumi:prod::reliability::kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:Deployment::x"
    assert check_resource(policy, DEPLOYMENT, root, resource_urn=chart_child) == []
    assert check_resource(policy, DEPLOYMENT, root, config={"exemptWorkloads": ["monitoring/sink"]}) == []
    # The engine's numbers are floats.
    as_float = broken(WORKLOAD, lambda w: (containers(w)[0].pop("securityContext"),
                                           w["spec"]["template"]["spec"]["securityContext"].update(runAsUser=1000.0)))
    assert check_resource(policy, DEPLOYMENT, as_float) == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), CONTAINER_CASES, ids=[c[0] for c in CONTAINER_CASES])
def test_containers_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(security.containers_non_root_with_resources, typ, props) == messages


def test_containers_cpu_limit_on_request() -> None:
    assert check_resource(security.containers_non_root_with_resources, DEPLOYMENT, WORKLOAD,
                          config={"requireCpuLimit": True}) == [f"container app ({C}) has no resources.limits.cpu: {FIX}"]


# ------------------------------------------------------------------ root and privileged containers in Helm values

COLLECTOR = {"chart": "opentelemetry-collector", "values": {"mode": "daemonset", "securityContext": {"runAsUser": 0,
                                                                                                  "runAsGroup": 0}}}
CHAOS = {"chart": "chaos-mesh", "values": {"chaosDaemon": {"privileged": True, "runtime": "containerd"}}}
GRAFANA_HARDENED = {"chart": "grafana", "values": {
    "securityContext": {"runAsUser": 472, "runAsNonRoot": True, "fsGroup": 472},
    "containerSecurityContext": {"privileged": False, "allowPrivilegeEscalation": False},
    "extraContainers": [{"name": "proxy", "securityContext": {"runAsNonRoot": True}}]}}


def allow_hint(chart: str, path: str) -> str:
    return (f"run it as a non-root user without privileges, or, if {chart} needs it, add "
            f'{{"chart": "{chart}", "path": "{path}", "reason": "..."}} to allowedSettings')


VALUES_PRIVILEGE_CASES = [
    ("grafana as root", CHART, broken(GRAFANA_HARDENED, lambda g: g["values"]["securityContext"].update(
        runAsUser=0, runAsNonRoot=False)),
     [f"[CIS EKS 4.2.6] values.securityContext.runAsUser is 0 (root) in chart grafana: "
      f"{allow_hint('grafana', 'securityContext.runAsUser')}",
      "[CIS EKS 4.2.6] values.securityContext.runAsNonRoot is false (root allowed) in chart grafana: "
      f"{allow_hint('grafana', 'securityContext.runAsNonRoot')}"]),
    ("grafana privileged", CHART, broken(GRAFANA_HARDENED, lambda g: g["values"]["containerSecurityContext"].update(
        privileged=True)),
     ["[CIS EKS 4.2.1] values.containerSecurityContext.privileged is true (a privileged container) in chart grafana: "
      f"{allow_hint('grafana', 'containerSecurityContext.privileged')}"]),
    ("escalation in a list", CHART, broken(GRAFANA_HARDENED, lambda g: g["values"]["extraContainers"][0][
        "securityContext"].update(allowPrivilegeEscalation=True)),
     ["[CIS EKS 4.2.5] values.extraContainers[0].securityContext.allowPrivilegeEscalation is true (privilege "
      "escalation) in chart "
      f"grafana: {allow_hint('grafana', 'extraContainers[0].securityContext.allowPrivilegeEscalation')}"]),
    ("kps prometheus root as a float", RELEASE, {"chart": "kube-prometheus-stack", "values": {"prometheus": {
        "prometheusSpec": {"securityContext": {"runAsUser": 0.0}}}}},
     ["[CIS EKS 4.2.6] values.prometheus.prometheusSpec.securityContext.runAsUser is 0 (root) in chart "
      "kube-prometheus-stack: "
      f"{allow_hint('kube-prometheus-stack', 'prometheus.prometheusSpec.securityContext.runAsUser')}"]),
    # An allowance names its chart: the collector's path in another chart is not allowed.
    ("collector's allowance in another chart", CHART, {**COLLECTOR, "chart": "loki"},
     [f"[CIS EKS 4.2.6] values.securityContext.runAsUser is 0 (root) in chart loki: "
      f"{allow_hint('loki', 'securityContext.runAsUser')}"]),
    ("hostNetwork in values", CHART, broken(GRAFANA_HARDENED, lambda g: g["values"].update(hostNetwork=True)),
     [f"[CIS EKS 4.2.4] values.hostNetwork is true (the node's network) in chart grafana: "
      f"{allow_hint('grafana', 'hostNetwork')}"]),
    ("NET_RAW added in values", CHART, broken(GRAFANA_HARDENED, lambda g: g["values"]["containerSecurityContext"].update(
        capabilities={"add": ["NET_BIND_SERVICE", "NET_RAW"]})),
     ["[CIS EKS 4.2.7] values.containerSecurityContext.capabilities.add is [NET_RAW] (added capabilities) in chart "
      f"grafana: {allow_hint('grafana', 'containerSecurityContext.capabilities.add')}"]),
]


def test_values_privilege_happy_path() -> None:
    policy = security.helm_values_unprivileged
    assert check_resource(policy, CHART, GRAFANA_HARDENED) == []
    # Our render's own needs, allowed by default with their reasons.
    assert check_resource(policy, CHART, COLLECTOR) == []
    assert check_resource(policy, RELEASE, CHAOS) == []
    # Plain objects are the containers policy's business.
    assert check_resource(policy, "kubernetes:apps/v1:DaemonSet", {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "securityContext": {"privileged": True}}]}}}}) == []


@pytest.mark.parametrize(("case", "typ", "props", "messages"), VALUES_PRIVILEGE_CASES,
                         ids=[c[0] for c in VALUES_PRIVILEGE_CASES])
def test_values_privilege_broken(case: str, typ: str, props: dict[str, Any], messages: list[str]) -> None:
    assert check_resource(security.helm_values_unprivileged, typ, props) == messages


def test_values_privilege_allowances_are_config() -> None:
    assert check_resource(security.helm_values_unprivileged, CHART, COLLECTOR, config={"allowedSettings": []}) == [
        "[CIS EKS 4.2.6] values.securityContext.runAsUser is 0 (root) in chart opentelemetry-collector: "
        f"{allow_hint('opentelemetry-collector', 'securityContext.runAsUser')}"
    ]
    grafana_root = broken(GRAFANA_HARDENED, lambda g: g["values"]["securityContext"].update(runAsUser=0))
    allowed = [{"chart": "grafana", "path": "securityContext.runAsUser", "reason": "test"}]
    assert check_resource(security.helm_values_unprivileged, CHART, grafana_root,
                          config={"allowedSettings": allowed}) == []
