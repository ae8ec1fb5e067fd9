"""Security policies: S3 buckets, IAM scope, exposed UIs, plaintext credentials, container hardening."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._common import (
    SECRET_TEXT,
    UNKNOWN,
    Path,
    Report,
    chart_name,
    cite,
    fmt_path,
    get,
    helm_values,
    is_helm,
    is_plain_text,
    is_unknown,
    items,
    k8s_group,
    k8s_kind,
    labels_and_name,
    listing,
    mapping,
    name_words,
    namespace_of,
    number,
    pod_spec_path,
    schema,
    settings,
    string_list,
    under_helm_chart,
    walk,
    words,
)

# ================================================================== S3 buckets and their companions
# pulumi-aws v7 configures a bucket through separate resources (BucketServerSideEncryptionConfiguration,
# BucketVersioning, BucketPublicAccessBlock), so "this bucket is encrypted" is a fact about the stack.

BUCKET_SCHEMA = schema(
    {
        "bucketTypes": string_list(
            default=["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
            description="Resource types that are S3 buckets.",
        )
    }
)
_ENCRYPTION_SCHEMA = schema(
    {
        **BUCKET_SCHEMA.properties,
        "algorithms": string_list(
            default=["aws:kms", "aws:kms:dsse"],
            description="Default encryption algorithms a bucket may use (Security Hub S3.17 asks for KMS; add "
            "AES256 to accept S3-managed keys).",
        ),
    }
)
_SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
_VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
_PAB_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
_PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _attached(companion: PolicyResource, bucket: PolicyResource, bucket_types: list[str]) -> bool:
    """Does this companion configure that bucket?

    By the bucket input's dependencies where the engine gives them (known during preview
    even before the bucket's name is), else by the bucket name, else by its only bucket dependency.
    """
    deps = (companion.property_dependencies or {}).get("bucket") or []
    if deps:
        return any(dep.urn == bucket.urn for dep in deps)
    value = get(companion.props, "bucket")
    if isinstance(value, str) and value in {get(bucket.props, "bucket"), get(bucket.props, "id")} - {None}:
        return True
    buckets = [dep for dep in companion.dependencies or [] if dep.resource_type in bucket_types]
    return len(buckets) == 1 and buckets[0].urn == bucket.urn


def buckets_and_companions(
    args: StackValidationArgs, companion_types: tuple[str, ...], bucket_types: list[str]
) -> Iterator[tuple[PolicyResource, list[PolicyResource]]]:
    companions = [r for r in args.resources if r.resource_type in companion_types]
    for bucket in args.resources:
        if bucket.resource_type in bucket_types:
            yield bucket, [c for c in companions if _attached(c, bucket, bucket_types)]


def _sse_algorithms(tree: Any) -> list[str]:
    return [value for path, value in walk(tree) if path and path[-1] == "sseAlgorithm" and isinstance(value, str)]


def _validate_encrypted(args: StackValidationArgs, report: Report) -> None:
    cfg = settings(args, _ENCRYPTION_SCHEMA)
    for bucket, companions in buckets_and_companions(args, _SSE_TYPES, cfg["bucketTypes"]):
        algorithms = _sse_algorithms(get(bucket.props, "serverSideEncryptionConfiguration"))
        algorithms += [a for c in companions for a in _sse_algorithms(get(c.props, "rules"))]
        if not algorithms:
            report(f"{cite('Security Hub S3.17')} no BucketServerSideEncryptionConfiguration: add one with "
                   "rules[].applyServerSideEncryptionByDefault.sseAlgorithm aws:kms", bucket.urn)
        for algorithm in algorithms:
            if algorithm not in cfg["algorithms"]:
                report(f"{cite('Security Hub S3.17')} sseAlgorithm '{algorithm}' is not one of "
                       f"{', '.join(cfg['algorithms'])}: set "
                       "rules[].applyServerSideEncryptionByDefault.sseAlgorithm aws:kms", bucket.urn)


def _validate_versioned(args: StackValidationArgs, report: Report) -> None:
    cfg = settings(args, BUCKET_SCHEMA)
    for bucket, companions in buckets_and_companions(args, _VERSIONING_TYPES, cfg["bucketTypes"]):
        statuses = [get(c.props, "versioningConfiguration", "status") for c in companions]
        if get(bucket.props, "versioning", "enabled") is True:
            statuses.append("Enabled")
        if not statuses:
            report(f"{cite('Security Hub S3.14')} no BucketVersioning: add one with versioningConfiguration.status "
                   "Enabled", bucket.urn)
        elif "Enabled" not in statuses:
            shown = ", ".join(repr(s) for s in statuses if s is not None) or "not set"
            report(f"{cite('Security Hub S3.14')} versioningConfiguration.status is {shown}, not 'Enabled': set it to "
                   "Enabled", bucket.urn)


def _validate_public_access_blocked(args: StackValidationArgs, report: Report) -> None:
    cfg = settings(args, BUCKET_SCHEMA)
    for bucket, companions in buckets_and_companions(args, _PAB_TYPES, cfg["bucketTypes"]):
        if not companions:
            report(f"{cite('FSBP S3.8')} no BucketPublicAccessBlock: add one with {', '.join(_PAB_FLAGS)} all true",
                   bucket.urn)
            continue
        # AWS reads a flag left unset as false, so only an explicit true counts.
        off = [flag for flag in _PAB_FLAGS if not any(get(c.props, flag) is True for c in companions)]
        if off:
            report(f"{cite('FSBP S3.8')} BucketPublicAccessBlock leaves {', '.join(off)} off (unset is off): set all "
                   "four to true", bucket.urn)


s3_bucket_encrypted = StackValidationPolicy(
    name="s3-bucket-encrypted",
    description="Every S3 bucket has default server-side encryption with KMS (aws:kms or aws:kms:dsse).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_encrypted,
    config_schema=_ENCRYPTION_SCHEMA,
)
s3_bucket_versioned = StackValidationPolicy(
    name="s3-bucket-versioned",
    description="Every S3 bucket has versioning enabled, so a bad write or delete can be undone.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_versioned,
    config_schema=BUCKET_SCHEMA,
)
s3_bucket_public_access_blocked = StackValidationPolicy(
    name="s3-bucket-public-access-blocked",
    description="Every S3 bucket has a public access block with all four settings on.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_public_access_blocked,
    config_schema=BUCKET_SCHEMA,
)

_ACL_SCHEMA = schema(
    {
        "bucketTypes": BUCKET_SCHEMA.properties["bucketTypes"],
        "aclTypes": string_list(
            default=["aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"],
            description="Resource types that set a bucket's ACL.",
        )
    }
)


def _validate_acls(args: ResourceValidationArgs, report: Report) -> None:
    props, kind = args.props, args.resource_type
    if kind == "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
        ownership = get(props, "rule", "objectOwnership", unknown=UNKNOWN)
        if ownership is not UNKNOWN and ownership != "BucketOwnerEnforced":
            report(f"{cite('FSBP S3.12')} rule.objectOwnership is {ownership!r}: ACLs then grant access beside the "
                   "bucket policy; set it BucketOwnerEnforced (ACLs off, the bucket owner owns every object)")
        return
    cfg = settings(args, _ACL_SCHEMA)
    if kind in cfg["aclTypes"] or kind in cfg["bucketTypes"]:
        acl = get(props, "acl")
        grants = listing(get(props, "grants")) + listing(get(props, "accessControlPolicy", "grants"))
        if acl not in (None, "private") or grants:
            where = f"acl is {acl!r}" if acl not in (None, "private") else "grants are set"
            report(f"{cite('FSBP S3.12')} {where}: access goes through an ACL; remove it and grant access in the "
                   "bucket policy or IAM, with the bucket's objectOwnership BucketOwnerEnforced")


s3_bucket_acls_disabled = ResourceValidationPolicy(
    name="s3-bucket-acls-disabled",
    description="No S3 bucket grants access through an ACL: no ACL or grants, object ownership BucketOwnerEnforced.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_acls,
    config_schema=_ACL_SCHEMA,
)

# ================================================================== IAM

_IAM_SCHEMA = schema(
    {
        "forbiddenManagedPolicies": string_list(
            default=["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonS3FullAccess"],
            description="AWS managed policies (name after `policy/`) no role, user or group may attach.",
        ),
        "allowedServiceWildcards": string_list(
            default=[],
            description="Wildcard actions (e.g. `logs:*`, `ec2:Describe*`) allowed on every resource "
            "(`*`) or every bucket.",
        ),
    }
)
# IAM patterns: `*` matches any run of characters, `?` any one. A part made of them only, with a `*`
# among them (`*`, `?*`, `*?`), matches every name; `?`s alone match only names of that length.
_ALL = r"[*?]*\*[*?]*"
# Resources that name every S3 bucket (or every bucket's objects): `arn:aws:s3:::*`, `arn:*:s3:::?*/*`.
# S3 ARNs have no region or account; a wildcard there still names them all.
_ALL_BUCKETS = re.compile(rf"^arn:(?:[*?]+|aws[a-z-]*):s3:[*?]*:[*?]*:{_ALL}(?:/{_ALL})?$", re.IGNORECASE)
# Every resource of every service: `*`, `?*`, `arn:*:*:*:*:*`.
_ALL_RESOURCES = re.compile(rf"^(?:{_ALL}|arn:[^:]*:{_ALL}:[^:]*:[^:]*:{_ALL})$")
# Every role of an account (or of all): `arn:aws:iam::123456789012:role/*`, or every IAM resource of one:
# `arn:aws:iam::123456789012:*`.
_ALL_ROLES = re.compile(rf"^arn:[^:]*:iam::[^:]*:(?:role/)?{_ALL}$", re.IGNORECASE)
# Every KMS key of an account or region: `arn:aws:kms:*:123456789012:key/*`.
_ALL_KEYS = re.compile(rf"^arn:[^:]*:kms:[^:]*:[^:]*:(?:key/)?{_ALL}$", re.IGNORECASE)


def matches_everything(pattern: str) -> bool:
    """Does an IAM name pattern match every name (`*`, `?*`, `*?*`)?"""
    return re.fullmatch(_ALL, pattern) is not None


def _everything(statement: Any) -> tuple[str, str] | None:
    """(what the statement's resources cover, what to scope to) when they cover every resource or every
    bucket: `*` (or `?*`), a NotResource (everything but a list), or an all-buckets ARN."""
    resources = [r for r in listing(get(statement, "Resource")) if isinstance(r, str)]
    every = [r for r in resources if _ALL_RESOURCES.match(r)]
    if every or get(statement, "NotResource") is not None:
        return f"every resource ({', '.join(every) or 'NotResource'})", "the resources' ARNs"
    buckets = [r for r in resources if _ALL_BUCKETS.match(r)]
    if buckets:
        return f"every bucket ({', '.join(buckets)})", "the buckets' ARNs"
    return None


def _is_wildcard(action: str) -> bool:
    return "*" in action or "?" in action


def _every_action(action: str) -> bool:
    """`*`, `*:*`, `?*`, `*:?*`: a pattern that names every action of every service."""
    return all(matches_everything(part) for part in action.split(":", 1))


def action_matches(pattern: str, action: str) -> bool:
    """Does an IAM action pattern name the action? `iam:Pass*`, `iam:PassRol?` and `iam:*` name iam:PassRole.
    IAM patterns know only `*` and `?` and ignore case (fnmatch would also read `[...]` as a set)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, re.IGNORECASE | re.DOTALL) is not None


