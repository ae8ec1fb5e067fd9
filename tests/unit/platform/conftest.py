"""Shared fixtures: one offline render per stack, reused by every test module of a worker."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from reliability.platform.render import render

REPO = Path(__file__).resolve().parents[3]
# shared/ sits beside the repository, here and in CI.
REFERENCE = REPO.parent / "shared" / "reference"
STACKS = ("local", "dev", "staging", "prod")


@functools.cache
def rendered(stack: str) -> dict[str, str]:
    return render(stack)


@functools.cache
def resources(stack: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(rendered(stack)["resources.json"]))


def of_type(stack: str, prefix: str) -> list[dict[str, Any]]:
    return [r for r in resources(stack) if r["type"].startswith(prefix)]


def one(stack: str, typ: str, name: str) -> dict[str, Any]:
    found = [r for r in resources(stack) if r["type"] == typ and r["name"] == name]
    assert len(found) == 1, f"{typ} {name}: {len(found)} found"
    return found[0]


def helm_values(stack: str, chart: str) -> dict[str, Any]:
    found = [r for r in of_type(stack, "kubernetes:helm.sh/") if r["inputs"]["chart"] == chart]
    assert len(found) == 1, f"{chart}: {len(found)} releases in {stack}"
    return found[0]["inputs"].get("values", {})


@pytest.fixture(scope="session")
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(
            f"reference charts and CRDs not found at {REFERENCE} (shared/reference is beside the repo)"
        )
    return REFERENCE
