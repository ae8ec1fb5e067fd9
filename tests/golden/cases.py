"""The golden cases: inputs (relative to the repository root) and compile options."""

from __future__ import annotations

import os
from pathlib import Path

from reliability.incidents.runbooks import render_runbook, runbook_file
from reliability.platform.stackfiles import grafana_url
from reliability.slo.compile import compile_paths

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
GRAFANA = "http://localhost:3000"  # `sre runbooks generate`'s default

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
    # `sre runbooks generate` output, beside the compiler's (the runbooks come from the same model).
    runbooks = {f"runbooks/{runbook_file(s)}": render_runbook(s, output.catalogs, GRAFANA) for s in output.services}
    return {**output.files, **runbooks}