def _applies_to_s3(action: str) -> bool:
    """Could the action (a pattern) name an S3 action? `*`, `s3:*`, `s3:Get*`, `s*:*`."""
    service = action.split(":", 1)[0] if ":" in action else action
    return fnmatch.fnmatchcase("s3", service.lower())


def _policy_documents(props: Any) -> Iterator[tuple[str, Any]]:
    """(where, document) for every `policy` field of an IAM resource (JSON text or object)."""
    for path, value in walk(props):
        if not path or path[-1] != "policy":
            continue
        where = fmt_path(path)
        if isinstance(value, Mapping):
            yield where, value
        elif isinstance(value, str) and value != SECRET_TEXT and not is_unknown(value):
            try:
                yield where, json.loads(value)
            except ValueError:
                yield where, None


# Policies attached to a user rather than a group or role (FSBP IAM.2).
_USER_POLICY_TYPES = ("aws:iam/userPolicy:UserPolicy", "aws:iam/userPolicyAttachment:UserPolicyAttachment")
# The decryption actions FSBP KMS.1 and KMS.2 keep off every key.
_DECRYPT_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom")


def _kms_decrypt_control(resource_type: str) -> str:
    """KMS.1 judges customer managed policies, KMS.2 inline ones."""
    return "FSBP KMS.1" if resource_type == "aws:iam/policy:Policy" else "FSBP KMS.2"


