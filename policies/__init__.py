"""The reliability-as-code CrossGuard policy pack: every policy, importable without starting the pack.

`pulumi preview --policy-pack policies` runs `policies/__main__.py`, which builds the
`PolicyPack` (that call serves gRPC and never returns); `sre policy check` runs the same
policy objects on an `sre render` output. Importing this package starts nothing.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy.policy import Policy

from . import eks, encryption, grafana, network, oncall, pod_security, principals, reliability, security, slo_hygiene
from ._common import SecretText

PACK_NAME = "reliability-as-code"
POLICIES: list[Policy] = [
    *security.POLICIES,
    *principals.POLICIES,
    *encryption.POLICIES,
    *eks.POLICIES,
    *network.POLICIES,
    *pod_security.POLICIES,
    *grafana.POLICIES,
    *reliability.POLICIES,
    *slo_hygiene.POLICIES,
    *oncall.POLICIES,
]

# pulumi-policy's wire marker of a secret value (pulumi_policy/deserialize.py, SPECIAL_SECRET_SIG).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def mark_secrets(value: Any, inside_secret: bool = False) -> Any:
    """Struct JSON from the engine with each secret's strings turned into `SecretText`.

    pulumi-policy unwraps secrets into plain values before a policy sees them, so a policy could
    not tell a Pulumi secret from a credential pasted into plain config. Marking them keeps the
    text readable (the page-route policy parses alertmanager.yaml) and the secrecy visible.
    """
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return mark_secrets(value.get("value"), True)
        return {key: mark_secrets(item, inside_secret) for key, item in value.items()}
    if isinstance(value, list):
        return [mark_secrets(item, inside_secret) for item in value]
    if inside_secret and isinstance(value, str):
        return SecretText(value)
    return value


def keep_secrets_marked() -> None:
    """Make the running pack hand policies secrets as `SecretText` (called by __main__ only).

    Wraps `pulumi_policy.policy.deserialize_properties`, which Analyze and AnalyzeStack call on the
    engine's properties (pulumi-policy 1.21.0, pinned in requirements.txt); remediation calls
    (proxy_secrets=True) keep their own secret handling.
    """
    from pulumi_policy import policy as engine

    original = engine.deserialize_properties
    if getattr(original, "marks_secrets", False):
        return

    def deserialize_properties(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
        return original(props if proxy_secrets else mark_secrets(props), proxy_secrets)

    deserialize_properties.marks_secrets = True  # type: ignore[attr-defined]
    engine.deserialize_properties = deserialize_properties  # type: ignore[assignment]
