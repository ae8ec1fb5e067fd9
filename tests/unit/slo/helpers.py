"""Compile specs from text for tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from policies.alert_labels import fired_labels, recorded_series
from reliability.slo.compile import Output, compile_services
from reliability.slo.load import load

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "slo-specs"


def spec_header(service: str, team: str = "payments") -> str:
    """The lines a native spec file starts with, up to `slos:`: the service, its team and runbook."""
    return (f"apiVersion: reliability-as-code/v1\nkind: ServiceLevelObjectives\nservice: {service}\n"
            f"team: {team}\nrunbook_url: https://runbooks.example.com/{service}\nslos:\n")


def with_line(text: str, line: int, new: str) -> str:
    """`text` with one line (1-based) replaced by `new`."""
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


def spec_problems(tmp_path: Path, text: str) -> tuple[list[str], list[str]]:
    """The errors and warnings of loading `text` as one spec file, its path written as F."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = load([str(spec)])
    return ([str(p).replace(str(spec), "F") for p in result.problems.errors],
            [str(p).replace(str(spec), "F") for p in result.problems.warnings])


def compile_text(tmp_path: Path, text: str, name: str = "spec.yaml", env: str | None = None,
                 windows: list[str] | None = None) -> Output:
    spec = tmp_path / name
    spec.write_text(text)
    result = load([str(spec)], env=env, windows=windows)
    assert not result.problems, "\n".join(map(str, result.problems.errors))
    return compile_services(result.services, result.catalogs)


def compile_examples(env: str | None = None) -> Output:
    result = load([str(EXAMPLES)], env=env)
    assert not result.problems, "\n".join(map(str, result.problems.errors))
    return compile_services(result.services, result.catalogs)


def rules_of(output: Output) -> list[dict]:
    """Every rule of the compiled rule files; alerts with their labels as they fire (see `fired`)."""
    return [rule for f, text in output.files.items() if f.startswith("rules/")
            for rule in fired(yaml.safe_load(text)["groups"])]


def fired(groups: list[dict]) -> list[dict]:
    """The rules of one file, each alert's `labels` those it fires with (its own and those of the
    recorded series it compares, as the policy pack reads them) and its own under `rule_labels`."""
    recorded = recorded_series(groups)
    return [rule | {"labels": fired_labels(rule, recorded), "rule_labels": rule.get("labels", {})}
            if "alert" in rule else rule for group in groups for rule in group["rules"]]