def _validate_iam(args: ResourceValidationArgs, report: Report) -> None:
    if not args.resource_type.startswith("aws:iam/"):
        return
    cfg = settings(args, _IAM_SCHEMA)
    attachment = args.resource_type == "aws:iam/policyAttachment:PolicyAttachment"
    users = listing(get(args.props, "users")) if attachment else []
    if args.resource_type in _USER_POLICY_TYPES or users:
        where = "users" if users else "user"
        report(f"{cite('FSBP IAM.2')} {where}: a policy attached to an IAM user: attach it to a group or a role "
               "the user assumes")
    for path, value in walk(args.props):
        if (path and path[-1] in ("policyArn", "managedPolicyArns")) or path[-2:-1] == ("managedPolicyArns",):
            for arn in listing(value):
                if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in cfg["forbiddenManagedPolicies"]:
                    report(f"{cite('FSBP IAM.1')} {fmt_path(path)} attaches the AWS managed policy "
                           f"{arn.rsplit('/', 1)[-1]}: write a policy scoped to what the workload needs")
    for where, document in _policy_documents(args.props):
        if document is None:
            report(f"{cite('FSBP IAM.1')} {where} is not a JSON policy document, so what it allows cannot be "
                   'checked: write it as JSON ({"Version": "2012-10-17", "Statement": [...]})')
            continue
        for index, statement in enumerate(listing(get(document, "Statement"))):
            if not isinstance(statement, Mapping) or get(statement, "Effect", default="Allow") != "Allow":
                continue
            sid = get(statement, "Sid")
            label = f"'{sid}'" if isinstance(sid, str) and sid else str(index)
            if get(statement, "NotAction") is not None:
                report(f"{cite('FSBP IAM.1')} {where}: statement {label} allows every action but its NotAction "
                       "list: list the allowed actions instead")
            for message in _statement_problems(statement, args.resource_type, cfg):
                report(f"{message[0]} {where}: statement {label} {message[1]}")


def _includes(action: str, named: str) -> str:
    """`iam:Pass*` -> ` (which includes iam:PassRole)`; nothing when the action is the one (or ones) named."""
    return "" if action.lower() == named.lower() else f" (which includes {named})"


