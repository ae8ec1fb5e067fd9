"""Who may act: IAM role trust policies and resource policies (S3 bucket policies, KMS key policies).

A permission policy says what a role may do; its trust policy says who may become it. The usual
failures: a wildcard principal (anyone, in any account), `NotPrincipal` with Allow, and a web-identity
trust (IRSA, GitHub OIDC) without `aud` and `sub` conditions, which lets every service account of the
cluster, or every repository on GitHub, assume the role.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from ._common import UNKNOWN, Report, cite, get, is_plain_text, items, listing, schema, settings, string_list
from .security import matches_everything

# Resource type -> (property holding the document, what it is, control ids for a wildcard principal).
_DOCUMENTS = {
    "aws:iam/role:Role": ("assumeRolePolicy", "trust policy", ("RAC IAM.Trust",)),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy", "bucket policy", ("FSBP S3.2", "FSBP S3.3")),
    "aws:kms/key:Key": ("policy", "key policy", ("FSBP KMS.5",)),
    "aws:kms/keyPolicy:KeyPolicy": ("policy", "key policy", ("FSBP KMS.5",)),
}
_SCHEMA = schema(
    {
        "scopingConditionKeys": string_list(
            default=["aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:SourceAccount",
                     "aws:SourceArn", "aws:SourceOrgID"],
            description="Condition keys that narrow a wildcard principal to known callers.",
        )
    }
)


def _document(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value
    if is_plain_text(value):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return UNKNOWN  # unknown during preview, or a secret: nothing to judge


def _principals(statement: Any) -> Iterator[tuple[str, str]]:
    """(kind, value) of a statement's Principal: `"*"` is ("AWS", "*")."""
    principal = get(statement, "Principal")
    if isinstance(principal, str):
        yield "AWS", principal
    for kind, value in items(principal):
        for one in listing(value):
            if isinstance(one, str):
                yield str(kind), one


def _wildcard(value: str) -> bool:
    """`*`, or an ARN whose account or name is a pattern matching everything (`arn:aws:iam::*:root`)."""
    return matches_everything(value) or any(matches_everything(part) for part in re.split(r"[:/]", value))


def _condition_keys(statement: Any) -> dict[str, list[Any]]:
    """Condition key (lower case) -> values, whatever the operator."""
    out: dict[str, list[Any]] = {}
    for _, block in items(get(statement, "Condition")):
        for key, value in items(block):
            out.setdefault(str(key).lower(), []).extend(listing(value))
    return out


# Operators under which a condition key names who is let in. `StringNotEquals`, `...IfExists` (true when the
# key is absent) and `Null` let in everyone the value does not exclude, so they narrow nothing.
_NARROWING = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})


def _narrowing_values(statement: Any) -> dict[str, list[Any]]:
    """Condition key -> values, for the operators that narrow a principal down."""
    out: dict[str, list[Any]] = {}
    for operator, block in items(get(statement, "Condition")):
        name = str(operator).lower().removeprefix("foranyvalue:").removeprefix("forallvalues:")
        if name not in _NARROWING:
            continue
        for key, value in items(block):
            out.setdefault(str(key), []).extend(listing(value))
    return out


def _open_value(value: Any) -> bool:
    """A condition value that lets every caller through: `*`, `o-*` (every organisation), an ARN in any account
    (`arn:aws:iam::*:role/x`: anyone can name a role x in an account of their own). An ARN whose account is
    named narrows to that account, whatever wildcards its region or resource hold."""
    if not isinstance(value, str):
        return False
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        return len(parts) < 6 or matches_everything(parts[4])
    return matches_everything(value) or re.fullmatch(r"o-[*?]*\*[*?]*", value, re.IGNORECASE) is not None


def _open_subject(value: Any) -> bool:
    """A `sub` pattern that names every subject: `*`, `system:serviceaccount:*`, `repo:*`, `repo:*/*:*`."""
    if not isinstance(value, str):
        return False
    parts = value.split(":")
    if not [p for p in parts if p and not matches_everything(p)]:
        return True
    # system:serviceaccount:<namespace>:<name> with a wildcard namespace names every service account.
    if value.startswith("system:serviceaccount:"):
        return matches_everything(parts[2] if len(parts) > 2 else "")
    # GitHub Actions: repo:<owner>/<repository>:<ref or environment>; a wildcard owner names every repository.
    if value.startswith("repo:"):
        return matches_everything(parts[1].split("/", 1)[0] if len(parts) > 1 else "")
    return False


