"""The `sre` command: one thin module per sub-command group (arguments in, a library call,
an exit code out). Nothing in the library imports this package.

Exit codes: 0 success; 1 a check or test found a failure; 2 bad input or a missing
tool (with a message naming the file, field and fix, never a traceback); 70 a bug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from . import bench, budget, incidents, plan, platform, policy, report, runbooks, slo, testing
from .common import EXIT_INPUT, EXIT_OK, print_help


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sre", description="Reliability as code: SLOs, rules and the platform.",
        epilog="Run `sre COMMAND --help` for a command's options, an example and its exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(func=lambda _args: print_help(parser))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for group in (slo, testing, platform, plan, policy, budget, report, runbooks, incidents, bench):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        print(f"sre: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug, not bad input: say so briefly, details on request
        if os.environ.get("SRE_DEBUG"):
            raise
        print(f"sre: internal error: {type(exc).__name__}: {exc} (set SRE_DEBUG=1 for details)", file=sys.stderr)
        return 70
