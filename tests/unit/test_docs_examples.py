"""The README and docs/ are tested as code: links resolve, example specs validate, and every
`sre` command they show is one the CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from reliability.cli import build_parser, main
from reliability.slo.load import load

from ..conftest import tool

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


def _blocks(page: Path, language: str) -> list[str]:
    out = []
    for m in FENCE.finditer(page.read_text(encoding="utf-8")):
        if m.group(2) == language:
            indent = len(m.group(1))
            out.append("\n".join(line[indent:] for line in m.group(3).splitlines()))
    return out


def test_the_readme_links_every_docs_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = {m.group(1).split("#")[0] for m in LINK.finditer(readme)}
    assert sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")) == sorted(
        link for link in linked if link.startswith("docs/")
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_and_anchors_resolve(page):
    broken = []
    for m in LINK.finditer(CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))):
        target = m.group(1)
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no heading with that anchor in {file.name}")
    assert broken == []


def _spec_examples() -> list[tuple[str, str]]:
    return [
        (f"{page.relative_to(REPO)}#{i}", block)
        for page in PAGES
        for i, block in enumerate(_blocks(page, "yaml"))
        if "apiVersion: reliability-as-code/v1" in block
    ]


def test_there_are_spec_examples_to_check():
    assert len(_spec_examples()) >= 2


@pytest.mark.parametrize("where,block", _spec_examples(), ids=[w for w, _ in _spec_examples()])
def test_example_specs_validate(where, block, tmp_path):
    spec = tmp_path / "example.yaml"
    spec.write_text(block, encoding="utf-8")
    result = load([str(spec)])
    assert [str(p) for p in result.problems.errors] == [], where
    assert result.services and result.services[0].slos


def _sre_commands() -> list[tuple[str, list[str]]]:
    commands = []
    for page in PAGES:
        for block in _blocks(page, "sh"):
            for line in block.splitlines():
                line = line.split(" #", 1)[0].strip()
                if not line.startswith("sre "):
                    continue
                line = re.sub(r"\[[^\]]*\]", "", line)  # optional parts: [--config FILE]
                commands.append((f"{page.relative_to(REPO)}: {line}", shlex.split(line)[1:]))
    return commands


def test_there_are_sre_commands_to_check():
    assert len(_sre_commands()) >= 8


@pytest.mark.parametrize("where,argv", _sre_commands(), ids=[w for w, _ in _sre_commands()])
def test_documented_sre_commands_parse(where, argv):
    """The command, its sub-command and every option shown exist (argparse exits 2 otherwise)."""
    build_parser().parse_args(argv)


def test_the_readme_tour_runs(tmp_path, capsys):
    """The README's five minutes, for real: its spec validates for prod (the team is routed
    there), compiles, and its generated promtool tests pass."""
    tool("promtool")
    readme = REPO / "README.md"
    [spec] = [b for b in _blocks(readme, "yaml") if "apiVersion: reliability-as-code/v1" in b]
    specs = tmp_path / "slo-specs"
    specs.mkdir()
    (specs / "cart-api.yaml").write_text(spec, encoding="utf-8")
    stacks = ["--stacks-dir", str(REPO / "stacks")]
    commands = [argv for _, argv in _sre_commands() if _.startswith("README.md") and argv[0] == "slo"]
    assert [argv[:2] for argv in commands] == [["slo", "validate"], ["slo", "compile"], ["slo", "test"]]
    for argv in commands:
        argv = [str(specs) if a == "slo-specs/" else str(tmp_path / a) if a.startswith("out/") else a for a in argv]
        code = main([*argv, *stacks] if argv[1] != "test" else argv)
        assert code == 0, (argv, capsys.readouterr().err)
    assert (tmp_path / "out" / "slo" / "prometheusrules" / "cart-api.yaml").exists()
