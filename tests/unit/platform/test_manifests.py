"""Every plain Kubernetes object against the Kubernetes schemas, every custom resource against its CRD."""

from __future__ import annotations

import functools
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from .conftest import STACKS, rendered

# The EKS version of the stacks (components/defaults.yaml); kind defaults to a newer one.
KUBERNETES_VERSION = "1.33.0"


def _crd_loader() -> type:
    class Loader(yaml.SafeLoader):
        pass

    # alertmanagerconfigs.yaml has a bare `=` enum value: PyYAML's `value` tag (see crds/SOURCES.txt).
    Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
    return Loader


@functools.cache
def crd_schemas(root: Path) -> dict[tuple[str, str], dict]:
    schemas = {}
    for path in sorted((root / "crds").rglob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=_crd_loader()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def manifests(stack: str) -> list[tuple[str, dict]]:
    return [
        (name, yaml.safe_load(text))
        for name, text in sorted(rendered(stack).items())
        if name.startswith("manifests/")
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_plain_objects_are_valid_kubernetes(stack, reference):
    crds = crd_schemas(reference)
    plain = [(n, o) for n, o in manifests(stack) if (o["apiVersion"], o["kind"]) not in crds]
    assert len(plain) >= 6
    for _name, obj in plain:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)  # raises with the field path


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_match_their_crds(stack, reference):
    crds = crd_schemas(reference)
    custom = [(n, o) for n, o in manifests(stack) if (o["apiVersion"], o["kind"]) in crds]
    assert custom, "the SLO PrometheusRules at least"
    for name, obj in custom:
        schema = crds[(obj["apiVersion"], obj["kind"])]
        errors = [
            f"{'.'.join(map(str, e.path))}: {e.message}"
            for e in jsonschema.Draft7Validator(schema).iter_errors(obj)
        ]
        assert errors == [], name


def test_the_validators_reject_a_broken_object(reference):
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"a": 1}},
            KUBERNETES_VERSION,
            strict=True,
        )
    schema = crd_schemas(reference)[("monitoring.coreos.com/v1", "PrometheusRule")]
    bad = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "x"},
        "spec": {"groups": [{"rules": [{"expr": "up"}]}]},
    }  # a group without its required name
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))
