"""`sre policy check`: the CrossGuard pack's policies on an `sre render` output, offline.

A thin adapter, no policy logic: each entry of DIR/resources.json becomes the object the
engine would hand the pack (`ResourceValidationArgs` for every resource policy,
`PolicyResource`s in one `StackValidationArgs` for stack policies), props wrapped in
pulumi-policy's own proxies as in a real run, and each policy's `validate` is called with a
collecting `report_violation`. Config and enforcement levels come from the policies and from
an optional file in the `--policy-pack-config` format, defaults filled from each schema as the
engine does. Two differences from a real preview, both in the render's favour:
`options.retainOnDelete` is visible (the engine does not pass it to packs), and helm.v4.Chart
values are (a real preview sees the Chart's rendered objects instead).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class CheckInputError(Exception):
    """DIR/resources.json is missing or is not an `sre render` output."""


@dataclass(frozen=True, order=True)
class Finding:
    policy: str
    resource_type: str
    name: str
    message: str
    advisory: bool = False
    # Where the resource is: its URN (empty for the stack), for SARIF locations; not part of identity.
    urn: str = field(default="", compare=False)

    def __str__(self) -> str:
        prefix = "advisory: " if self.advisory else ""
        return f"{prefix}{self.policy}: {self.resource_type} {self.name}: {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    # (policy, "type name", reason) where a policy said it could not run on a resource.
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    resources: int = 0
    policies: int = 0

    @property
    def mandatory(self) -> list[Finding]:
        return sorted(f for f in self.findings if not f.advisory)

    @property
    def advisory(self) -> list[Finding]:
        return sorted(f for f in self.findings if f.advisory)


# ------------------------------------------------------------------ input


def load(directory: str | Path) -> list[dict[str, Any]]:
    path = Path(directory) / "resources.json"
    if not path.is_file():
        raise CheckInputError(f"{path} not found: write it with `sre render --stack STACK --out {directory}`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckInputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise CheckInputError(f"{path} is not a JSON array of resources (as `sre render` writes)")
    for index, entry in enumerate(data):
        problem = _entry_problem(entry)
        if problem:
            raise CheckInputError(f"{path}: entry {index} {problem}")
    _restore_alertmanager_config(data, Path(directory))
    return data


def _restore_alertmanager_config(entries: list[dict[str, Any]], directory: Path) -> None:
    """Put the render's alertmanager/alertmanager.yaml back into its Secret.

    pulumi-kubernetes marks every Secret's data secret, so resources.json shows the
    config Secret as "[secret]"; a real preview hands policies the plaintext. The
    config holds no credential (they are file paths), and the render writes it
    next to resources.json, so the offline check sees what CrossGuard sees.
    """
    from ..alerting.routing import CONFIG_KEY, CONFIG_SECRET

    path = directory / "alertmanager" / "alertmanager.yaml"
    if not path.is_file():
        return
    for entry in entries:
        inputs = entry.get("inputs") or {}
        data = inputs.get("stringData")
        if (entry["type"] == "kubernetes:core/v1:Secret" and (inputs.get("metadata") or {}).get("name") == CONFIG_SECRET
                and isinstance(data, dict) and data.get(CONFIG_KEY) == "[secret]"):
            data[CONFIG_KEY] = path.read_text(encoding="utf-8")


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "is not an object"
    for key in ("type", "name", "urn"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            return f"has no '{key}' string"
    if not isinstance(entry.get("inputs", {}), dict):
        return "has 'inputs' that is not an object"
    if not isinstance(entry.get("options", {}), dict):
        return "has 'options' that is not an object"
    if entry.get("parent") is not None and not isinstance(entry["parent"], str):
        return "has a 'parent' that is not a URN string"
    return None


def load_config(path: str | Path | None) -> dict[str, Any]:
    """A `--policy-pack-config` file: `{"all": "advisory", "name": "disabled" | {"enforcementLevel": .., k: v}}`."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckInputError(f"{path}: not a readable JSON policy config: {exc}") from None
    if not isinstance(data, dict):
        raise CheckInputError(f"{path}: a policy config is a JSON object keyed by policy name (or 'all')")
    return data


# ------------------------------------------------------------------ the adapter


