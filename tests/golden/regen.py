"""Rewrite the golden files from the current generators: `make golden`, then review `git diff tests/golden`."""

from __future__ import annotations

import shutil

from .cases import CASES, GOLDEN, render


def main() -> None:
    for case in CASES:
        target = GOLDEN / case
        shutil.rmtree(target, ignore_errors=True)
        for rel, content in render(case).items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
