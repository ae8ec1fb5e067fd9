#!/usr/bin/env python3
"""Build the Go tools of tools/versions.toml once per machine, keyed by version.

Each lands in ${RAC_TOOLS_DIR:-~/.cache/reliability-as-code/tools}/<tool>-<version>/bin/<binary>;
a binary already there is kept, so a second run is instant. Only the Go module proxy is used.
Usage: scripts/build-tools.py [TOOL...]   (default: every tool)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSIONS = REPO / "tools" / "versions.toml"


def tools_dir() -> Path:
    return Path(os.environ.get("RAC_TOOLS_DIR") or Path.home() / ".cache" / "reliability-as-code" / "tools")


def binary_path(tool: str, spec: dict[str, str]) -> Path:
    return tools_dir() / f"{tool}-{spec['version']}" / "bin" / spec["binary"]


def build(tool: str, spec: dict[str, str]) -> Path:
    target = binary_path(tool, spec)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": os.environ.get("CGO_ENABLED", "0")}
    partial = target.with_name(target.name + ".partial")  # never leave a half-written binary behind
    flags = ["-trimpath", *(["-ldflags", spec["ldflags"]] if "ldflags" in spec else [])]
    if "build" in spec:
        cmd = ["go", "build", *flags, "-o", str(partial), spec["package"]]
        cwd = REPO / "tools" / "build" / spec["build"]
    else:
        env["GOBIN"] = str(partial.parent / ".gobin")
        cmd = ["go", "install", *flags, f"{spec['package']}@{spec['version']}"]
        cwd = REPO
    print(f"build-tools: {tool} {spec['version']}: {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, cwd=cwd, env=env, check=True)
    if "build" not in spec:
        (partial.parent / ".gobin" / spec["binary"]).rename(partial)
        (partial.parent / ".gobin").rmdir()
    partial.rename(target)
    return target


def main(argv: list[str]) -> int:
    specs = tomllib.loads(VERSIONS.read_text(encoding="utf-8"))
    unknown = sorted(set(argv) - set(specs))
    if unknown:
        print(f"build-tools: unknown tool(s) {', '.join(unknown)}; {VERSIONS.name} has {', '.join(specs)}",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        for tool in argv or list(specs):
            print(f"build-tools: {tool}: {build(tool, specs[tool])}", flush=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"build-tools: {exc}", file=sys.stderr)
        return 1
    print(f"build-tools: done in {time.monotonic() - started:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
