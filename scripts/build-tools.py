#!/usr/bin/env python3
"""Builds the Go programs pinned in tools/versions.toml, once per machine.

Each goes to ${RAC_TOOLS_DIR:-~/.cache/reliability-as-code/tools}/<tool>-<version>/bin/<binary>;
one already there is kept. Prints how long each build took. Only the Go module proxy is used.

    scripts/build-tools.py                 build every tool that is missing
    scripts/build-tools.py etcd helm       build only these
    scripts/build-tools.py --path pulumi   print where a tool's binary is (built or not)

Exit codes: 0 built or present, 1 a build failed (the log's path is printed), 2 bad
tools/versions.toml, an unknown tool or no Go toolchain.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSIONS = REPO / "tools" / "versions.toml"
REQUIRED = ("module", "version", "package", "binary")
OPTIONAL = ("build", "ldflags", "release", "plugin", "files", "generate")


class ToolsError(Exception):
    """A problem with tools/versions.toml or the request; the message names the field and the fix."""


@dataclass(frozen=True)
class Tool:
    name: str
    module: str
    version: str
    package: str
    binary: str
    build: str = ""
    ldflags: str = ""
    release: str = ""
    plugin: str = ""
    files: tuple[str, ...] = ()
    generate: str = ""

    def home(self, root: Path) -> Path:
        return root / f"{self.name}-{self.version}"

    def path(self, root: Path) -> Path:
        return self.home(root) / "bin" / self.binary


def tools_dir() -> Path:
    """Where built tools live: a user cache keyed by version, shared by every clone on the machine."""
    return Path(os.environ.get("RAC_TOOLS_DIR") or Path.home() / ".cache" / "reliability-as-code" / "tools")


def load(path: Path = VERSIONS) -> dict[str, Tool]:
    """Every tool of the versions file, checked: all problems are reported together."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ToolsError(f"{path}: {error}") from None
    problems: list[str] = []
    tools: dict[str, Tool] = {}
    for name, table in sorted(data.items()):
        if not isinstance(table, dict):
            problems.append(f"{path}: `{name}` must be a table ([{name}]) with {', '.join(REQUIRED)}")
            continue
        missing = [key for key in REQUIRED if not isinstance(table.get(key), str) or not table[key]]
        unknown = sorted(set(table) - set(REQUIRED) - set(OPTIONAL))
        problems += [f"{path}: [{name}] {key}: missing (a non-empty string)" for key in missing]
        problems += [f"{path}: [{name}] {key}: unknown key (known: {', '.join(REQUIRED + OPTIONAL)})"
                     for key in unknown]
        files = table.get("files", [])
        if not isinstance(files, list) or not all(isinstance(f, str) and ":" in f for f in files):
            problems.append(f"{path}: [{name}] files: must be a list of \"MODULE:PATH\" strings")
            continue
        if missing or unknown:
            continue
        tool = Tool(name=name, **{key: str(value) for key, value in table.items() if key != "files"},
                    files=tuple(files))
        own = tool.package == "." and tool.build  # the build module's own main package
        if not (own or tool.package == tool.module or tool.package.startswith(tool.module + "/")):
            problems.append(f"{path}: [{name}] package: {tool.package} is not in module {tool.module}"
                            " (or \".\", a build module's own program)")
        if tool.build:
            problems += _check_build_module(path, tool)
        else:
            problems += [f"{path}: [{name}] files: {spec} is not in module {tool.module}, the only module"
                         " a `go install` build has (a build module of ours can name others)"
                         for spec in tool.files if spec.partition(":")[0] != tool.module]
        tools[name] = tool
    if problems:
        raise ToolsError("\n".join(problems))
    return tools


def _check_build_module(path: Path, tool: Tool) -> list[str]:
    """The build module must pin the module at the version of the versions file: one source of versions."""
    gomod = REPO / tool.build / "go.mod"
    if not gomod.is_file():
        return [f"{path}: [{tool.name}] build: {gomod} not found (a build module needs go.mod and go.sum)"]
    required = re.search(rf"^\s*(?:require\s+)?{re.escape(tool.module)}\s+(\S+)", gomod.read_text(), re.M)
    if required is None:
        return [f"{path}: [{tool.name}] build: {gomod} does not require {tool.module}"]
    if required.group(1) != tool.version:
        return [f"{path}: [{tool.name}] version {tool.version} but {gomod} requires {tool.module} "
                f"{required.group(1)}: make them the same"]
    return []


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise ToolsError("go not found on PATH: install Go 1.26 (the Go toolchain builds the pinned tools)")
    return go


