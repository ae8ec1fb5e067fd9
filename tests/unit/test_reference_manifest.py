"""tests/reference.yaml, from which CI rebuilds ../shared/reference, describes the corpus the tests read.

Checked against the pins (components/charts.yaml), against an existing ../shared/reference
(same files, same upstream commits), and the fetch script is run for real against local git
repositories standing in for GitHub.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from reliability.platform.charts import pins

from ..conftest import REPO, reference

MANIFEST = yaml.safe_load((REPO / "tests" / "reference.yaml").read_text(encoding="utf-8"))
SCRIPT = REPO / "scripts" / "fetch-reference.py"
SUMMARY = ("Chart.yaml", "values.yaml", "values.schema.json")
NOTES = ("SOURCES.txt", "SOURCE.txt")


def produced_files() -> set[str]:
    """Every file the `files` entries write, relative to the reference root."""
    out = set()
    for dest, entry in MANIFEST["files"].items():
        names = entry.get("readme_yaml_blocks") or entry["files"]
        out |= {f"{dest}/{name}" for name in names}
    return out


def test_every_pinned_chart_is_in_the_manifest() -> None:
    assert {f"{p.chart}-{p.version}" for p in pins().values()} <= set(MANIFEST["charts"])


def test_every_entry_names_a_declared_source() -> None:
    used = {e["from"] for e in [*MANIFEST["charts"].values(), *MANIFEST["files"].values()]}
    used |= {s["from"] for c in MANIFEST["charts"].values() for s in (c.get("subcharts") or {}).values()}
    assert used == set(MANIFEST["sources"])
    for name, source in MANIFEST["sources"].items():
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), name


def test_the_commits_are_those_of_the_reference() -> None:
    root = reference()
    named = set()
    for notes in [*root.glob("*/SOURCES.txt"), *root.glob("*/SOURCE.txt")]:
        text = notes.read_text(encoding="utf-8")
        named |= {(repo.replace("+", "/"), sha) for repo, sha in re.findall(r"([\w.-]+[/+][\w.-]+) ?@ ?([0-9a-f]{40})", text)}
    ours = {(s["repo"], s["commit"]) for s in MANIFEST["sources"].values()}
    assert named == ours


def test_the_files_are_those_of_the_reference() -> None:
    root = reference()
    corpus = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name not in NOTES}
    charts = {f for f in corpus if f.split("/")[0] in ("charts", "charts-src")}
    assert corpus - charts == produced_files()
    assert {f.split("/")[1] for f in charts} == set(MANIFEST["charts"])
    for name, chart in MANIFEST["charts"].items():
        src = root / "charts-src" / name
        assert sorted(p.name for p in (root / "charts" / name).iterdir()) == sorted(
            f for f in SUMMARY if (src / f).is_file()), name
        for sub in chart.get("subcharts") or {}:
            assert (src / "charts" / sub / "Chart.yaml").is_file(), f"{name}: subchart {sub}"
        meta = yaml.safe_load((src / "Chart.yaml").read_text(encoding="utf-8"))
        for key, value in (chart.get("stamp") or {}).items():
            assert str(meta[key]) == value, f"{name}: {key}"
        assert not (src / ".gitignore").exists(), name


def test_readme_blocks_are_numbered_as_in_the_reference() -> None:
    root = reference()
    for dest, entry in MANIFEST["files"].items():
        for name, number in (entry.get("readme_yaml_blocks") or {}).items():
            first = (root / dest / name).read_text(encoding="utf-8").splitlines()[0]
            assert first.endswith(f"(yaml block #{number})"), f"{dest}/{name}: {first}"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def upstream(base: Path, name: str, files: dict[str, str]) -> str:
    """A local repository standing in for github.com/<name>; returns its commit."""
    repo = base / f"{name}.git"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "config", "uploadpack.allowFilter", "true")
    git(repo, "config", "uploadpack.allowAnySHA1InWant", "true")
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "pinned")
    commit = git(repo, "rev-parse", "HEAD")
    (repo / "later.txt").write_text("a later commit the fetch must not see\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "later")
    return commit


def test_the_fetch_script_builds_the_layout(tmp_path: Path) -> None:
    base = tmp_path / "github"
    charts = upstream(base, "acme/charts", {
        "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.0.0\nappVersion: \"0.0.0\"\n",
        "charts/app/values.yaml": "replicas: 1\n",
        "charts/app/.gitignore": "charts/*\n",
        "charts/app/templates/deploy.yaml": "kind: Deployment\n",
        "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 1.0.0\n",
        "crds/crd-things.yaml": "{{- if .Values.crds }}\nkind: CustomResourceDefinition\n{{- end }}\n",
        "README.md": "# x\n```yaml\nkind: A\n```\ntext\n```yaml\nkind: B\n```\n",
        "unrelated/big.bin": "not fetched\n",
    })
    manifest = {
        "sources": {"acme": {"repo": "acme/charts", "commit": charts}},
        "charts": {"app-1.2.3": {"from": "acme", "path": "charts/app", "stamp": {"version": "1.2.3"},
                                 "subcharts": {"lib": {"from": "acme", "path": "charts/lib"}}}},
        "files": {"crds/acme": {"from": "acme", "path": "crds", "files": {"things.yaml": "crd-things.yaml"},
                                "strip_template_lines": True},
                  "docs/snippets": {"from": "acme", "path": "README.md", "readme_yaml_blocks": {"b.yaml": 2}}},
    }
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    out = tmp_path / "reference"
    (out / "stale").mkdir(parents=True)
    done = subprocess.run([sys.executable, str(SCRIPT), "--manifest", str(tmp_path / "manifest.yaml"), str(out)],
                          env={**os.environ, "RAC_REFERENCE_GIT_BASE": base.as_uri()},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "charts-src/SOURCES.txt", "charts-src/app-1.2.3/Chart.yaml", "charts-src/app-1.2.3/charts/lib/Chart.yaml",
        "charts-src/app-1.2.3/templates/deploy.yaml", "charts-src/app-1.2.3/values.yaml",
        "charts/SOURCES.txt", "charts/app-1.2.3/Chart.yaml", "charts/app-1.2.3/values.yaml",
        "crds/SOURCES.txt", "crds/acme/things.yaml", "docs/SOURCES.txt", "docs/snippets/b.yaml",
    ]
    assert "version: 1.2.3\n" in (out / "charts-src/app-1.2.3/Chart.yaml").read_text()
    assert "version: 0.0.0\n" in (out / "charts/app-1.2.3/Chart.yaml").read_text()  # the summary is unstamped
    assert (out / "crds/acme/things.yaml").read_text() == "kind: CustomResourceDefinition\n"
    assert (out / "docs/snippets/b.yaml").read_text().endswith("kind: B\n")
    assert f"acme = acme/charts@{charts}" in (out / "crds/SOURCES.txt").read_text()
    assert not (tmp_path / "reference.partial").exists()