def _statement_problems(statement: Any, resource_type: str, cfg: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(cited controls, what the statement allows and the fix) for one Allow statement's actions."""
    everything = _everything(statement)
    resources = [r for r in listing(get(statement, "Resource")) if isinstance(r, str)]
    # Every resource, not every bucket: S3 ARNs name no role and no key.
    every_resource = everything[0] if everything and not everything[0].startswith("every bucket") else None
    roles = ", ".join(r for r in resources if _ALL_ROLES.match(r)) or every_resource
    all_keys = ", ".join(r for r in resources if _ALL_KEYS.match(r))
    keys = f"every key ({all_keys})" if all_keys else every_resource
    allowed = [a.lower() for a in cfg["allowedServiceWildcards"]]
    for action in listing(get(statement, "Action")):
        if not isinstance(action, str):
            continue
        if _every_action(action):
            yield cite("FSBP IAM.1"), f"allows every action ({action}): list the actions the workload needs"
            continue
        if everything and _is_wildcard(action) and action.lower() not in allowed:
            covered, scope = everything
            if not covered.startswith("every bucket") or _applies_to_s3(action):  # ec2:* on S3 ARNs: matches nothing
                yield cite("FSBP IAM.21"), f"allows {action} on {covered}: scope it to {scope}"
        if roles and action_matches(action, "iam:PassRole"):
            yield (cite("RAC IAM.PassRole"),
                   f"allows {action}{_includes(action, 'iam:PassRole')} on {roles}: whoever holds it can hand any "
                   "role to a service and act as it; list the roles' ARNs and add a Condition on iam:PassedToService")
        decrypts = [a for a in _DECRYPT_ACTIONS if action_matches(action, a)]
        if keys and decrypts:
            yield (cite(_kms_decrypt_control(resource_type)),
                   f"allows {action}{_includes(action, ', '.join(decrypts))} on {keys}: scope it to the keys' ARNs")


iam_least_privilege = ResourceValidationPolicy(
    name="iam-least-privilege",
    description="IAM policies name their actions and resources: no `*` or `*:*`, no wildcard action on `*` "
    "or on every S3 bucket.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_iam,
    config_schema=_IAM_SCHEMA,
)

# ================================================================== UIs exposed without authentication

_EXPOSURE_SCHEMA = schema(
    {
        "components": string_list(
            default=["grafana", "prometheus", "alertmanager", "thanos"],
            description="Names (words of a Service/Ingress name or label, or of a values path) of UIs "
            "and APIs that must not be reachable without authentication.",
        ),
        "exposedServiceTypes": string_list(
            default=["LoadBalancer", "NodePort"],
            description="Service types that make a Service reachable from outside the cluster.",
        ),
        "authAnnotations": string_list(
            default=[
                "nginx.ingress.kubernetes.io/auth-url",
                "nginx.ingress.kubernetes.io/auth-type",
                "alb.ingress.kubernetes.io/auth-type",
                "ingress.kubernetes.io/auth-type",
            ],
            description="Ingress and Gateway API route annotations that put authentication in front of "
            "the backend.",
        ),
    }
)
# Grafana's own login only counts with single sign-on (a shared admin password does not). auth.proxy is
# not one: Grafana then logs in whoever the X-WEBAUTH-USER header names, so it is only as safe as the
# proxy that sets that header (see `_grafana_auth`).
_GRAFANA_SSO = ("generic_oauth", "github", "gitlab", "google", "azuread", "okta", "jwt", "ldap")
_PROXY_RISK = ("grafana.ini auth.proxy trusts the X-WEBAUTH-USER header from whoever connects, so anyone who "
               "reaches grafana this way can log in as any user, admin too; auth.proxy counts only behind an Ingress "
               "or route with an auth annotation (nginx auth-url, oauth2-proxy) that authenticates first")


def _component(names: set[str], components: list[str]) -> str | None:
    for component in components:
        if component.lower() in names:
            return component
    return None


def _grafana_auth(values: Any) -> tuple[bool, bool]:
    """(sso, proxy) of a Grafana's values: sso when grafana.ini enables an SSO section (or the chart's LDAP
    switch) and anonymous access is off; proxy when auth.proxy is on (grafana.ini or GF_AUTH_PROXY_ENABLED).

    With auth.proxy on, Grafana logs in whoever the X-WEBAUTH-USER header names, whatever other login it
    has, so a Grafana reached without an authenticating proxy in front is open to anyone.
    """
    ini = mapping(get(values, "grafana.ini"))
    flat: dict[str, Any] = {}
    for key, section in items(ini):
        for sub, value in items(section):
            flat[f"{key}.{sub}"] = value
            for leaf, inner in items(value):  # {"auth": {"generic_oauth": {"enabled": true}}}
                flat[f"{key}.{sub}.{leaf}"] = inner

    def on(setting: str, env: str) -> bool:
        return flat.get(setting) in (True, "true") or get(values, "env", env) in (True, "true")

    proxy = on("auth.proxy.enabled", "GF_AUTH_PROXY_ENABLED")
    if on("auth.anonymous.enabled", "GF_AUTH_ANONYMOUS_ENABLED"):
        return False, proxy
    sso = get(values, "ldap", "enabled") is True or any(
        flat.get(f"auth.{name}.enabled") in (True, "true") for name in _GRAFANA_SSO
    )
    return sso, proxy


def _component_root(path: Path, component: str) -> Path:
    """The values subtree of a component: `("grafana",)` in kube-prometheus-stack, `()` in the grafana chart."""
    for end in range(len(path), 0, -1):
        part = path[end - 1]
        if isinstance(part, str) and component.lower() in words(part):
            return path[:end]
    return ()


def _has_auth_annotation(annotations: Any, auth_annotations: list[str]) -> bool:
    return any(
        key in auth_annotations and isinstance(value, str) and value.strip().lower() not in ("", "none", "false")
        for key, value in items(annotations)
    )


def _is_values_route(path: Path, node: Any) -> bool:
    """A Gateway API HTTPRoute in chart values: `route.<name>` (grafana chart, kube-prometheus-stack's
    `alertmanager.route.main`, `prometheus.route.main`, ...) or a `route` block with `enabled` of its own.
    Alertmanager's routing tree (`config.route`) has no `enabled`, so it never counts."""
    if not isinstance(node, Mapping) or "enabled" not in node or not path or not isinstance(path[-1], str):
        return False
    parent = path[-2] if len(path) >= 2 else None
    return path[-1].lower() == "route" or (isinstance(parent, str) and parent.lower() == "route")


def _values_exposures(values: Any, chart: str, cfg: dict[str, Any]) -> Iterator[tuple[Path, str, str, str]]:
    """(path, component, problem, why) for each Service type or Ingress/route in Helm values that exposes a UI
    without authentication."""
    unauthenticated = ("it exposes {ui} without authentication; keep it ClusterIP and reach it through an "
                       "authenticating proxy or an Ingress with an auth annotation")
    for path, node in walk(values):
        if not path or not isinstance(node, Mapping) or not isinstance(path[-1], str):
            continue
        key = path[-1]
        names: set[str] = set()
        for part in path:
            if isinstance(part, str):
                names |= words(part)
        component = _component(names, cfg["components"]) or _component(words(chart), cfg["components"])
        if component is None:
            continue
        root = _component_root(path, component)
        sso, proxy = _grafana_auth(get(values, *root) if root else values) if component == "grafana" else (False, False)
        kind = key.lower()
        if _is_values_route(path, node):
            kind = "httproute"
        if kind.endswith("service") and get(node, "type") in cfg["exposedServiceTypes"]:
            # Reached directly: no proxy in front, so auth.proxy lets anyone in.
            if proxy:
                why = f"{_PROXY_RISK}: keep the Service ClusterIP and expose Grafana only through such an Ingress"
                yield (*path, "type"), component, f"is {get(node, 'type')}", why
            elif not sso:
                yield (*path, "type"), component, f"is {get(node, 'type')}", unauthenticated.format(ui=component)
        elif (kind.endswith("ingress") or kind.endswith("httproute")) and get(node, "enabled") is True:
            if _has_auth_annotation(get(node, "annotations"), cfg["authAnnotations"]):
                continue
            what = "an Ingress" if kind.endswith("ingress") else "an HTTPRoute"
            if proxy:
                why = f"{_PROXY_RISK}: give this one an auth annotation (authAnnotations in the policy config)"
                yield (*path, "enabled"), component, f"enables {what}", why
            elif not sso:
                yield (*path, "enabled"), component, f"enables {what}", unauthenticated.format(ui=component)


def _ingress_backends(props: Any) -> set[str]:
    found = set()
    for path, value in walk(get(props, "spec")):
        at_backend = path[-1:] in (("serviceName",), ("name",)) and path[-2:-1] in (("service",), ("backend",))
        if at_backend and isinstance(value, str):
            found.add(value)
    return found


def _route_backends(props: Any) -> set[str]:
    """Service names a Gateway API route sends to (`spec.rules[].backendRefs[].name`, kind Service by default)."""
    found = set()
    for rule in listing(get(props, "spec", "rules")):
        for ref in listing(get(rule, "backendRefs")):
            name = get(ref, "name")
            if isinstance(name, str) and get(ref, "kind", default="Service") == "Service":
                found.add(name)
    return found


_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")


def _validate_exposure(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _EXPOSURE_SCHEMA)
    props = args.props
    if is_helm(args.resource_type):
        for path, _, problem, why in _values_exposures(helm_values(props), chart_name(props), cfg):
            report(f"{cite('RAC UI.Auth')} values.{fmt_path(path)} {problem}: {why}")
        return
    kind = k8s_kind(args.resource_type)
    if kind == "Service" and get(props, "spec", "type") in cfg["exposedServiceTypes"]:
        names = labels_and_name(props)
        for _, value in items(get(props, "spec", "selector")):
            if isinstance(value, str):
                names |= words(value)
        component = _component(names, cfg["components"])
        if component:
            report(f"{cite('RAC UI.Auth')} Service of type {get(props, 'spec', 'type')} exposes {component} "
                   "without authentication: make it ClusterIP and put an authenticating proxy or Ingress in front")
    elif kind == "Ingress" and k8s_group(args.resource_type) in ("networking.k8s.io", "extensions"):
        names = labels_and_name(props)
        backends = _ingress_backends(props)
        for backend in backends:
            names |= words(backend)
        component = _component(names, cfg["components"])
        if component and not _has_auth_annotation(get(props, "metadata", "annotations"), cfg["authAnnotations"]):
            report(f"{cite('RAC UI.Auth')} Ingress routes to {component} without an authentication annotation "
                   f"(one of {', '.join(cfg['authAnnotations'])})")
    elif kind in _ROUTE_KINDS and k8s_group(args.resource_type) == "gateway.networking.k8s.io":
        names = labels_and_name(props)
        for backend in _route_backends(props):
            names |= words(backend)
        component = _component(names, cfg["components"])
        if component and not _has_auth_annotation(get(props, "metadata", "annotations"), cfg["authAnnotations"]):
            report(f"{cite('RAC UI.Auth')} {kind} routes to {component} without an authentication annotation "
                   f"(one of {', '.join(cfg['authAnnotations'])})")


ui_requires_authentication = ResourceValidationPolicy(
    name="ui-requires-authentication",
    description="Grafana, Prometheus, Alertmanager and Thanos are never exposed (LoadBalancer, NodePort, "
    "Ingress, Gateway API route) without authentication, in plain objects or Helm values.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_exposure,
    config_schema=_EXPOSURE_SCHEMA,
)

# ================================================================== plaintext credentials

_CREDENTIALS_SCHEMA = schema(
    {
        "credentialKeys": string_list(
            default=[
                "password", "passwd", "token", "secret", "credentials", "credential", "api_key", "apikey",
                "routing_key", "service_key", "integration_key", "genie_key", "webhook_url", "secret_key",
                "secret_access_key",
            ],
            description="Key names whose literal value is a credential, matched as a whole name or as the "
            "words it ends with, in any case and style: `api_key` matches `FOO_API_KEY`, `opsgenieApiKey`, "
            "`x-api-key`; `token` matches `bearer_token`. `*_file` keys and references (`$__file{...}`, "
            "`${VAR}`, secretKeyRef) are fine.",
        ),
        "secretNameKeys": string_list(
            default=[
                "existing_secret", "config_secret", "tls_secret", "env_from_secret", "credentials_secret",
                "password_secret", "token_secret",
            ],
            description="Key names (or endings, matched like credentialKeys) that end like a credential but "
            "name a Kubernetes Secret, as charts do (`existingSecret: grafana-admin`).",
        ),
        "extraPatterns": string_list(
            default=[],
            description="More regular expressions of credential text.",
        ),
    }
)
_PATTERNS = (
    ("Slack webhook URL", re.compile(r"https?://hooks\.slack\.com/\S+")),
    ("private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
    ("Slack token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}")),
    ("AWS access key ID", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
)
# Values that point at a credential instead of being one: empty, a file path, `$VAR`/`${VAR}`, Grafana's
# `$__file{...}`/`$__env{...}`, a template, a placeholder, the render's masks.
_REFERENCE = re.compile(r"^\s*(?:$|/|\$|\{\{|<|file:|env:|secret:|vault:|\[secret\]|\[unknown\])")
# Where a value is taken from elsewhere (Kubernetes env `valueFrom.secretKeyRef`, `envFrom`).
_REFERENCE_KEYS = frozenset({"valueFrom", "secretKeyRef", "secretRef", "envFrom", "configMapKeyRef"})
# `key: value` / `key = value` / `"key": "value"` / `--key=value` inside config text (YAML, INI, JSON, args),
# on one line: the key is then judged like any other key name.
_EMBEDDED = re.compile(
    r"(?<![A-Za-z0-9_.])[\"']?([A-Za-z_][A-Za-z0-9_-]*)[\"']?[ \t]*[:=][ \t]*[\"']?([^\s\"',#}\]]+)"
)


class _KeyNames:
    """Which key names mean a credential: credentialKeys as whole names or endings, minus secretNameKeys."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self._credential = [name_words(k) for k in cfg["credentialKeys"] if name_words(k)]
        self._secret_name = [name_words(k) for k in cfg["secretNameKeys"] if name_words(k)]

    @staticmethod
    def _ends(key: tuple[str, ...], endings: list[tuple[str, ...]]) -> bool:
        return any(key[-len(end):] == end for end in endings)

    def credential(self, key: str) -> bool:
        parts = name_words(key)
        return self._ends(parts, self._credential) and not self._ends(parts, self._secret_name)


def _decoded(text: str) -> str | None:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _named_key(props: Any, path: Path) -> str | None:
    """The key a value belongs to: its own key, or the `name` beside a `value` (Kubernetes env lists)."""
    key = path[-1] if path and isinstance(path[-1], str) else None
    if key == "value" and len(path) >= 2 and isinstance(path[-2], int):
        name = get(props, *path[:-1], "name")
        return name if isinstance(name, str) else key
    return key


def _chart_secret_data(path: Path) -> bool:
    """A value under `<something>Secret.data` / `.stringData` in Helm values: a chart turns it into a
    Secret (kube-prometheus-stack `alertmanager.extraSecret.data`), whatever its key is called."""
    if len(path) < 4 or path[0] != "values" or path[-2] not in ("data", "stringData"):
        return False
    owner = path[-3]
    return isinstance(owner, str) and any(w.startswith("secret") for w in name_words(owner))


def credential_findings(props: Any, resource_type: str, cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, where) for each plaintext credential in a resource's props; values never echoed."""
    names = _KeyNames(cfg)
    patterns = [*_PATTERNS, *(("credential pattern", re.compile(p)) for p in cfg["extraPatterns"])]
    secret_data = k8s_kind(resource_type) == "Secret" and k8s_group(resource_type) == "core"
    found: list[tuple[str, str]] = []
    for path, value in walk(props):
        if not is_plain_text(value) or any(part in _REFERENCE_KEYS for part in path):
            continue
        text = value
        if secret_data and len(path) == 2 and path[0] == "data":
            text = _decoded(value) or value
        where = fmt_path(path)
        key = _named_key(props, path)
        if key is not None and not _REFERENCE.match(text):
            if names.credential(key):
                found.append((f"literal {key}", where))
                continue
            if _chart_secret_data(path):
                found.append((f"Secret data {key}", where))
                continue
        for label, pattern in patterns:
            if pattern.search(text):
                found.append((label, where))
        for match in _EMBEDDED.finditer(text):
            if names.credential(match[1]) and not _REFERENCE.match(match[2]):
                found.append((f"literal {match[1]}", where))
    return found


def _validate_credentials(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _CREDENTIALS_SCHEMA)
    seen = set()
    for label, where in credential_findings(args.props, args.resource_type, cfg):
        if (label, where) in seen:
            continue
        seen.add((label, where))
        report(f"{cite('CIS EKS 4.4.2')} {label} in plain text at {where}: make it a Pulumi secret (pulumi config "
               "set --secret) held in a Kubernetes Secret and reference that (*_file, existingSecret)")


no_plaintext_credentials = ResourceValidationPolicy(
    name="no-plaintext-credentials",
    description="No Slack webhook, PagerDuty/OpsGenie key, password or private key in plain text (Helm values, "
    "ConfigMaps, Secrets built from plain config, any input): only Pulumi secrets.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_credentials,
    config_schema=_CREDENTIALS_SCHEMA,
)

# ================================================================== our containers: non-root, sized

_CONTAINER_SCHEMA = schema(
    {
        "requireCpuLimit": {
            "type": "boolean",
            "default": False,
            "description": "Also require limits.cpu (off: CPU limits throttle; requests.cpu, requests.memory "
            "and limits.memory are required).",
        },
        "exemptWorkloads": string_list(
            default=[],
            description="`namespace/name` of workloads allowed to run as root.",
        ),
    }
)


def _container_problems(container: Any, pod_security: Any, cfg: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(control id or None, problem) of one container."""
    security = mapping(get(container, "securityContext"))
    user = number(get(security, "runAsUser", default=get(pod_security, "runAsUser")))
    non_root = get(security, "runAsNonRoot", default=get(pod_security, "runAsNonRoot"))
    problems: list[tuple[str | None, str]] = []
    if user == 0:
        problems.append(("CIS EKS 4.2.6", "runs as root (runAsUser: 0): set securityContext.runAsUser to a "
                         "non-zero user and runAsNonRoot: true"))
    elif not (user is not None and user > 0) and non_root is not True:
        problems.append(("CIS EKS 4.2.6", "does not set runAsNonRoot: true or a non-zero runAsUser: set "
                         "securityContext.runAsNonRoot: true (on the container or the pod)"))
    if get(security, "privileged") is True:
        problems.append(("CIS EKS 4.2.1", "is privileged (securityContext.privileged: true): remove it"))
    required = [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")]
    if cfg["requireCpuLimit"]:
        required.append(("limits", "cpu"))
    missing = [
        f"resources.{a}.{b}" for a, b in required if get(container, "resources", a, b, unknown=UNKNOWN) in (None, "")
    ]
    if missing:
        problems.append((None, f"has no {', '.join(missing)}: set them, so the scheduler places it and the "
                         "kernel bounds its memory"))
    return problems


def _validate_containers(args: ResourceValidationArgs, report: Report) -> None:
    pod_path = pod_spec_path(args.resource_type)
    if pod_path is None:
        return
    if under_helm_chart(args.urn, getattr(args.opts, "parent", None)):
        return  # the chart's own templates; the values we set are checked elsewhere
    cfg = settings(args, _CONTAINER_SCHEMA)
    if f"{namespace_of(args.props)}/{get(args.props, 'metadata', 'name')}" in cfg["exemptWorkloads"]:
        return
    pod = get(args.props, *pod_path)
    pod_security = mapping(get(pod, "securityContext"))
    for field in ("initContainers", "containers"):
        for index, container in enumerate(listing(get(pod, field))):
            where = f"container {get(container, 'name', default='')} ({fmt_path((*pod_path, field, index))})"
            for control, problem in _container_problems(container, pod_security, cfg):
                report(f"{cite(control)} {where} {problem}" if control else f"{where} {problem}")


containers_non_root_with_resources = ResourceValidationPolicy(
    name="containers-non-root-with-resources",
    description="Containers we define (Pods, Deployments, StatefulSets, DaemonSets, Jobs) run as non-root "
    "and set CPU/memory requests and a memory limit.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_containers,
    config_schema=_CONTAINER_SCHEMA,
)

# ================================================================== root and privileged containers in Helm values
# The containers policy leaves a chart's own templates alone; the values we set are checked here, whatever
# key holds them (securityContext, podSecurityContext, containerSecurityContext, a chart's own switch).

_VALUES_PRIVILEGE_SCHEMA = schema(
    {
        "allowedSettings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "chart": {"type": "string", "minLength": 1},
                    "path": {"type": "string", "minLength": 1},
                    "reason": {"type": "string", "minLength": 1},
                },
                "required": ["chart", "path", "reason"],
                "additionalProperties": False,
            },
            "default": [
                {
                    "chart": "opentelemetry-collector",
                    "path": "securityContext.runAsUser",
                    "reason": "the collector DaemonSet reads pod logs under /var/log/pods, which are root-owned "
                    "on the node (opentelemetry-helm-charts#71)",
                },
                {
                    "chart": "chaos-mesh",
                    "path": "chaosDaemon.privileged",
                    "reason": "chaos-daemon enters other pods' namespaces through the container runtime to inject "
                    "faults (the chart's default; its namespace runs the privileged Pod Security level)",
                },
            ],
            "description": "Helm values settings allowed to run a container as root or privileged: the chart "
            "(as in `chart`, without repository or version), the values path as messages print it (without "
            "`values.`), and why it is needed.",
        }
    }
)


_HOST_NAMESPACES = {"hostNetwork": ("the node's network", "CIS EKS 4.2.4"),
                    "hostPID": ("the node's processes", "CIS EKS 4.2.2"),
                    "hostIPC": ("the node's IPC", "CIS EKS 4.2.3")}


def _privilege(path: Path, value: Any) -> tuple[str, str, str] | None:
    """(control, shown value, what it means) when a values setting makes a container root or privileged, or
    puts a pod in the node's namespaces or gives it capabilities."""
    key = path[-1]
    if key == "runAsUser" and (number(value) == 0 or value == "0"):
        return "CIS EKS 4.2.6", "0", "root"
    if key == "runAsNonRoot" and value is False:
        return "CIS EKS 4.2.6", "false", "root allowed"
    if key == "privileged" and value is True:
        return "CIS EKS 4.2.1", "true", "a privileged container"
    if key == "allowPrivilegeEscalation" and value is True:
        return "CIS EKS 4.2.5", "true", "privilege escalation"
    if key in _HOST_NAMESPACES and value is True:
        meaning, control = _HOST_NAMESPACES[key]
        return control, "true", meaning
    if key == "add" and path[-2:-1] == ("capabilities",):
        added = [str(c) for c in listing(value) if str(c).upper() != "NET_BIND_SERVICE"]
        if added:
            control = "CIS EKS 4.2.7" if any(c.upper() in ("NET_RAW", "ALL") for c in added) else "CIS EKS 4.2.8"
            return control, f"[{', '.join(added)}]", "added capabilities"
    return None


def _validate_values_privilege(args: ResourceValidationArgs, report: Report) -> None:
    if not is_helm(args.resource_type):
        return
    cfg = settings(args, _VALUES_PRIVILEGE_SCHEMA)
    chart = chart_name(args.props)
    allowed = {(get(a, "chart"), get(a, "path")) for a in listing(cfg["allowedSettings"])}
    for path, value in walk(helm_values(args.props)):
        found = _privilege(path, value) if path else None
        if found is None:
            continue
        where = fmt_path(path)
        if (chart, where) in allowed:
            continue
        control, shown, meaning = found
        report(f"{cite(control)} values.{where} is {shown} ({meaning}) in chart {chart}: run it as a non-root user "
               f'without privileges, or, if {chart} needs it, add {{"chart": "{chart}", "path": "{where}", '
               '"reason": "..."} to allowedSettings')


helm_values_unprivileged = ResourceValidationPolicy(
    name="helm-values-unprivileged",
    description="Helm values we set never make a container root or privileged, nor share the node's namespaces or "
    "add capabilities, unless allow-listed with a reason.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_values_privilege,
    config_schema=_VALUES_PRIVILEGE_SCHEMA,
)

POLICIES = [
    s3_bucket_encrypted,
    s3_bucket_versioned,
    s3_bucket_public_access_blocked,
    s3_bucket_acls_disabled,
    iam_least_privilege,
    ui_requires_authentication,
    no_plaintext_credentials,
    containers_non_root_with_resources,
    helm_values_unprivileged,
]
