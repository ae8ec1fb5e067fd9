"""Rebuild the validator's copy of the Chaos Mesh schemas: `python -m tests.chaos_schema`, then review the diff.

`reliability/slo/schema/chaos-mesh-2.8.3.json` holds, for every chaos kind Chaos Mesh can
run from a Schedule or a Workflow, the `spec` schema of that kind's CRD
(openAPIV3Schema.properties.spec, unchanged), and the field a Schedule or Workflow
template embeds it under (`physicalmachineChaos` is not plain lowerCamelCase).

The CRDs are read from the chart's own `crds/` folder in the shared reference data
(chaos-mesh/chaos-mesh tag chart-2.8.3, helm/chaos-mesh/crds): `crds/chaos-mesh.org/`
there holds only the kinds the generated output is checked against, the chart all of them.
`tests/unit/slo/test_chaos_schema.py` fails when the copy and the CRDs differ.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .conftest import REFERENCE

VERSION = "2.8.3"
COPY = Path(__file__).resolve().parent.parent / "reliability" / "slo" / "schema" / f"chaos-mesh-{VERSION}.json"
CHART_CRDS = ("charts-src", f"chaos-mesh-{VERSION}", "crds")
SOURCE = (f"chaos-mesh/chaos-mesh tag chart-{VERSION} helm/chaos-mesh/crds: for every chaos kind a Schedule "
          "can run, the `spec` schema of its CRD (openAPIV3Schema.properties.spec, unchanged) and the field "
          "Schedules and Workflows embed it under. Regenerate: python -m tests.chaos_schema "
          "(reads ../shared/reference/charts-src/chaos-mesh-2.8.3/crds); tests/unit/slo/test_chaos_schema.py "
          "checks the copy against the CRDs.")


@cache
def crds(folder: Path) -> dict[str, dict[str, Any]]:
    """kind -> CRD document for every CRD file in `folder` (read once: the files are large)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                out[doc["spec"]["names"]["kind"]] = doc
    return out


def spec_schema(crd: dict[str, Any]) -> dict[str, Any]:
    """openAPIV3Schema.properties.spec of the CRD's one served version."""
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]


def template_fields(schedule_crd: dict[str, Any]) -> list[str]:
    """The chaos fields a Schedule embeds (awsChaos, ..., timeChaos): the kinds it can run."""
    return sorted(key for key in spec_schema(schedule_crd)["properties"] if key.endswith("Chaos"))


def build(folder: Path) -> dict[str, Any]:
    """The copy, rebuilt from the CRDs in `folder`."""
    by_kind = crds(folder)
    fields = {field.lower(): field for field in template_fields(by_kind["Schedule"])}
    kinds = sorted(kind for kind in by_kind if kind.lower() in fields)
    missing = sorted(set(fields) - {kind.lower() for kind in kinds})
    if missing:
        raise SystemExit(f"{folder}: no CRD for the Schedule's chaos fields {missing}")
    return {
        "kinds": {kind: spec_schema(by_kind[kind]) for kind in kinds},
        "source": SOURCE,
        "templateFields": {kind: fields[kind.lower()] for kind in kinds},
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    folder = REFERENCE.joinpath(*CHART_CRDS)
    if not folder.is_dir():
        sys.exit(f"{folder} not present: the shared reference data lives next to the repository")
    COPY.write_text(dumps(build(folder)))
    print(f"wrote {COPY}")


if __name__ == "__main__":
    main()
