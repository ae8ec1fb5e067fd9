"""One `sre render` per stack per test session (per xdist worker), shared by the policy tests."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reliability.cli import main

STACKS = ("local", "dev", "staging", "prod")


@pytest.fixture(scope="session")
def render_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`sre render --stack STACK --out DIR` once per stack; returns DIR."""
    done: dict[str, Path] = {}

    def get(stack: str) -> Path:
        if stack not in done:
            out = tmp_path_factory.mktemp(f"render-{stack}")
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["render", "--stack", stack, "--out", str(out)]) == 0
            done[stack] = out
        return done[stack]

    return get


@pytest.fixture
def render_resources(render_dir: Callable[[str], Path]) -> Callable[[str], list[dict[str, Any]]]:
    """A fresh, mutable copy of a stack's resources.json."""

    def get(stack: str) -> list[dict[str, Any]]:
        return json.loads((render_dir(stack) / "resources.json").read_text(encoding="utf-8"))

    return get
