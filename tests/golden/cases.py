"""The golden cases: inputs (relative to the repository root) and compile options."""

from __future__ import annotations

import os
from pathlib import Path

from reliability.platform.stackfiles import grafana_url
from reliability.slo.compile import compile_paths

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent

CASES: dict[str, dict] = {
    "examples": {"paths": ["slo-specs"], "env": None},
    "examples-dev": {"paths": ["slo-specs"], "env": "dev"},
}


def render(case: str) -> dict[str, str]:
    """Relative path -> content of everything the compiler writes for a case."""
    options = CASES[case]
    cwd = os.getcwd()
    os.chdir(REPO)  # inputs are named relative to the repository, as users run it
    try:
        # As `sre slo compile --env ENV` does: alerts link to that stack's Grafana.
        result, output = compile_paths(options["paths"], env=options["env"],
                                       grafana_url=grafana_url(options["env"], "stacks"))
    finally:
        os.chdir(cwd)
    if output is None:
        raise AssertionError("\n".join(map(str, result.problems.errors)))
    return output.files
