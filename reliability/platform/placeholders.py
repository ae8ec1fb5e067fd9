"""Values from documentation that deploy something nobody can use, refused outside example stacks.

The committed stack files are examples: their `publicAccessCidrs` are RFC 5737 documentation
ranges and their `adminArns` use example account ids, so a cluster deployed from them has an
API endpoint nobody can reach and admins who do not exist. A stack that says
`reliability:example: true` may carry them (and can be rendered and policy-checked, never
deployed); any other stack must replace them.
"""

from __future__ import annotations

from ipaddress import IPv4Network

# RFC 5737: TEST-NET-1, TEST-NET-2, TEST-NET-3, reserved for documentation.
DOCUMENTATION_NETWORKS = {
    IPv4Network("192.0.2.0/24"): "TEST-NET-1",
    IPv4Network("198.51.100.0/24"): "TEST-NET-2",
    IPv4Network("203.0.113.0/24"): "TEST-NET-3",
}
# Account ids AWS documentation uses, and the repeated-digit ids examples are written with.
EXAMPLE_ACCOUNTS = frozenset(
    {"123456789012", "111122223333", "444455556666", "777788889999", "210987654321"}
    | {digit * 12 for digit in "0123456789"}
)
MARK = "or, if this stack only documents a layout, mark it `reliability:example: true`"


def documentation_range(cidr: str) -> str | None:
    """The documentation range `cidr` lies inside, if any.

    Inside, not overlapping: 198.0.0.0/8 or 192.0.0.0/16 contain a documentation range but are
    real networks someone may well connect from.
    """
    net = IPv4Network(cidr)
    for doc, name in DOCUMENTATION_NETWORKS.items():
        if net.subnet_of(doc):
            return f"{doc} ({name})"
    return None


def example_account(arn: str) -> str | None:
    """The account id of an IAM ARN when it is an example one (`arn:aws:iam::ACCOUNT:...`)."""
    parts = arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    return account if account in EXAMPLE_ACCOUNTS else None


def problems(cidrs: list[str], arns: list[str], prefix: str) -> list[str]:
    """`KEY: message` lines for every placeholder in the cluster settings (`prefix` = `reliability:cluster`)."""
    out = []
    for i, cidr in enumerate(cidrs):
        doc = documentation_range(cidr)
        if doc:
            out.append(
                f"{prefix}.publicAccessCidrs[{i}]: {cidr} is in the documentation range {doc}, which no "
                f"one connects from: list the networks your admins and CI reach the API from, {MARK}"
            )
    for i, arn in enumerate(arns):
        account = example_account(arn)
        if account:
            out.append(
                f"{prefix}.adminArns[{i}]: {account} is an example account id: use the ARNs of your "
                f"account's admin and deploy roles, {MARK}"
            )
    return out