def _web_identity_problems(statement: Any) -> list[str]:
    actions = [a.lower() for a in listing(get(statement, "Action")) if isinstance(a, str)]
    federated = [v for kind, v in _principals(statement) if kind == "Federated"]
    if "sts:assumerolewithwebidentity" not in actions and not federated:
        return []
    keys = _condition_keys(statement)
    problems = []
    aud = [k for k in keys if k.endswith(":aud")]
    sub = [k for k in keys if k.endswith(":sub")]
    if not aud:
        problems.append("has no `<issuer>:aud` condition (StringEquals sts.amazonaws.com), so tokens minted for "
                        "any audience are accepted")
    else:
        every = sorted({v for k in aud for v in keys[k] if isinstance(v, str) and matches_everything(v)})
        if every:
            problems.append(f"has an `aud` condition that matches every audience ({', '.join(every)}), so tokens "
                            "minted for any audience are accepted: set it to sts.amazonaws.com")
    if not sub:
        problems.append("has no `<issuer>:sub` condition, so every identity of the issuer (every service account of "
                        "the cluster, every repository) can assume the role: name the subjects, e.g. "
                        "system:serviceaccount:<namespace>:<name>")
    else:
        wide = sorted({v for k in sub for v in keys[k] if _open_subject(v)})
        if wide:
            problems.append(f"has a `sub` condition that matches every subject ({', '.join(wide)}): name the "
                            "service accounts (or repositories) that need the role")
    return problems


def _validate_principals(args: ResourceValidationArgs, report: Report) -> None:
    found = _DOCUMENTS.get(args.resource_type)
    if found is None:
        return
    field, what, controls = found
    document = _document(get(args.props, field, unknown=UNKNOWN))
    if document is UNKNOWN or get(args.props, field) is None:
        return
    if document is None:
        report(f"{cite(*controls)} {field} is not a JSON policy document: write the {what} as JSON")
        return
    scoping = {k.lower() for k in settings(args, _SCHEMA)["scopingConditionKeys"]}
    for index, statement in enumerate(listing(get(document, "Statement"))):
        if not isinstance(statement, Mapping) or get(statement, "Effect", default="Allow") != "Allow":
            continue
        sid = get(statement, "Sid")
        label = f"{field}: statement " + (f"'{sid}'" if isinstance(sid, str) and sid else str(index))
        if get(statement, "NotPrincipal") is not None:
            report(f"{cite(*controls)} {label} allows everyone but its NotPrincipal list: name the principals in "
                   "Principal instead")
        wild = sorted({v for kind, v in _principals(statement) if kind in ("AWS", "*") and _wildcard(v)})
        narrowing = {k: v for k, v in _narrowing_values(statement).items() if k.lower() in scoping}
        if wild and not narrowing:
            report(f"{cite(*controls)} {label} allows principal {', '.join(wild)}, anyone in any AWS account, with "
                   "no condition narrowing it: name the accounts or roles, or add a Condition on aws:PrincipalOrgID "
                   "(or another of scopingConditionKeys)")
        elif wild and all(any(_open_value(v) for v in values) for values in narrowing.values()):
            opened = ", ".join(f"{k} {v}" for k, values in sorted(narrowing.items()) for v in values if _open_value(v))
            report(f"{cite(*controls)} {label} allows principal {', '.join(wild)}, anyone in any AWS account, and its "
                   f"condition matches every caller ({opened}): set the condition to your organisation id, accounts "
                   "or role ARNs, without wildcards")
        if args.resource_type == "aws:iam/role:Role":
            for problem in _web_identity_problems(statement):
                report(f"{cite('RAC IAM.WebIdentity', 'CIS EKS 5.2.1')} {label} trusts a web identity but {problem}")


iam_principals_scoped = ResourceValidationPolicy(
    name="iam-principals-scoped",
    description="Trust, bucket and key policies name who they let in: no wildcard principal without a scoping "
    "condition, no NotPrincipal, web-identity trust with aud and sub conditions.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_principals,
    config_schema=_SCHEMA,
)

POLICIES = [iam_principals_scoped]
