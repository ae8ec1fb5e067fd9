"""What every `sre` sub-command shares: exit codes and how problems are printed.

Exit codes: 0 success; 1 a check or test found a failure; 2 bad input or a missing
tool (with a message naming the file, field and fix, never a traceback).
"""

from __future__ import annotations

import sys

from ..problems import Problems

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def print_problems(problems: Problems) -> None:
    for problem in problems.warnings:
        print(problem, file=sys.stderr)
    for problem in problems.errors:
        print(problem, file=sys.stderr)
