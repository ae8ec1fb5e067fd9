"""The SLO gate's input checks and queries (its answers against a real Prometheus are in tests/e2e)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reliability.testing import gate


def test_the_burn_rate_query_reads_the_compiled_rules() -> None:
    assert gate.burn_rate_query("checkout-api", "availability", "5m") == (
        'max(slo:sli_error:ratio_rate5m{service="checkout-api", slo="availability"}) / '
        'max(slo:error_budget:ratio{service="checkout-api", slo="availability"})'
    )


@pytest.mark.parametrize(("service", "slo", "window", "message"), [
    ('a"} or vector(1) #', "b", "5m", "service 'a\"} or vector(1) #' is not a label value"),
    ("a", "b\\", "5m", "slo 'b\\\\' is not a label value"),
    ("a", "b", "5m) or vector(0", "window '5m) or vector(0' is not a duration such as 5m"),
])
def test_what_could_change_the_query_is_refused(service: str, slo: str, window: str, message: str) -> None:
    with pytest.raises(gate.GateInputError) as info:
        gate.burn_rate_query(service, slo, window)
    assert str(info.value) == message


def test_a_threshold_must_be_positive() -> None:
    with pytest.raises(gate.GateInputError, match="max_burn must be a number above 0"):
        gate.check("http://127.0.0.1:9", "a", "b", 0)


def test_the_gate_runs_on_the_standard_library_alone() -> None:
    """The cluster runs gate.py as-is in a plain Python image: it may import nothing else."""
    import sys

    tree = ast.parse(Path(gate.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree))
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
