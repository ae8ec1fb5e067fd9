"""JSON Schema validation that speaks to people: field paths, lines, hints.

jsonschema's own messages ("Additional properties are not allowed ('objetive'
was unexpected)") are rewritten into one problem per field, at the line of
that field, with a suggestion for typos.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from ...problems import Location, Problems, did_you_mean, join_path
from ...yamlio import Document, line_at
from ..build import RUNBOOK_HTTPS, unitless_threshold

SCHEMA_DIR = Path(__file__).parent.parent / "schema"

# A latency threshold: a number with its unit (a bare number gets its own message, see the type check).
_THRESHOLD_PATTERN = "^[0-9]+(\\.[0-9]+)?(ms|s)$"
_ENV_NAME = "^[a-z][a-z0-9-]{0,30}$"
# Readable descriptions of the patterns the schemas use.
_PATTERN_HINTS = {
    "^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$":
        "use lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit, "
        "at most 63 characters",
    "^[a-z0-9]([a-z0-9_-]{0,38}[a-z0-9])?$":
        "use lowercase letters, digits, '_' or '-', starting and ending with a letter or digit, at most 40 characters",
    _ENV_NAME: "use a stack name: lowercase letters, digits and '-', starting with a letter",
    "^https?://\\S+$": "use an http:// or https:// URL",
    "^https://\\S+$": f"a runbook_url is https: {RUNBOOK_HTTPS}",
    "^([0-9]+(ms|[smhdwy]))+$": "use a duration such as 5m, 1h, 7d or 30d",
    "^[a-zA-Z_][a-zA-Z0-9_]*$": "use a Prometheus label name: letters, digits and '_', not starting with a digit",
    "^[A-Za-z_][A-Za-z0-9_]*$": "use letters, digits and '_', not starting with a digit",
    _THRESHOLD_PATTERN: "use a duration in ms or s, such as 300ms or 0.3s",
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$":
        "use an RFC 1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
}

_TYPE_NAMES = {
    "object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
    "integer": "a whole number", "boolean": "true or false", "null": "nothing",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    with open(SCHEMA_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def validator_for(name: str, definition: str | None = None) -> jsonschema.protocols.Validator:
    """A validator for a bundled schema, or for one of its `$defs` entries."""
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    defs = schema.get("$defs", {})
    if definition is not None:
        head = {"$schema": schema.get("$schema"), "$defs": defs}
        return cls(head | _inline_refs(defs[definition], defs, (definition,)))
    return cls(_inline_refs(schema, defs, ()))


# Keywords beside a `$ref` that only describe: inlining the definition loses nothing.
_ANNOTATIONS = frozenset({"$ref", "description", "title", "$comment"})


def _inline_refs(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    """The schema with each local `$ref` replaced by the definition it names.

    The same errors, found without a reference lookup per field: resolving `$ref`s was a third
    of the validation time of a 1,000-SLO compile. A recursive reference, or one beside a
    keyword that validates, is left to jsonschema.
    """
    if isinstance(node, list):
        return [_inline_refs(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and set(node) <= _ANNOTATIONS:
        name = ref.removeprefix("#/$defs/")
        if name in defs and name not in seen:
            return _inline_refs(defs[name], defs, (*seen, name))
    return {key: value if key == "$defs" else _inline_refs(value, defs, seen) for key, value in node.items()}


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return f"got {str(value).lower()}"
    if isinstance(value, dict):
        return "got a mapping"
    if isinstance(value, list):
        return "got a list"
    if value is None:
        return "got nothing (null)"
    if isinstance(value, str):
        return f"got the string {value!r}"
    return f"got {value!r}"


def _expected(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(t, t) for t in names)


def _messages(error: ValidationError) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """(path, message) pairs for one schema error; a few errors expand to several fields."""
    path = tuple(error.absolute_path)
    # jsonschema types these as possibly unset; for errors from iter_errors they are always set.
    validator: Any = error.validator
    schema: Any = error.schema
    instance: Any = error.instance
    value: Any = error.validator_value
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        for key in instance:
            if key in known:
                continue
            yield (*path, key), f"unknown field '{key}'{did_you_mean(str(key), known, 'known fields')}"
        return
    if validator == "required":
        # A schema's own `errorMessage` (as editors read it) says why the field is needed.
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        for key in missing:
            yield (*path, key), schema.get("errorMessage") or f"missing required field '{key}'"
        return
    if validator == "type":
        if schema.get("pattern") == _THRESHOLD_PATTERN and isinstance(instance, (int, float)) \
                and not isinstance(instance, bool):
            yield path, unitless_threshold(instance)
            return
        yield path, f"expected {_expected(value)}, {_got(instance)}"
        return
    if validator == "pattern":
        hint = _PATTERN_HINTS.get(value, f"must match {value}")
        yield path, f"{instance!r} is not allowed here: {hint}"
        return
    if validator == "propertyNames":
        hint = _PATTERN_HINTS.get(schema.get("propertyNames", {}).get("pattern", ""), "")
        yield path, f"{error.instance!r} is not allowed as a name here" + (f": {hint}" if hint else "")
        return
    if validator == "const":
        yield path, f"must be {value!r}, {_got(instance)}"
        return
    if validator == "enum":
        yield path, f"must be one of {', '.join(repr(v) for v in value)}, {_got(instance)}"
        return
    if validator in ("minItems",) and value == 1:
        if path and path[-1] == "environments" and schema.get("items", {}).get("pattern") == _ENV_NAME:
            yield path, ("must not be empty: list the stacks it runs in, e.g. [staging], or leave the key out "
                         "(every environment but prod)")
            return
        yield path, "must not be empty"
        return
    if validator in ("minProperties", "maxProperties") and "ratio" in schema.get("properties", {}):
        yield path, "give exactly one of ratio, latency or raw"
        return
    if validator == "oneOf" and {"errors", "good"} <= set(schema.get("properties", {})):
        yield path, "give exactly one of errors or good (with total)"
        return
    if validator in ("oneOf", "anyOf"):
        # The alternative of the right type says what is wrong with the value.
        relevant = [e for e in error.context or [] if e.validator != "type" and not e.relative_path]
        if relevant:
            yield from _messages(relevant[0])
            return
        types: list[Any] = [s["type"] for s in value if isinstance(s, dict) and s.get("type")]
        if types:
            flat = [name for t in types for name in ([t] if isinstance(t, str) else list(t))]
            yield path, f"expected {_expected(flat)}, {_got(instance)}"
            return
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "greater than",
                 "exclusiveMaximum": "less than"}[validator]
        yield path, f"must be {words} {value}, {_got(instance)}"
        return
    if validator == "minLength":
        yield path, "must not be empty"
        return
    yield path, error.message


def duplicate_keys(data: Any, path: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple[str | int, ...], int]]:
    """(path, line) of every key that appears twice in one mapping."""
    if isinstance(data, dict):
        for key, line in getattr(data, "duplicates", ()):
            yield (*path, key), line
        for key, value in data.items():
            yield from duplicate_keys(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from duplicate_keys(value, (*path, index))


def check(
    doc: Document,
    schema_name: str,
    problems: Problems,
    slo_of: Callable[[tuple[str | int, ...]], str | None],
    definition: str | None = None,
) -> set[tuple[str | int, ...]]:
    """Validate `doc` against a bundled schema; return the paths that failed."""
    failed: set[tuple[str | int, ...]] = set()
    for path, line in duplicate_keys(doc.data):
        failed.add(path)
        problems.add(Location(doc.file, line), slo_of(path), join_path(*path),
                      f"duplicate key '{path[-1]}': the earlier value would be silently ignored")
    for error in validator_for(schema_name, definition).iter_errors(doc.data):
        for path, message in _messages(error):
            failed.add(path)
            line = line_at(doc.data, path)
            problems.add(Location(doc.file, line), slo_of(path), join_path(*path) or None, message)
    return failed


def _closed(schema: Any) -> Any:
    """The schema with unknown fields refused where Kubernetes would prune them.

    A structural CRD schema drops fields it does not declare without a word, so a typo
    (`mod: one`) would vanish on apply; here it is an error with a did-you-mean.
    """
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _closed(value) for key, value in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@cache
def _crd_validator(schema_name: str, key: str) -> jsonschema.protocols.Validator:
    """A validator for one entry of a bundled CRD schema file (`{"kinds": {key: openAPIV3Schema}}`)."""
    return jsonschema.Draft7Validator(_closed(load_schema(schema_name)["kinds"][key]))


def check_embedded(
    doc: Document,
    schema_name: str,
    key: str,
    prefix: tuple[str | int, ...],
    problems: Problems,
    slo: str | None,
) -> bool:
    """Validate the value at `prefix` of `doc` against a bundled CRD schema; True if it passed.

    Problems name the field by its whole path in the spec (`gamedays[0].chaos.spec.mode`).
    """
    value: Any = doc.data
    for part in prefix:
        value = value[part]
    ok = True
    for error in _crd_validator(schema_name, key).iter_errors(value):
        for path, message in _messages(error):
            ok = False
            full = (*prefix, *path)
            problems.add(Location(doc.file, line_at(doc.data, full)), slo, join_path(*full), message)
    return ok
