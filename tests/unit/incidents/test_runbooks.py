"""Runbooks: generated where none exists (never over a human's), and every alert's runbook_url resolving."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reliability.cli import main
from reliability.incidents.runbooks import anchors, url_problem
from reliability.slo.load import load

REPO = Path(__file__).resolve().parents[3]
BASE = "https://runbooks.example.com"


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example specs and runbooks, as a repository of its own."""
    shutil.copytree(REPO / "slo-specs", tmp_path / "slo-specs")
    shutil.copytree(REPO / "docs" / "runbooks", tmp_path / "docs" / "runbooks")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_examples_resolve(capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(REPO)
    assert main(["runbooks", "check", "--base", BASE]) == 0
    assert capsys.readouterr().out == "ok: 7 runbook_url(s) resolve\n"


def test_the_example_runbooks_are_what_the_generator_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # docs/runbooks/ started as `sre runbooks generate`; the golden files keep the generator honest.
    os.chdir(REPO)
    assert main(["runbooks", "generate", "--out", str(tmp_path)]) == 0
    golden = REPO / "tests/golden/examples/runbooks"
    written = sorted(path.name for path in tmp_path.iterdir())
    # One runbook per example service, and the same set as the golden files and the docs' examples.
    assert written == sorted(path.name for path in golden.iterdir()) == sorted(
        path.name for path in (REPO / "docs/runbooks").glob("*.md")) == [
        "checkout-api.md", "feature-flags.md", "order-worker.md", "search-api.md"]
    for name in written:
        assert (tmp_path / name).read_text() == (golden / name).read_text()


def test_generate_never_overwrites_a_runbook(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = repo / "docs/runbooks/checkout-api.md"
    mine.write_text("# checkout-api\n\nOurs.\n")
    (repo / "docs/runbooks/search-api.md").unlink()
    assert main(["runbooks", "generate"]) == 0
    out = capsys.readouterr()
    assert out.out == "wrote docs/runbooks/search-api.md\n"
    assert "kept docs/runbooks/checkout-api.md (exists: a runbook is never overwritten)" in out.err
    assert mine.read_text() == "# checkout-api\n\nOurs.\n"
    assert "## latency" in (repo / "docs/runbooks/search-api.md").read_text()
    assert not [p for p in (repo / "docs/runbooks").iterdir() if p.name.startswith(".")]  # no temporary left


def _break(repo: Path, old: str, new: str) -> None:
    spec = repo / "slo-specs/checkout-api.yaml"
    spec.write_text(spec.read_text().replace(old, new))


@pytest.mark.parametrize("old,new,expected", [
    # a missing file
    ("https://runbooks.example.com/checkout-api#latency", "https://runbooks.example.com/checkout#latency",
     "slo-specs/checkout-api.yaml:{line}: latency: runbook_url: 'https://runbooks.example.com/checkout#latency': no "
     "runbook at docs/runbooks/checkout (https://runbooks.example.com maps to docs/runbooks): write it, or run "
     "`sre runbooks generate` to start one"),
    # a missing anchor
    ("https://runbooks.example.com/checkout-api#latency", "https://runbooks.example.com/checkout-api#slowness",
     "slo-specs/checkout-api.yaml:{line}: latency: runbook_url: 'https://runbooks.example.com/checkout-api#slowness': "
     "docs/runbooks/checkout-api.md has no heading with anchor #slowness: add the heading or fix the link"),
    # a malformed URL
    ("https://runbooks.example.com/checkout-api#latency", "https://wiki_example/checkout",
     "slo-specs/checkout-api.yaml:{line}: latency: runbook_url: 'https://wiki_example/checkout' is not a well-formed "
     "URL (https://host/path#anchor)"),
])
def test_check_names_the_file_line_and_fix(repo: Path, capsys: pytest.CaptureFixture[str], old: str, new: str,
                                           expected: str) -> None:
    lines = (repo / "slo-specs/checkout-api.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if old in text)  # the latency SLO's runbook_url
    _break(repo, old, new)
    assert main(["runbooks", "check", "--base", BASE]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [expected.format(line=line), "1 dangling runbook_url(s) of 7 checked"]
    # The validator CI runs says the same, at the same line, and refuses the specs.
    assert main(["slo", "validate", "slo-specs", "--runbooks-base", BASE]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [expected.format(line=line), "1 problem(s) in 4 file(s)"]


def test_validate_checks_repository_urls_without_a_base(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Without --runbooks-base a URL into the repository still has to resolve; the others are only well-formed.
    assert main(["slo", "validate", "slo-specs"]) == 0
    shutil.rmtree(repo / "docs/runbooks")
    assert main(["slo", "validate", "slo-specs"]) == 0
    capsys.readouterr()
    assert main(["slo", "validate", "slo-specs", "--runbooks-base", BASE]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("slo-specs/checkout-api.yaml:12: availability: runbook_url: "
                      "'https://runbooks.example.com/checkout-api': no runbook at docs/runbooks/checkout-api "
                      "(https://runbooks.example.com maps to docs/runbooks): write it, or run `sre runbooks "
                      "generate` to start one")
    assert err[-1] == "7 problem(s) in 4 file(s)"  # one per SLO: the 7 of the examples


@pytest.mark.parametrize("argv", [["slo", "validate", "slo-specs"], ["runbooks", "check", "--base", BASE]])
def test_a_runbook_url_is_https(repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    # The spec schema refuses http:// for the reason `sre runbooks check` gives other formats' annotations.
    lines = (repo / "slo-specs/checkout-api.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "checkout-api#latency" in text)
    _break(repo, "https://runbooks.example.com/checkout-api#latency", "http://wiki.example.com/checkout")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (f"slo-specs/checkout-api.yaml:{line}: latency: slos[1].runbook_url: 'http://wiki.example.com/checkout' "
            "is not allowed here: a runbook_url is https: on-call opens it from a phone, at night; use https://"
            ) in err.splitlines()
    assert url_problem("http://wiki.example.com/checkout", repo, None, repo / "docs/runbooks") == (
        "'http://wiki.example.com/checkout' is not https: on-call opens it from a phone, at night; use https://")


def test_foreign_https_urls_pass(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(repo, "runbook_url: https://runbooks.example.com/checkout-api\n",
           "runbook_url: https://wiki.example.org/display/OPS/Checkout+API\n")
    assert main(["runbooks", "check", "--base", BASE]) == 0


def test_repository_relative_urls_resolve_against_the_root(repo: Path) -> None:
    # Specs take http(s) only (a page's link must open); relative links come from alert annotations.
    folder = repo / "docs/runbooks"
    assert url_problem("docs/runbooks/checkout-api.md#latency", repo, None, folder) is None
    assert url_problem("docs/runbooks/checkout-api#availability", repo, None, folder) is None
    assert url_problem("docs/runbooks/checkout-api.md#nope", repo, None, folder) == (
        "'docs/runbooks/checkout-api.md#nope': " f"{folder}/checkout-api.md has no heading with anchor #nope: "
        "add the heading or fix the link")
    assert url_problem("docs/runbook/checkout-api.md", repo, None, folder) == (
        f"'docs/runbook/checkout-api.md': no runbook at {repo}/docs/runbook/checkout-api.md (relative to the "
        "repository): write it, or run `sre runbooks generate` to start one")


def test_without_a_base_the_examples_are_only_well_formed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(repo / "docs/runbooks")
    assert main(["runbooks", "check"]) == 0


@pytest.mark.parametrize("argv,message", [
    (["runbooks", "check", "--base", "http://runbooks.example.com"],
     "sre runbooks check: --base 'http://runbooks.example.com' is not an https URL: give the URL your runbooks "
     "folder is published under, e.g. --base https://runbooks.example.com"),
    (["runbooks", "check", "nowhere/"], "nowhere"),
    (["runbooks", "generate", "nowhere/"], "nowhere"),
])
def test_bad_input_exits_2(repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_anchors_follow_github() -> None:
    text = "# A runbook\n## CheckoutApiAvailabilityBudgetBurn (page)\n```\n# not a heading\n```\n## latency\n" \
           "## latency\n<a id=\"custom\"></a>\n"
    assert anchors(text) == {"a-runbook", "checkoutapiavailabilitybudgetburn-page", "latency", "latency-1", "custom"}


def test_a_url_leaving_the_repository_is_refused(tmp_path: Path) -> None:
    assert url_problem("../outside.md", tmp_path, None, tmp_path) == (
        "'../outside.md' leaves the repository: link a file inside it")


def test_every_example_alert_gets_a_section() -> None:
    os.chdir(REPO)
    result = load(["slo-specs"])
    text = (REPO / "docs/runbooks/order-worker.md").read_text()
    for service in result.services:
        if service.name == "order-worker":
            for slo in service.slos:
                assert f"\n## {slo.name}\n" in text
    assert "### OrderWorkerFreshnessSLIAbsent (ticket)" in text
