"""`sre budget status | gate`: error budgets read from Prometheus, and the release decision."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from typing import Any, TextIO

from .common import EXIT_FAILED, EXIT_INPUT, EXIT_OK, Subparsers, command, env_args, env_known, group, print_problems

EXIT_UNKNOWN = 3
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,62}$")


def load_specs(args: argparse.Namespace, name: str) -> Any:
    """The services the command is about, or None after printing why not (bad input)."""
    from ..slo.load import UnknownServices, load, select

    if not env_known(args.env, args.stacks_dir, name):
        return None
    result = load([args.specs], env=args.env)
    if result.problems:
        print_problems(result.problems)
        print(f"sre {name}: {len(result.problems.errors)} problem(s) in the specs of {args.specs}", file=sys.stderr)
        return None
    try:
        services = select(result.services, args.service)
    except UnknownServices as exc:
        known = ", ".join(exc.known) or "none"
        print(f"sre {name}: --service {', '.join(exc.missing)}: no such service in {args.specs} "
              f"(enabled{' for ' + args.env if args.env else ''}: {known})", file=sys.stderr)
        return None
    return result.catalogs, services


def _statuses(args: argparse.Namespace, name: str, labels: frozenset[str] = frozenset(),
              fail_mode: str | None = None) -> Any:
    from ..budgets.status import statuses
    from ..prometheus import Prometheus, QueryError

    loaded = load_specs(args, name)
    if loaded is None:
        return None
    catalogs, services = loaded
    try:
        return statuses(Prometheus(args.prometheus, timeout=args.timeout), services, catalogs, labels, fail_mode)
    except QueryError as exc:
        print(f"sre {name}: --prometheus {args.prometheus}: {exc}", file=sys.stderr)
        return None


def cmd_budget_status(args: argparse.Namespace) -> int:
    from ..budgets import tables

    found = _statuses(args, "budget status")
    if found is None:
        return EXIT_INPUT
    render = {"text": tables.text, "json": tables.as_json, "markdown": tables.markdown}[args.format]
    sys.stdout.write(render(found))
    return EXIT_OK


class _Tee(io.StringIO):
    """Keeps what is written to stderr while passing it on, so the step summary can say it too."""

    def __init__(self, through: TextIO) -> None:
        super().__init__()
        self.through = through

    def write(self, text: str) -> int:
        self.through.write(text)
        return super().write(text)


def _gate(args: argparse.Namespace) -> tuple[int, Any, str]:
    """Exit code, the statuses (None on bad input) and the verdict; bad input is printed on stderr."""
    from ..budgets import tables

    labels = frozenset(label for text in args.change_labels or [] for label in text.split(",") if label.strip())
    labels = frozenset(label.strip() for label in labels)
    bad = sorted(label for label in labels if not LABEL.match(label))
    if bad:
        print(f"sre budget gate: --change-labels: {', '.join(map(repr, bad))} is not a label "
              "(letters, digits and . _ / : -, e.g. security,rollback)", file=sys.stderr)
        return EXIT_INPUT, None, ""
    found = _statuses(args, "budget gate", labels, args.fail_mode)
    if found is None:
        return EXIT_INPUT, None, ""
    code, verdict = tables.gate_verdict(found)
    return code, found, verdict


def cmd_budget_gate(args: argparse.Namespace) -> int:
    from ..budgets import tables

    if args.summary:
        try:  # a summary that cannot be written is found before anything else is done
            open(args.summary, "a", encoding="utf-8").close()
        except OSError as exc:
            print(f"sre budget gate: --summary {args.summary}: {exc.strerror}", file=sys.stderr)
            return EXIT_INPUT
    errors = _Tee(sys.stderr)
    with contextlib.redirect_stderr(errors):
        code, found, verdict = _gate(args)
    if found is not None:
        render = {"text": tables.gate_text, "json": tables.gate_json, "markdown": tables.gate_summary}[args.format]
        sys.stdout.write(render(code, found, verdict))
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(tables.gate_summary(code, found, verdict, errors.getvalue()))
    return code


def add_source_args(p: argparse.ArgumentParser, timeout: float = 30.0) -> None:
    """--prometheus, the specs and which of them: the same for status, gate and report."""
    p.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus base URL, e.g. http://prometheus:9090")
    p.add_argument("--specs", default="slo-specs", metavar="DIR", help="SLO spec files or folder (default slo-specs)")
    env_args(p, "apply this environment's overrides (a stack name), e.g. prod")
    p.add_argument("--service", action="extend", nargs="+", metavar="S",
                   help="only these services: --service a b, or --service a --service b")
    p.add_argument("--timeout", type=float, default=timeout, metavar="SECONDS",
                   help=f"per query (default {timeout:g})")


def add_format_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="text (a table), json (for machines) or markdown (pull requests, job summaries)")


def register(sub: Subparsers) -> None:
    budget_sub = group(sub, "budget", help="error budgets from Prometheus and the release gate they drive")
    status = command(
        budget_sub, "status", help="every SLO's remaining error budget, burn over 1h/6h/1d, and the policy's decision",
        description="Read every SLO's remaining error budget over its period and its burn rate over the last "
                    "1h, 6h and 1d from the series the compiled rules record, and say what its "
                    "error_budget_policy decides.",
        examples=("sre budget status --prometheus http://localhost:9090 --env prod",
                  "sre budget status --prometheus http://localhost:9090 --service checkout-api --format markdown"),
    )
    add_source_args(status)
    add_format_arg(status)
    status.set_defaults(func=cmd_budget_status)

    gate = command(
        budget_sub, "gate", help="may these services ship? exit 0 yes, 1 frozen by policy, 3 unknown and fail-closed",
        description="Decide whether the named services may be released: every SLO's remaining error budget "
                    "against its error_budget_policy. A frozen SLO blocks unless the change carries a label the "
                    "policy exempts; an SLO without data, or an unreachable Prometheus, blocks when the fail "
                    "mode is closed.",
        examples=("sre budget gate --prometheus http://localhost:9090 --env prod",
                  "sre budget gate --prometheus $PROM --env prod --change-labels security "
                  "--summary $GITHUB_STEP_SUMMARY"),
        exit_codes={EXIT_FAILED: "a policy freezes releases of a named service (naming SLO, budget and policy)",
                    EXIT_UNKNOWN: "unknown (Prometheus unreachable or no data) and the fail mode is closed"},
    )
    add_source_args(gate)
    gate.add_argument("--fail-mode", choices=("open", "closed"), help="override the specs' fail_mode")
    gate.add_argument("--change-labels", action="append", metavar="L[,L...]",
                      help="labels of the change (e.g. security); a freeze lets through labels its policy exempts")
    add_format_arg(gate)
    gate.add_argument("--summary", metavar="FILE",
                      help="append a Markdown summary, whatever the exit code (e.g. $GITHUB_STEP_SUMMARY)")
    gate.set_defaults(func=cmd_budget_gate)
