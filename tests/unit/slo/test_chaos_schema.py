"""The validator's copy of the Chaos Mesh CRD schemas is the CRDs' own, for every chaos kind Chaos Mesh can run.

Regenerate the copy with `python -m tests.chaos_schema` (see tests/chaos_schema.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from reliability.slo.formats.schemacheck import load_schema
from reliability.slo.formats.testspecs import CHAOS_SCHEMA
from reliability.slo.generators.gamedays import template_field

from ... import chaos_schema
from ...conftest import reference
from ...crds import validate_custom_resource
from .helpers import compile_text, spec_problems
from .test_validate_reliability_tests import edit

COPY = load_schema(CHAOS_SCHEMA)


def test_the_copy_is_what_the_regen_command_writes() -> None:
    """Any hand edit, or a chart with other CRDs, shows here: run `python -m tests.chaos_schema`."""
    rebuilt = chaos_schema.build(reference(*chaos_schema.CHART_CRDS))
    assert chaos_schema.dumps(rebuilt) == chaos_schema.COPY.read_text()
    assert COPY["source"] == chaos_schema.SOURCE


@pytest.mark.parametrize("kind", sorted(COPY["kinds"]))
def test_each_kind_is_the_spec_of_its_crd(kind: str) -> None:
    """openAPIV3Schema.properties.spec, unchanged, in both reference folders that hold the kind."""
    folders = [reference(*chaos_schema.CHART_CRDS), reference("crds", "chaos-mesh.org")]
    found = [crds[kind] for crds in map(chaos_schema.crds, folders) if kind in crds]
    assert found, f"no CRD of kind {kind} in {folders}"
    for crd in found:
        assert chaos_schema.spec_schema(crd) == COPY["kinds"][kind]


def test_every_kind_a_schedule_can_run_is_accepted() -> None:
    """The spec format's `chaos.kind` enum is the copy's kinds, and those are the Schedule CRD's chaos fields."""
    schedule = chaos_schema.crds(reference("crds", "chaos-mesh.org"))["Schedule"]
    assert sorted(COPY["templateFields"].values()) == chaos_schema.template_fields(schedule)
    spec_schema = load_schema("slo-spec-v1.json")
    kind = spec_schema["$defs"]["gameday"]["properties"]["chaos"]["properties"]["kind"]
    assert kind["enum"] == sorted(COPY["kinds"])
    assert template_field("PhysicalMachineChaos") == "physicalmachineChaos"


@pytest.mark.parametrize(("kind", "spec"), [
    ("JVMChaos", "{action: latency, mode: one, class: Main, method: checkout, port: 9277, latency: 500, "
                 "selector: {namespaces: [shop], labelSelectors: {app: shop-api}}}"),
    ("BlockChaos", "{action: delay, mode: one, volumeName: data, delay: {latency: 10ms}, "
                   "selector: {namespaces: [shop]}}"),
])
def test_a_kind_outside_the_checked_in_crds_compiles_to_a_valid_workflow(tmp_path: Path, kind: str,
                                                                         spec: str) -> None:
    text = edit(27, f"    chaos: {{kind: {kind}, spec: {spec}}}")
    output = compile_text(tmp_path, text)
    docs = list(yaml.safe_load_all(output.files["gamedays/shop-api.yaml"]))
    schedule = next(d for d in docs if d["kind"] == "Schedule")
    assert validate_custom_resource(schedule) == []
    chaos = next(t for t in schedule["spec"]["workflow"]["templates"] if t["templateType"] == kind)
    assert chaos[template_field(kind)] == json.loads(json.dumps(yaml.safe_load(spec)))


def test_a_kind_spec_is_checked_against_its_own_crd(tmp_path: Path) -> None:
    text = edit(27, "    chaos: {kind: JVMChaos, spec: {action: latncy, mode: one, selector: {namespaces: [shop]}}}")
    assert spec_problems(tmp_path, text)[0] == [
        "F:27: -: gamedays[0].chaos.spec.action: must be one of 'latency', 'return', 'exception', 'stress', 'gc', "
        "'ruleData', 'mysql', got the string 'latncy'",
    ]
