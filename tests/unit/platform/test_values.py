"""Every Helm values key the program sets exists in the pinned chart's reference values.yaml.

Helm silently ignores a misspelled key, so a typo would deploy the chart's default.
The walk descends while the reference has a non-empty mapping at that key; a key
whose reference default is an empty map, a list, a scalar or null is a leaf (an
empty map is the chart's "put anything here", e.g. `resources: {}`, `annotations: {}`,
`loki.compactor: {}`; lists such as `extraArgs` are replaced whole by Helm).
Keys that are read by a template but only appear commented out in values.yaml, and
subtrees passed verbatim to the application's own config, are listed below with the
reason. Charts that ship values.schema.json are also validated against it after
merging our values over the defaults the way Helm does (maps merge, the rest replaces).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reliability.platform.charts import pins

from .conftest import STACKS, of_type

# Read by a template, commented out in values.yaml (checked in the charts' templates at the pinned commits).
TEMPLATE_ONLY = {
    "kube-prometheus-stack": {"alertmanager.alertmanagerSpec.configSecret"},
    "loki": {"loki.storage.bucketNames", "loki.limits_config.retention_period"},
    "grafana": {"persistence.storageClassName", "podAnnotations"},  # commented out in values.yaml, read by deployment.yaml
    "tempo": {"persistence.storageClassName", "tempo.storage.trace.s3", "tempo.overrides"},
    "opentelemetry-collector": set(),
}
# Subchart values (kube-prometheus-stack 88.5.3 depends on kube-state-metrics 8.4.0 and
# prometheus-node-exporter 4.56.1, whose values.yaml have `resources: {}`); the reference
# holds only the parent chart, so these two keys are listed rather than walked.
SUBCHART_KEYS = {
    # Keys of charts/prometheus-node-exporter/values.yaml and charts/kube-state-metrics/values.yaml.
    "kube-prometheus-stack": {
        "kube-state-metrics.resources",
        "prometheus-node-exporter.resources",
        "prometheus-node-exporter.hostRootFsMount",
    }
}
# Verbatim application config: the chart writes the map into the collector config / grafana.ini.
FREE_FORM = {
    "opentelemetry-collector": {"config.exporters", "config.service.pipelines"},
    "grafana": {"grafana.ini"},
}  # written out as grafana.ini sections and keys


def reference_dir(reference: Path, chart: str, version: str) -> Path:
    return reference / "charts" / f"{chart}-{version}"


def unknown_keys(ours: Any, ref: Any, path: str, allowed: set[str]) -> list[str]:
    bad = []
    for key, value in ours.items():
        here = f"{path}.{key}" if path else key
        if here in allowed or any(here.startswith(a + ".") for a in allowed):
            continue
        if not isinstance(ref, dict) or key not in ref:
            bad.append(here)
            continue
        if isinstance(value, dict) and isinstance(ref[key], dict) and ref[key]:
            bad.extend(unknown_keys(value, ref[key], here, allowed))
    return bad


def helm_merge(base: Any, ours: Any) -> Any:
    if isinstance(base, dict) and isinstance(ours, dict):
        out = dict(base)
        for key, value in ours.items():
            out[key] = helm_merge(base.get(key), value)
        return out
    return ours


def releases():
    for stack in STACKS:
        for r in of_type(stack, "kubernetes:helm.sh/"):
            yield stack, r


def test_chart_pins_match_the_reference_charts(reference):
    for key, pin in pins().items():
        folder = reference_dir(reference, pin.chart, pin.version)
        assert folder.is_dir(), f"{key}: no reference chart {folder.name}"
        assert pin.resource in ("release", "chart")
    installed = {(r["inputs"]["chart"], r["inputs"]["version"]) for _, r in releases()}
    assert installed == {(p.chart, p.version) for p in pins().values()}


@pytest.mark.parametrize("stack", STACKS)
def test_every_values_key_exists_in_the_chart(stack, reference):
    for r in of_type(stack, "kubernetes:helm.sh/"):
        chart, version = r["inputs"]["chart"], r["inputs"]["version"]
        ref = yaml.safe_load((reference_dir(reference, chart, version) / "values.yaml").read_text())
        allowed = (
            TEMPLATE_ONLY.get(chart, set()) | SUBCHART_KEYS.get(chart, set()) | FREE_FORM.get(chart, set())
        )
        assert unknown_keys(r["inputs"].get("values", {}), ref, "", allowed) == [], f"{stack} {chart}"


def test_the_key_walk_catches_a_typo(reference):
    ref = yaml.safe_load((reference / "charts" / "thanos-1.24.1" / "values.yaml").read_text())
    assert unknown_keys(
        {"query": {"replicas": 2, "replica": 2}, "compact": {"retentionRaw": "1d"}}, ref, "", set()
    ) == ["query.replica", "compact.retentionRaw"]


@pytest.mark.parametrize("stack", STACKS)
def test_values_validate_against_chart_schemas(stack, reference):
    checked = 0
    for r in of_type(stack, "kubernetes:helm.sh/"):
        folder = reference_dir(reference, r["inputs"]["chart"], r["inputs"]["version"])
        schema_file = folder / "values.schema.json"
        if not schema_file.exists():
            continue
        schema = json.loads(schema_file.read_text())
        merged = helm_merge(yaml.safe_load((folder / "values.yaml").read_text()), r["inputs"]["values"])
        # opentelemetry-collector names no draft ("http://json-schema.org/schema#"): read it as draft 7.
        if schema.get("$schema") == "http://json-schema.org/schema#":
            validator = jsonschema.Draft7Validator(schema)
        else:
            validator = jsonschema.validators.validator_for(schema)(schema)
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(merged)]
        assert errors == [], f"{stack} {folder.name}"
        checked += 1
    assert checked >= 2  # loki and the collector everywhere, chaos-mesh and k6 where enabled
