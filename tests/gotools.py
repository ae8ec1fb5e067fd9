"""The Go programs of tools/versions.toml, where scripts/build-tools.py (`make tools`) puts them."""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from types import ModuleType

from .conftest import REPO, skip_or_fail


@cache
def build_tools() -> ModuleType:
    """scripts/build-tools.py as a module: one reading of the versions file and the tools folder."""
    spec = importlib.util.spec_from_file_location("build_tools", REPO / "scripts" / "build-tools.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def built_tool(name: str) -> str:
    """The binary's path; skips (fails under RAC_STRICT) when `make tools` has not built it."""
    tools = build_tools()
    tool = tools.load()[name]
    path = tool.path(tools.tools_dir())
    if not os.access(path, os.X_OK):
        skip_or_fail(f"{name} {tool.version} not built at {path}: run `make tools`")
    return str(path)
