"""Generators against their golden files: any change in output shows up as a reviewable diff.

After an intended change: `make golden`, review `git diff tests/golden`, commit both.
"""

from __future__ import annotations

import difflib

import pytest

from .cases import CASES, GOLDEN, render


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_matches_golden(case: str) -> None:
    actual = render(case)
    folder = GOLDEN / case
    expected = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}
    assert sorted(actual) == sorted(expected), "files differ: run `make golden` and review the diff"
    for rel in sorted(actual):
        if actual[rel] != expected[rel]:
            diff = "".join(difflib.unified_diff(expected[rel].splitlines(True), actual[rel].splitlines(True),
                                                f"golden/{case}/{rel}", f"generated/{rel}", n=2))
            pytest.fail(f"{rel} drifted from its golden file (run `make golden` and review):\n{diff[:4000]}")
