"""What every `sre` sub-command shares: exit codes and how problems are printed.

Exit codes: 0 success; 1 a check or test found a failure; 2 bad input or a missing
tool (with a message naming the file, field and fix, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
import textwrap

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
