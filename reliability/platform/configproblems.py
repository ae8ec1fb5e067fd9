"""Stack-config problems worded like spec problems: the bad value, a good example, a did-you-mean.

config.py collects `reliability:PATH: message` lines; this module words the pydantic ones
(`Input should be a valid integer` names neither the value nor the fix), suggests the
key a typo meant, and `locate` prefixes each line with the stack file and line it is about:
`stacks/Pulumi.dev.yaml:12: reliability:retention.prometheus: ...`. Unknown keys come first:
the "missing" lines that follow are often their consequence.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ..problems import Location, did_you_mean
from ..yamlio import line_at

PROJECT = "reliability"

# Examples of good values, by the pattern a field must match.
_PATTERN_EXAMPLES = {
    r"^(\d+m|\d+(\.\d+)?)$": "a CPU amount such as 250m or 1",
    r"^\d+(Mi|Gi|Ti)$": "a size such as 512Mi or 10Gi",
    r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$": "lowercase letters, digits and '-', 3 to 32 characters, such as acme-rel",
    r"^1\.\d{2}$": "a Kubernetes minor version such as 1.30",
    r"^[a-z]{2}(-gov)?-[a-z]+-\d$": "an AWS region such as eu-west-1",
    r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$": "a cluster name such as reliability-prod",
}


def shown(value: Any) -> str:
    """A value as the user wrote it in YAML, short."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return json.dumps(value)


def _field_type(model: type[BaseModel], name: Any) -> Any:
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info.annotation
    return None


def model_at(model: Any, loc: tuple[Any, ...]) -> Any:
    """The model (or type) found by following `loc` (field aliases, dict keys, list indexes) from `model`."""
    current: Any = model
    for part in loc:
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            current = _field_type(current, part)
        elif origin in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
        while typing.get_origin(current) in (typing.Union, types.UnionType):  # `X | None` -> X
            current = next(a for a in typing.get_args(current) if a is not type(None))
    return current


def _path(key: str, loc: Iterable[Any]) -> str:
    path = key
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{PROJECT}:{path}"


def _message(root: type[BaseModel], err: Any) -> str:
    kind, value, ctx, loc = err["type"], err.get("input"), err.get("ctx") or {}, tuple(err["loc"])
    parent = model_at(root, loc[:-1])
    if not (isinstance(parent, type) and issubclass(parent, BaseModel)):
        parent = None
    if kind == "extra_forbidden":
        known = [info.alias or name for name, info in parent.model_fields.items()] if parent else []
        return "unknown key" + (did_you_mean(str(loc[-1]), known) if known else "")
    if kind == "missing":
        return "missing: required here"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number such as 2, got {shown(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {shown(value)}"
    if kind == "string_type":
        if getattr(parent, "DURATIONS", False):
            return f"expected a duration with its unit, got {shown(value)}: write a duration such as 30d"
        return f"expected text, got {shown(value)}"
    if kind == "string_pattern_mismatch":
        example = _PATTERN_EXAMPLES.get(str(ctx.get("pattern")), f"a value matching {ctx.get('pattern')}")
        return f"{shown(value)} is not valid here: write {example}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"greater_than_equal": "at least", "less_than_equal": "at most",
                 "greater_than": "greater than", "less_than": "less than"}[kind]
        bound = next(iter(ctx.values()), "")
        return f"must be {words} {bound}, got {shown(value)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} entry, got none"
    if kind == "list_type":
        return f"expected a list, got {shown(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {shown(value)}"
    message = str(err["msg"]).removeprefix("Value error, ")
    return message if kind == "value_error" else f"{message}, got {shown(value)}"


def pydantic_problems(key: str, model: type[BaseModel], exc: ValidationError) -> list[str]:
    """One `reliability:PATH: message` line per pydantic error of section `key`."""
    return [f"{_path(key, err['loc'])}: {_message(model, err)}" for err in exc.errors()]


def ordered(problems: Iterable[str]) -> list[str]:
    """Unknown keys first (the missing lines after them are often their consequence), then by text."""
    return sorted(set(problems), key=lambda p: (": unknown key" not in p, p))


_PART = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _config_path(path: str) -> tuple[str | int, ...]:
    """`alerting.teams.payments.page` -> ("reliability:alerting", "teams", "payments", "page")."""
    parts: list[str | int] = []
    for name, index in _PART.findall(path):
        parts.append(int(index) if index else name)
    if parts:
        parts[0] = f"{PROJECT}:{parts[0]}"
    return tuple(parts)


def locate(problems: Iterable[str], data: Any, file: str) -> list[str]:
    """Prefix each `reliability:PATH: message` with `FILE:LINE: `, the line of the deepest existing key.

    A line about no key of ours (e.g. from the file reader) is kept as it is.
    """
    config = data.get("config") if isinstance(data, Mapping) else None
    out: list[tuple[int, str]] = []
    for problem in problems:
        match = re.match(rf"{PROJECT}:(\S+?): ", problem)
        if not match or not isinstance(config, Mapping):
            out.append((0, problem))
            continue
        path = _config_path(match.group(1))
        if path and path[0] not in config and str(path[0]).split(":", 1)[1] in config:
            path = (str(path[0]).split(":", 1)[1], *path[1:])  # a key written without its namespace
        line = line_at(data, ("config", *path)) if path and path[0] in config else line_at(data, ("config",))
        out.append((line, f"{Location(file, line)}: {problem}"))
    return [text for _, text in sorted(out, key=lambda item: (": unknown key" not in item[1], item[0], item[1]))]
