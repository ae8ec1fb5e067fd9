"""The map from published controls to the pack's policies (controls.yaml), and its table for the docs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ._common import ENVIRONMENTS

_FILE = Path(__file__).with_name("controls.yaml")
_CITED = re.compile(r"^\[([^\]]+)\] ")
NO_CONTROL = "RAC"  # the family of findings that cite no published control


@dataclass(frozen=True)
class Control:
    id: str
    family: str
    policy: str
    levels: dict[str, str]
    why: str


@dataclass(frozen=True)
class Unenforced:
    id: str
    family: str
    reason: str


def _levels(value: object) -> dict[str, str]:
    if value in ("all-mandatory", "all-advisory"):
        return dict.fromkeys(ENVIRONMENTS, str(value).removeprefix("all-"))
    if isinstance(value, dict):
        return {env: str(value[env]) for env in ENVIRONMENTS}
    raise ValueError(f"{_FILE.name}: levels must be all-mandatory, all-advisory or one per environment: {value!r}")


@cache
def catalogue() -> tuple[tuple[Control, ...], tuple[Unenforced, ...]]:
    data = yaml.safe_load(_FILE.read_text(encoding="utf-8"))
    controls = tuple(
        Control(c["id"], c["family"], c["policy"], _levels(c["levels"]), c["why"]) for c in data["controls"]
    )
    unenforced = tuple(Unenforced(u["id"], u["family"], u["reason"]) for u in data["unenforced"])
    return controls, unenforced


def cited(message: str) -> list[str]:
    """The control ids a message starts with: `[CIS EKS 5.3.1, FSBP EKS.3] ...` -> both."""
    match = _CITED.match(message)
    return [part.strip() for part in match[1].split(",")] if match else []


def families(message: str) -> list[str]:
    """Every control family a finding cites, in the order cited: `[CIS EKS 5.3.1, FSBP EKS.3] ...` -> both;
    a message that cites no control belongs to RAC. An id missing from the map counts by its first word."""
    ids = cited(message)
    if not ids:
        return [NO_CONTROL]
    by_id = {c.id: c.family for c in catalogue()[0]}
    return list(dict.fromkeys(by_id.get(i, i.split(" ")[0]) for i in ids))


def family(message: str) -> str:
    """The control family of a finding, from the first control its message cites."""
    return families(message)[0]


def all_families() -> list[str]:
    """The families of the controls the pack enforces, and RAC, sorted."""
    return sorted({c.family for c in catalogue()[0]} | {NO_CONTROL})


def markdown() -> str:
    """The docs table (docs/policies.md, between the `controls` markers)."""
    controls, unenforced = catalogue()
    envs = " | ".join(ENVIRONMENTS)
    lines = [
        f"| Control | Policy | {envs} | Why |",
        "| --- | --- | " + " | ".join("---" for _ in ENVIRONMENTS) + " | --- |",
    ]
    for c in controls:
        levels = " | ".join(c.levels[env] for env in ENVIRONMENTS)
        lines.append(f"| {c.id} | `{c.policy}` | {levels} | {c.why} |")
    lines += ["", "Not enforced by the pack, and why:", "", "| Control | Why not |", "| --- | --- |"]
    lines += [f"| {u.id} | {u.reason} |" for u in unenforced]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m policies.controls > table (pasted into docs/policies.md)
    print(markdown(), end="")