def _level_and_config(policy: Any, pack_config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    from policies._common import settings

    level = policy.enforcement_level.value if policy.enforcement_level is not None else "mandatory"
    given: dict[str, Any] = {}
    if isinstance(pack_config.get("all"), str):
        level = pack_config["all"]
    own = pack_config.get(policy.name)
    if isinstance(own, str):
        level = own
    elif isinstance(own, dict):
        level = own.get("enforcementLevel", level)
        given = {k: v for k, v in own.items() if k != "enforcementLevel"}

    class _Given:
        def get_config(self) -> Mapping[str, Any]:
            return given

    config = settings(_Given(), policy.config_schema) if policy.config_schema else given
    return str(level), config


class _NotApplicable(Exception):
    def __init__(self, reason: str | None):
        super().__init__(reason)
        self.reason = reason or "not applicable"


def _args_classes() -> tuple[type, type, type]:
    from pulumi_policy import PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs

    class RenderedOptions(PolicyResourceOptions):
        """PolicyResourceOptions plus what the render knows and the engine does not pass: retainOnDelete."""

        retain_on_delete: bool

    class RenderedResourceArgs(ResourceValidationArgs):
        def not_applicable(self, reason: str | None = None) -> None:
            raise _NotApplicable(reason)

    class RenderedStackArgs(StackValidationArgs):
        def not_applicable(self, reason: str | None = None) -> None:
            raise _NotApplicable(reason)

    return RenderedOptions, RenderedResourceArgs, RenderedStackArgs


def check(entries: list[dict[str, Any]], pack_config: Mapping[str, Any] | None = None) -> Report:
    """Run every policy of the pack on a render's resources."""
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyProviderResource,
        PolicyResource,
        ResourceValidationPolicy,
        StackValidationPolicy,
    )
    from pulumi_policy.proxy import unknown_checking_proxy

    from policies import POLICIES

    pack_config = pack_config or {}
    options_class, resource_args, stack_args = _args_classes()
    by_urn = {e["urn"]: e for e in entries}

    def options(entry: dict[str, Any]) -> Any:
        opts = entry.get("options") or {}
        out = options_class(
            protect=bool(opts.get("protect", False)),
            ignore_changes=list(opts.get("ignoreChanges") or []),
            delete_before_replace=None,
            aliases=[],
            custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
            additional_secret_outputs=[],
            parent=entry.get("parent"),
        )
        out.retain_on_delete = bool(opts.get("retainOnDelete", False))
        return out

    def provider(entry: dict[str, Any]) -> Any:
        urn = (entry.get("options") or {}).get("provider")
        found = by_urn.get(urn) if isinstance(urn, str) else None
        if found is None:
            return None
        return PolicyProviderResource(found["type"], unknown_checking_proxy(found.get("inputs") or {}),
                                      found["urn"], found["name"])

    report = Report(resources=len(entries))
    levels = {p.name: _level_and_config(p, pack_config) for p in POLICIES}
    active = [p for p in POLICIES if levels[p.name][0] != "disabled"]
    report.policies = len(active)

    def collect(policy: Any, default: dict[str, Any]) -> Callable[[str, str | None], None]:
        def report_violation(message: str, urn: str | None = None) -> None:
            where = by_urn.get(urn) if urn else default
            if where is None and urn:
                where = {"type": urn.split("::")[2].rsplit("$", 1)[-1], "name": urn.split("::")[-1]}
            target = where or default
            report.findings.append(
                Finding(policy.name, target["type"], target["name"], message or policy.description,
                        advisory=levels[policy.name][0] == "advisory", urn=target.get("urn", urn or ""))
            )

        return report_violation

    def run(policy: Any, args: Any, target: dict[str, Any]) -> None:
        from pulumi_policy.proxy import UnknownValueError

        try:
            policy.validate(args, collect(policy, target))
        except _NotApplicable as exc:
            report.skipped.append((policy.name, f"{target['type']} {target['name']}", exc.reason))
        except UnknownValueError as exc:
            report.skipped.append((policy.name, f"{target['type']} {target['name']}", exc.message))
        except Exception as exc:  # a policy that cannot evaluate fails closed, visibly
            report.findings.append(
                Finding(policy.name, target["type"], target["name"], f"policy error: {type(exc).__name__}: {exc}",
                        urn=target.get("urn", ""))
            )

    for entry in entries:
        for policy in active:
            if isinstance(policy, ResourceValidationPolicy):
                args = resource_args(
                    entry["type"], unknown_checking_proxy(entry.get("inputs") or {}), entry["urn"], entry["name"],
                    options(entry), provider(entry), levels[policy.name][1],
                )
                run(policy, args, entry)

    resources: dict[str, Any] = {}
    for entry in entries:
        resources[entry["urn"]] = PolicyResource(
            entry["type"], unknown_checking_proxy(entry.get("inputs") or {}), entry["urn"], entry["name"],
            options(entry), provider(entry), None, [], {},
        )
    for entry in entries:
        resource = resources[entry["urn"]]
        resource.parent = resources.get(entry.get("parent") or "")
        depends = (entry.get("options") or {}).get("dependsOn") or []
        resource.dependencies = [resources[u] for u in depends if isinstance(u, str) and u in resources]
    stack_name = entries[0]["urn"].split("::")[0].rsplit(":", 1)[-1] if entries else "stack"
    stack_target = {"type": "pulumi:pulumi:Stack", "name": stack_name}
    for policy in active:
        if isinstance(policy, StackValidationPolicy):
            run(policy, stack_args(list(resources.values()), levels[policy.name][1]), stack_target)
    return report
