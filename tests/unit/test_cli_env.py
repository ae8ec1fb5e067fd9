"""`--env` means the same on every `sre` command: the commands that check take several (and `all`);
the ones that read one environment (one Prometheus, one output folder) refuse a second instead of
silently keeping the last, and every one refuses a name that is no stack."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from reliability.cli import build_parser
from reliability.cli.common import _OneEnv

from .slo.helpers import spec_header
from .slo.test_outputs import sre
from .test_cli_help import LEAVES

WITH_ENV = [(path, parser) for path, parser in LEAVES
            if any("--env" in a.option_strings for a in parser._actions)]
# The commands that loop over environments; every other one reads exactly one.
SEVERAL = [("runbooks", "check"), ("slo", "compile"), ("slo", "validate")]


def env_action(parser: argparse.ArgumentParser) -> argparse.Action:
    return next(a for a in parser._actions if "--env" in a.option_strings)


def test_every_command_that_applies_overrides_takes_env() -> None:
    assert sorted(" ".join(path) for path, _ in WITH_ENV) == [
        "budget gate", "budget status", "loadtest verdict", "plan check", "postmortem new", "report",
        "runbooks check", "runbooks generate", "slo compile", "slo validate",
    ]


def test_the_checks_take_several_and_the_rest_one() -> None:
    several = sorted(path for path, parser in WITH_ENV if isinstance(env_action(parser), argparse._AppendAction))
    assert several == SEVERAL
    assert all(isinstance(env_action(parser), _OneEnv) for path, parser in WITH_ENV if path not in SEVERAL)


@pytest.mark.parametrize("path,parser", [(p, x) for p, x in WITH_ENV if p not in SEVERAL],
                         ids=[" ".join(p) for p, _ in WITH_ENV if p not in SEVERAL])
def test_a_second_env_is_refused_not_silently_the_last(path, parser, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--env", "dev", "--env", "prod"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"sre {' '.join(path)}: error: --env given twice (dev, prod): this command reads one environment "
        "at a time; run it once per environment")
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--env", "all"])
    assert info.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    if path == ("plan", "check"):  # its four environment kinds are choices
        assert "argument --env: invalid choice: 'all'" in last
    else:
        assert last == (f"sre {' '.join(path)}: error: --env all: this command reads one environment at a time; "
                        "name one, e.g. --env prod, and run it once per environment")


def test_the_same_env_twice_is_one(capsys) -> None:
    parser = build_parser()
    args = parser.parse_args(["budget", "status", "--prometheus", "http://p:9090", "--env", "dev", "--env", "dev"])
    assert args.env == "dev"


SPEC = spec_header("shop") + """\
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{code=~"5.."}
        total: http_requests_total
"""


def test_runbooks_check_takes_several_and_all(tmp_path: Path) -> None:
    # Only prod's override points a page at a runbook that does not exist: checking dev alone misses it.
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC + "    environments:\n"
                           "      prod: {alerting: {page: {annotations: {runbook_url: docs/runbooks/no-such.md}}}}\n")
    dev = sre("runbooks", "check", str(spec), "--env", "dev")
    assert (dev.returncode, dev.stdout) == (0, "ok: 1 runbook_url(s) resolve\n"), dev.stderr
    for envs in (["--env", "dev", "--env", "prod"], ["--env", "all"]):
        proc = sre("runbooks", "check", str(spec), *envs)
        assert proc.returncode == 1
        assert proc.stderr == (
            f"{spec}:14: availability: runbook_url: 'docs/runbooks/no-such.md': no runbook at "
            "docs/runbooks/no-such.md (relative to the repository): write it, or run `sre runbooks generate` "
            "to start one\n1 dangling runbook_url(s) of 2 checked\n")


@pytest.mark.parametrize("command", [
    ("runbooks", "check"), ("runbooks", "generate", "--out", "OUT"),
    ("loadtest", "verdict", "--prometheus", "http://127.0.0.1:9", "--service", "shop",
     "--from", "2026-12-07T03:00:00Z", "--to", "2026-12-07T03:05:00Z", "--specs"),
    ("postmortem", "new", "--service", "shop", "--from", "2026-12-07T03:00:00Z", "--to", "2026-12-07T03:05:00Z",
     "--dir", "OUT", "--specs"),
], ids=lambda c: " ".join(c[:2]))
def test_an_env_that_is_no_stack_is_refused(tmp_path: Path, command: tuple[str, ...]) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    argv = [str(out) if a == "OUT" else a for a in command]
    proc = sre(*argv, str(spec), "--env", "prdo")
    assert proc.returncode == 2
    assert proc.stderr == (
        f"sre {' '.join(command[:2])}: --env 'prdo' is not one of the stacks in stacks/: dev, local, prod, staging; "
        "pass an existing stack name, or --stacks-dir for another project\n")
    assert not out.exists()
