"""The `sre` command explains itself: a version, help when a command is missing, and for
every sub-command a description, examples that run through the parser, and its exit codes."""

from __future__ import annotations

import argparse
import shlex
import tomllib
from pathlib import Path

import pytest

from reliability.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(path, parser)]
    return [leaf for name, child in subs[0].choices.items() for leaf in _leaves(child, (*path, name))]


def _groups(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return []
    return [path, *(g for name, child in subs[0].choices.items() for g in _groups(child, (*path, name)))]


LEAVES = _leaves(build_parser())


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out.strip() == f"sre {version}"


@pytest.mark.parametrize("group", _groups(build_parser()), ids=lambda g: " ".join(("sre", *g)))
def test_a_bare_group_prints_its_help(group, capsys):
    assert main(list(group)) == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"usage: {' '.join(('sre', *group))} ")
    assert "COMMAND" in out.out and out.err == ""


def test_the_benchmarks_sit_in_one_group():
    assert sorted(path for path, _ in LEAVES if "bench" in path) == [("bench", "compile"), ("bench", "render"), ("bench", "report"), ("bench", "rules")]


@pytest.mark.parametrize("path,parser", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_has_examples_and_exit_codes(path, parser):
    help_text = parser.format_help()
    assert parser.description and "examples:" in help_text and "exit codes:" in help_text
    codes = help_text.split("exit codes:", 1)[1]
    assert "  0  " in codes and "  2  " in codes
    examples = help_text.split("examples:", 1)[1].split("exit codes:", 1)[0].strip().splitlines()
    assert any(e.strip().startswith(f"sre {' '.join(path)}") for e in examples)
    for example in examples:
        for part in example.split("&&"):
            build_parser().parse_args(shlex.split(part)[1:])  # exits 2 on anything it does not know
