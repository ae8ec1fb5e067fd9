"""The layout shows the architecture: each room of `reliability/` imports only what it may.

The arrows point one way: the SLO compiler imports neither Pulumi nor any other room;
components use the library but never the CLI; the CLI uses everything and nothing uses it.
The Pulumi components (components/) and the policy pack (policies/) count as rooms too: only the
offline render (platform) runs the components, only the offline policy check (policy) runs the pack.
A new room must be added to ALLOWED, which is the point: say what it may touch.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = {"durations", "problems", "prometheus", "times", "yamlio"}  # helpers everyone may reach
OUTSIDE = ("components", "policies")  # folders beside the package whose imports count as rooms

# room -> rooms of `reliability` it may import (besides itself and SHARED), and whether it may import Pulumi.
ALLOWED: dict[str, tuple[set[str], bool]] = {
    "slo": (set(), False),
    "alerting": (set(), False),
    "incidents": ({"alerting", "slo"}, False),
    "platform": ({"alerting", "slo", "incidents", "components"}, True),
    "policy": ({"alerting", "policies"}, True),
    "bench": ({"slo", "platform", "budgets"}, True),
    "budgets": ({"slo", "incidents"}, False),
    "testing": ({"slo"}, False),
    "cli": ({"slo", "alerting", "platform", "policy", "bench", "budgets", "incidents", "testing"}, True),
}
PULUMI = ("pulumi", "pulumi_kubernetes", "pulumi_aws", "pulumi_random", "pulumi_policy")


def imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved against `package`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(REPO).parts[:-1])


def _room(module: str) -> str | None:
    """The room (or shared helper) a module name points into; None for the package's own names.

    `components` and `policies` are rooms of their own: importing them imports Pulumi (and the pack)."""
    parts = module.split(".")
    if parts[0] in OUTSIDE:
        return parts[0]
    if parts[0] != "reliability" or len(parts) < 2:
        return None
    root = REPO / "reliability"
    return parts[1] if (root / parts[1]).is_dir() or (root / f"{parts[1]}.py").exists() else None


def violations(path: Path) -> list[str]:
    package = _package_of(path)
    parts = path.relative_to(REPO).parts
    own = parts[1] if len(parts) > 2 else path.stem  # reliability/<room>/... or reliability/<helper>.py
    out = []
    for module in sorted(imported_modules(path, package)):
        top, room = module.split(".")[0], _room(module)
        if own in ALLOWED:
            rooms, pulumi_ok = ALLOWED[own]
            if top in PULUMI and not pulumi_ok:
                out.append(f"{path.relative_to(REPO)} imports {module}: the {own} room stays free of Pulumi")
            if room and room not in SHARED and room != own and room not in rooms:
                out.append(f"{path.relative_to(REPO)} imports {module}: {own} may not use {room}")
        elif own in SHARED or own in ("__init__", "__main__"):
            if room and room not in SHARED and not (own == "__main__" and room == "cli"):
                out.append(f"{path.relative_to(REPO)} imports {module}: shared helpers import no room")
        else:
            out.append(f"{path.relative_to(REPO)}: room '{own}' is not in ALLOWED: say what it may import")
    return out


def test_every_room_imports_only_what_it_may():
    problems = [p for path in sorted((REPO / "reliability").rglob("*.py")) for p in violations(path)]
    assert problems == []


@pytest.mark.parametrize("folder", ["components", "policies"])
def test_nothing_outside_the_cli_uses_it(folder):
    users = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for module in imported_modules(path, _package_of(path))
        if module == "reliability.cli" or module.startswith("reliability.cli.")
    ]
    assert users == []


def test_the_policy_pack_sees_only_rendered_resources():
    """policies/ runs inside the engine's policy host: it imports nothing of the library."""
    users = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in sorted((REPO / "policies").rglob("*.py"))
        for module in imported_modules(path, _package_of(path))
        if module.split(".")[0] in ("reliability", "components")
    ]
    assert users == []


def test_the_checker_sees_relative_imports_across_rooms(tmp_path, monkeypatch):
    """The checker itself: a compiler module importing Pulumi and the platform is caught."""
    room = tmp_path / "reliability" / "slo" / "generators"
    room.mkdir(parents=True)
    (tmp_path / "reliability" / "platform").mkdir()
    bad = room / "bad.py"
    bad.write_text("import pulumi\nfrom ...platform.config import StackConfig\nfrom ..model import SLO\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert violations(bad) == [
        "reliability/slo/generators/bad.py imports pulumi: the slo room stays free of Pulumi",
        "reliability/slo/generators/bad.py imports reliability.platform.config: slo may not use platform",
        "reliability/slo/generators/bad.py imports reliability.platform.config.StackConfig: slo may not use platform",
    ]



@pytest.mark.parametrize(("own", "line", "problem"), [
    ("slo/generators", "from components.program import defaults",
     "imports components.program: slo may not use components"),
    ("slo", "import policies", "imports policies: slo may not use policies"),
    ("budgets", "from components import grafana", "imports components: budgets may not use components"),
    ("cli", "from components.program import program", "imports components.program: cli may not use components"),
    ("platform", "from policies import POLICIES", "imports policies: platform may not use policies"),
])
def test_only_the_render_runs_components_and_only_the_policy_check_runs_the_pack(tmp_path, monkeypatch, own,
                                                                                 line, problem):
    room = tmp_path / "reliability" / own
    room.mkdir(parents=True)
    bad = room / "bad.py"
    bad.write_text(line + "\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert violations(bad)[0] == f"reliability/{own}/bad.py {problem}"


def test_the_render_and_the_policy_check_may_run_components_and_the_pack(tmp_path, monkeypatch):
    for own, line in (("platform", "from components.program import program"), ("policy", "from policies import X")):
        (tmp_path / "reliability" / own).mkdir(parents=True)
        (tmp_path / "reliability" / own / "ok.py").write_text(line + "\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert violations(tmp_path / "reliability" / "platform" / "ok.py") == []
    assert violations(tmp_path / "reliability" / "policy" / "ok.py") == []


def test_a_shared_helper_importing_components_is_caught(tmp_path, monkeypatch):
    (tmp_path / "reliability").mkdir()
    bad = tmp_path / "reliability" / "yamlio.py"
    bad.write_text("from components.helm import chart\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert violations(bad) == [
        "reliability/yamlio.py imports components.helm: shared helpers import no room",
        "reliability/yamlio.py imports components.helm.chart: shared helpers import no room",
    ]


# The one Prometheus client of the library, and the in-cluster gate's copy: it ships as a standalone script.
PROMETHEUS_CLIENTS = ["reliability/prometheus.py", "reliability/testing/gate.py"]


def test_one_prometheus_client():
    """A room that reads Prometheus uses reliability/prometheus.py rather than its own HTTP code."""
    clients = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "reliability").rglob("*.py"))
        if "urlopen" in (text := path.read_text(encoding="utf-8")) and "/api/v1/" in text
    ]
    assert clients == PROMETHEUS_CLIENTS