def _lower_priority() -> None:
    # Builds are long and CPU-bound; the machine may be shared with other work.
    os.nice(10)


def build(tool: Tool, root: Path, log: Path) -> None:
    """Builds one tool into its versioned folder; the binary appears only once the build succeeded."""
    go = _go()
    bin_dir = tool.path(root).parent
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED=os.environ.get("CGO_ENABLED", "0"))
    flags = ["-trimpath", "-ldflags", f"-s -w {tool.ldflags}".strip()]
    with tempfile.TemporaryDirectory(dir=bin_dir) as scratch:
        if tool.generate:
            _run([go, "run", tool.generate, tool.release or tool.version], REPO / tool.build, env, log, "w")
        if tool.build:
            out = Path(scratch) / tool.binary
            command = [go, "build", *flags, "-o", str(out), tool.package]
            cwd = REPO / tool.build
            env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -mod=readonly").strip()
        else:
            command = [go, "install", *flags, f"{tool.package}@{tool.version}"]
            cwd = Path(scratch)
            env["GOBIN"] = scratch
        _run(command, cwd, env, log, "a" if tool.generate else "w")
        built = out if tool.build else next(p for p in Path(scratch).iterdir() if p.is_file())
        for spec in tool.files:
            _copy_module_file(go, spec, tool, cwd, env, bin_dir)
        os.replace(built, tool.path(root))


def _run(command: list[str], cwd: Path, env: dict[str, str], log: Path, mode: str) -> None:
    with log.open(mode) as stream:
        stream.write(f"$ (cd {cwd} && {' '.join(command)})\n")
        stream.flush()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=stream, stderr=subprocess.STDOUT,
                                preexec_fn=_lower_priority, check=False)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, command)


def _copy_module_file(go: str, spec: str, tool: Tool, cwd: Path, env: dict[str, str], bin_dir: Path) -> None:
    """MODULE:PATH, a file of a module in the build's module graph (from the proxy), next to the binary.

    Without a build module of ours the graph is the tool's module at its pinned version."""
    module, _, relative = spec.partition(":")
    if tool.build:
        command = [go, "list", "-m", "-f", "{{.Dir}}", module]
    else:
        command = [go, "mod", "download", "-json", f"{module}@{tool.version}"]
    output = subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout
    found = output.strip() if tool.build else json.loads(output)["Dir"]
    source = Path(found) / relative
    target = bin_dir / source.name
    shutil.copyfile(source, target)
    target.chmod(0o755)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tools", nargs="*", help="tool names (tables of tools/versions.toml); default: all")
    parser.add_argument("--path", action="store_true", help="print each tool's binary path and build nothing")
    args = parser.parse_args(argv)
    try:
        tools = load()
        unknown = [name for name in args.tools if name not in tools]
        if unknown:
            raise ToolsError(f"unknown tool(s) {', '.join(unknown)}: tools/versions.toml has {', '.join(tools)}")
        chosen = [tools[name] for name in args.tools] if args.tools else list(tools.values())
        root = tools_dir()
        if args.path:
            for tool in chosen:
                print(tool.path(root))
            return 0
        started = time.monotonic()
        for tool in chosen:
            target = tool.path(root)
            if os.access(target, os.X_OK):
                print(f"tools: {tool.name} {tool.version}: present ({target})")
                continue
            log = tool.home(root) / "build.log"
            print(f"tools: {tool.name} {tool.version}: building (log: {log}) ...", flush=True)
            began = time.monotonic()
            try:
                build(tool, root, log)
            except subprocess.CalledProcessError:
                tail = log.read_text().splitlines()[-15:] if log.exists() else []
                print("\n".join(tail), file=sys.stderr)
                print(f"tools: building {tool.name} {tool.version} failed after {time.monotonic() - began:.0f}s "
                      f"(full log: {log})", file=sys.stderr)
                return 1
            print(f"tools: {tool.name} {tool.version}: built in {time.monotonic() - began:.0f}s ({target})",
                  flush=True)
        print(f"tools: done in {time.monotonic() - started:.0f}s ({root})")
        return 0
    except ToolsError as error:
        print(f"tools: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
