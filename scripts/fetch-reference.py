#!/usr/bin/env python3
"""Rebuild the reference corpus (../shared/reference) from upstream, as tests/reference.yaml describes.

For CI runners, which have the internet: each source repository is fetched once at its pinned
commit (a shallow, blob-filtered, sparse git fetch of only the paths used), then the files are
copied into place and each top folder gets a SOURCES.txt saying where they came from.
The corpus is built in DEST.partial and swapped in whole, so a failed run leaves nothing half-written.

Usage: scripts/fetch-reference.py [--manifest FILE] [DEST]   (default: ../shared/reference beside the repository)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "tests" / "reference.yaml"
CHART_SUMMARY = ("Chart.yaml", "values.yaml", "values.schema.json")
# Where repositories are cloned from; tests point it at local repositories (file://...).
GIT_BASE = os.environ.get("RAC_REFERENCE_GIT_BASE", "https://github.com")
YAML_BLOCK = re.compile(r"^```ya?ml[^\n]*\n(.*?)^```", re.M | re.S)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def checkout(source: dict[str, str], paths: set[str], into: Path) -> Path:
    """`paths` of `source` at its commit, in a sparse work tree under `into`."""
    tree = into / source["repo"].replace("/", "+")
    tree.mkdir(parents=True)
    git("init", "-q", cwd=tree)
    git("remote", "add", "origin", f"{GIT_BASE}/{source['repo']}.git", cwd=tree)
    git("sparse-checkout", "set", "--no-cone", *sorted("/" + p for p in paths), cwd=tree)
    git("fetch", "-q", "--depth", "1", "--filter=blob:none", "origin", source["commit"], cwd=tree)
    git("checkout", "-q", "--detach", "FETCH_HEAD", cwd=tree)
    return tree


def needed_paths(manifest: dict[str, Any]) -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {name: set() for name in manifest["sources"]}
    for chart in manifest["charts"].values():
        paths[chart["from"]].add(chart["path"])
        for sub in (chart.get("subcharts") or {}).values():
            paths[sub["from"]].add(sub["path"])
    for entry in manifest["files"].values():
        files = entry.get("files") or {}
        names = files.values() if isinstance(files, dict) else files
        paths[entry["from"]].update([str(Path(entry["path"]) / n) for n in names] or [entry["path"]])
    return {name: found for name, found in paths.items() if found}


def stamp(chart_yaml: Path, keys: dict[str, str]) -> None:
    text = chart_yaml.read_text(encoding="utf-8")
    for key, value in keys.items():
        text, count = re.subn(rf"^{key}:.*$", f"{key}: {value}", text, flags=re.M)
        if count != 1:
            raise SystemExit(f"fetch-reference: {chart_yaml}: no single top-level '{key}:' to stamp")
    chart_yaml.write_text(text, encoding="utf-8")


def copy_chart(trees: dict[str, Path], name: str, chart: dict[str, Any], out: Path) -> list[str]:
    src = trees[chart["from"]] / chart["path"]
    dest = out / "charts-src" / name
    shutil.copytree(src, dest)
    (dest / ".gitignore").unlink(missing_ok=True)
    lines = [f"{name} <- {chart['from']}:{chart['path']}"]
    for sub_name, sub in sorted((chart.get("subcharts") or {}).items()):
        sub_dest = dest / "charts" / sub_name
        shutil.rmtree(sub_dest, ignore_errors=True)
        shutil.copytree(trees[sub["from"]] / sub["path"], sub_dest)
        (sub_dest / ".gitignore").unlink(missing_ok=True)
        lines.append(f"  charts/{sub_name} <- {sub['from']}:{sub['path']}")
    summary = out / "charts" / name
    summary.mkdir(parents=True)
    for file in CHART_SUMMARY:
        if (src / file).is_file():
            shutil.copy2(src / file, summary / file)
    if chart.get("stamp"):
        stamp(dest / "Chart.yaml", chart["stamp"])
    return lines


def copy_files(trees: dict[str, Path], dest_dir: str, entry: dict[str, Any], out: Path, repo: str) -> list[str]:
    src = trees[entry["from"]] / entry["path"]
    dest = out / dest_dir
    if "readme_yaml_blocks" in entry:
        blocks = YAML_BLOCK.findall(src.read_text(encoding="utf-8"))
        for name, number in entry["readme_yaml_blocks"].items():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            header = f"# extracted verbatim from {repo} {entry['path']} (yaml block #{number})\n"
            target.write_text(header + blocks[number - 1], encoding="utf-8")
        return [f"{dest_dir} <- {entry['from']}:{entry['path']} (yaml blocks)"]
    files = entry["files"]
    pairs = files.items() if isinstance(files, dict) else ((f, f) for f in files)
    for dest_name, src_name in pairs:
        target = dest / dest_name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (src / src_name).read_text(encoding="utf-8")
        if entry.get("strip_template_lines"):
            text = "".join(line for line in text.splitlines(keepends=True) if "{{" not in line)
        target.write_text(text, encoding="utf-8")
    return [f"{dest_dir} <- {entry['from']}:{entry['path']}"]


def fetch(dest: Path, manifest: dict[str, Any]) -> None:
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    sources = manifest["sources"]
    with tempfile.TemporaryDirectory(prefix="rac-reference-") as tmp:
        trees = {name: checkout(sources[name], paths, Path(tmp)) for name, paths in needed_paths(manifest).items()}
        notes: dict[str, list[str]] = {}
        for name, chart in sorted(manifest["charts"].items()):
            notes.setdefault("charts-src", []).extend(copy_chart(trees, name, chart, partial))
            notes.setdefault("charts", []).append(f"{name} <- {chart['from']}:{chart['path']}")
        for dest_dir, entry in sorted(manifest["files"].items()):
            repo = sources[entry["from"]]["repo"]
            notes.setdefault(dest_dir.split("/")[0], []).extend(copy_files(trees, dest_dir, entry, partial, repo))
    legend = [f"{name} = {s['repo']}@{s['commit']}" for name, s in sorted(sources.items())]
    for top, lines in notes.items():
        text = "Fetched by scripts/fetch-reference.py from tests/reference.yaml.\n" + "\n".join(lines + legend)
        (partial / top / "SOURCES.txt").write_text(text + "\n", encoding="utf-8")
    if dest.exists():
        shutil.rmtree(dest)
    partial.rename(dest)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("dest", nargs="?", type=Path, default=REPO.parent / "shared" / "reference")
    args = parser.parse_args(argv)
    dest = args.dest
    manifest = yaml.safe_load(args.manifest.read_text(encoding="utf-8"))
    try:
        fetch(dest.resolve(), manifest)
    except subprocess.CalledProcessError as exc:
        print(f"fetch-reference: {' '.join(exc.cmd)} failed (exit {exc.returncode})", file=sys.stderr)
        return 1
    print(f"fetch-reference: {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
