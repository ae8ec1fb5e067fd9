"""Validate custom resources against the upstream CRDs' openAPIV3Schema."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .conftest import reference


class CRDLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML rejects the bare '=' enum value in alertmanagerconfigs.yaml (see crds/SOURCES.txt).

    The C loader where PyYAML has it: the CRDs are megabytes of YAML."""


CRDLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@cache
def crd_documents() -> tuple[dict[str, Any], ...]:
    """Every CustomResourceDefinition in the reference folder, in file order."""
    return tuple(
        doc
        for path in sorted(Path(reference("crds")).rglob("*.yaml"))
        for doc in yaml.load_all(path.read_text(), Loader=CRDLoader)
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
    )


@cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema for every CRD in the reference folder."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in crd_documents():
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            out[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return out


def validate_custom_resource(obj: dict[str, Any]) -> list[str]:
    """Problems of `obj` against its CRD; fails if no CRD for its apiVersion/kind is known."""
    key = (obj["apiVersion"], obj["kind"])
    schema = _schemas().get(key)
    if schema is None:
        raise AssertionError(f"no CRD for {key} under the reference crds/")
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]
