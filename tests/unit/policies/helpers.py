"""Calling policies the way pulumi-policy's own tests do (lib/test/test_policy.py): construct the
args, collect what `report_violation` receives."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy


def urn(typ: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::reliability::reliability:index:Platform${typ}::{name}"


def options(protect: bool = False, retain_on_delete: bool | None = None, parent: str | None = None) -> Any:
    opts = PolicyResourceOptions(
        protect=protect, ignore_changes=[], delete_before_replace=None, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[], parent=parent,
    )
    if retain_on_delete is not None:
        opts.retain_on_delete = retain_on_delete  # type: ignore[attr-defined]
    return opts


def check_resource(
    policy: Any,
    typ: str,
    props: dict[str, Any],
    *,
    stack: str = "prod",
    name: str = "r",
    config: dict[str, Any] | None = None,
    resource_urn: str | None = None,
    **opts: Any,
) -> list[str]:
    """The messages a resource policy reports for one resource (props copied, wrapped like the engine's)."""
    violations: list[str] = []
    args = ResourceValidationArgs(
        typ, unknown_checking_proxy(copy.deepcopy(props)), resource_urn or urn(typ, name, stack), name,
        options(**opts), None, config or {},
    )
    policy.validate(args, lambda message, urn=None: violations.append(message))
    return violations


def resource(
    typ: str, props: dict[str, Any], name: str, *, stack: str = "prod",
    dependencies: list[PolicyResource] | None = None, property_dependencies: dict[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    return PolicyResource(
        typ, unknown_checking_proxy(copy.deepcopy(props)), urn(typ, name, stack), name, options(), None, None,
        dependencies or [], property_dependencies or {},
    )


def check_stack(policy: Any, resources: list[PolicyResource], config: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(message, name of the reported resource) for a stack policy."""
    by_urn = {r.urn: r.name for r in resources}
    violations: list[tuple[str, str]] = []
    policy.validate(
        StackValidationArgs(resources, config or {}),
        lambda message, urn=None: violations.append((message, by_urn.get(urn or "", "-"))),
    )
    return violations


def broken(base: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A deep copy of `base` with one thing changed."""
    out = copy.deepcopy(base)
    change(out)
    return out
