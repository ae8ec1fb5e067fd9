"""What every `sre` sub-command shares: exit codes and how problems are printed.

Exit codes: 0 success; 1 a check or test found a failure; 2 bad input or a missing
tool (with a message naming the file, field and fix, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from ..problems import Problems

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def print_problems(problems: Problems) -> None:
    for problem in problems.warnings:
        print(problem, file=sys.stderr)
    for problem in problems.errors:
        print(problem, file=sys.stderr)


Subparsers = argparse._SubParsersAction  # type: ignore[type-arg]

# What each exit code means, for the `exit codes:` part of every command's help.
MEANING = {
    EXIT_OK: "success",
    EXIT_FAILED: "a check or test found a failure",
    EXIT_INPUT: "bad input or a missing tool: a message names the file, field and fix",
}


# `--env`, the same on every command that applies a spec's environment overrides: commands that
# check (slo validate, runbooks check) take several, or `all` for every stack; the others read one
# environment (one Prometheus, one output folder) and refuse a second rather than keep the last.
ALL_ENVS = "all"


class _OneEnv(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        previous = getattr(namespace, self.dest, None)
        if values == ALL_ENVS:
            parser.error(f"{option_string} all: this command reads one environment at a time; "
                         f"name one, e.g. {option_string} prod, and run it once per environment")
        if previous is not None and previous != values:
            parser.error(f"{option_string} given twice ({previous}, {values}): this command reads one "
                         "environment at a time; run it once per environment")
        setattr(namespace, self.dest, values)


def env_args(p: argparse.ArgumentParser, help: str, *, several: bool = False, stacks_dir: bool = True,
             choices: tuple[str, ...] | None = None) -> None:
    """`--env` (and `--stacks-dir`, where the names come from); `several`: repeatable, and `all`."""
    if several:
        p.add_argument("--env", action="append", metavar="ENV",
                       help=f"{help}; repeat it for several, or all for every stack")
    else:
        p.add_argument("--env", action=_OneEnv, metavar=None if choices else "ENV", choices=choices,
                       help=f"{help} (one)")
    if stacks_dir:
        p.add_argument("--stacks-dir", default="stacks",
                       help="where Pulumi.<env>.yaml live: the environments --env and specs may name")


def chosen_envs(args: argparse.Namespace, name: str) -> list[str | None] | None:
    """The environments a repeatable `--env` names (`all`: every stack), or None after printing why one is refused.

    Unknown names are refused before any spec is read: they would compile with no override applied.
    """
    from ..platform.environments import known_environments

    if not args.env:
        return [None]
    names: list[str] = []
    for env in args.env:
        expanded = list(known_environments(args.stacks_dir)[0]) if env == ALL_ENVS else [env]
        names += [n for n in expanded if n not in names]
    for env in names:
        if not env_known(env, args.stacks_dir, name):
            return None
    return list(names)


def env_known(env: str | None, stacks_dir: str, name: str) -> bool:
    """False after printing why, when `env` names no stack (it would apply no override)."""
    from ..platform.environments import unknown_env_message

    message = unknown_env_message(env, stacks_dir)
    if message:
        print(f"sre {name}: {message}", file=sys.stderr)
    return message is None


def group(sub: Subparsers, name: str, *, help: str, description: str = "") -> Subparsers:
    """A command group (`sre slo`, `sre bench`, ...): bare, it prints its help and exits 0."""
    parser = sub.add_parser(name, help=help, description=description or help)
    parser.set_defaults(func=lambda _args: print_help(parser))
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", title="commands")


def command(
    sub: Subparsers,
    name: str,
    *,
    help: str,
    description: str = "",
    examples: tuple[str, ...],
    exit_codes: dict[int, str] | None = None,
) -> argparse.ArgumentParser:
    """A sub-command whose --help says what it does, shows an example and lists its exit codes."""
    codes = {EXIT_OK: MEANING[EXIT_OK], EXIT_INPUT: MEANING[EXIT_INPUT], **(exit_codes or {})}
    epilog = "\n".join(
        ["examples:", *(f"  {example}" for example in examples), "", "exit codes:",
         *(f"  {code}  {meaning}" for code, meaning in sorted(codes.items()))]
    )
    return sub.add_parser(
        name, help=help, description=textwrap.fill(description or help, 88), epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_OK
