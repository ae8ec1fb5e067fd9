"""`sre runbooks generate | check`: a runbook per service, and every alert's runbook_url resolving."""

from __future__ import annotations

import argparse
import sys

from ..problems import Problems
from .common import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    Subparsers,
    chosen_envs,
    command,
    env_args,
    env_known,
    group,
    print_problems,
)


def _load(args: argparse.Namespace, env: str | None) -> object:
    from ..slo.load import load

    result = load(args.paths, env=env, windows=args.windows)
    if result.problems:
        print_problems(result.problems)
        print(f"sre runbooks {args.runbooks_command}: {len(result.problems.errors)} problem(s) in the specs: "
              "fix them first (`sre slo validate` lists the same)", file=sys.stderr)
        return None
    return result


def cmd_generate(args: argparse.Namespace) -> int:
    from ..incidents.runbooks import generate

    if not env_known(args.env, args.stacks_dir, "runbooks generate"):
        return EXIT_INPUT
    result = _load(args, args.env)
    if result is None:
        return EXIT_INPUT
    written, kept = generate(result.services, result.catalogs, args.out, args.grafana)  # type: ignore[attr-defined]
    for path in kept:
        print(f"kept {path} (exists: a runbook is never overwritten)", file=sys.stderr)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} runbook(s) written, {len(kept)} kept, in {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from ..incidents.runbooks import check

    if args.base and not args.base.startswith("https://"):
        print(f"sre runbooks check: --base '{args.base}' is not an https URL: give the URL your runbooks folder "
              "is published under, e.g. --base https://runbooks.example.com", file=sys.stderr)
        return EXIT_INPUT
    envs = chosen_envs(args, "runbooks check")
    if envs is None:
        return EXIT_INPUT
    problems, count = Problems(), 0
    for env in envs:  # an environment's overrides may change an alert's runbook_url
        result = _load(args, env)
        if result is None:
            return EXIT_INPUT
        found, checked = check(result.services, result.catalogs, args.root, args.base,  # type: ignore[attr-defined]
                               args.runbooks_dir)
        problems.extend(found.items)
        count = max(count, checked)
    print_problems(problems)
    if problems:
        print(f"{len(problems.errors)} dangling runbook_url(s) of {count} checked", file=sys.stderr)
        return EXIT_FAILED
    print(f"ok: {count} runbook_url(s) resolve")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    runbooks = group(sub, "runbooks", help="write runbooks and check that every alert's runbook_url resolves")

    def spec_args(p: argparse.ArgumentParser, several: bool = False) -> None:
        p.add_argument("paths", nargs="*", default=["slo-specs"], metavar="PATH",
                       help="spec files or folders (default: slo-specs)")
        env_args(p, "apply this environment's overrides (a stack name)", several=several)
        p.add_argument("--windows", action="append", metavar="DIR", help="extra burn-rate window catalogs")

    generate = command(
        runbooks, "generate", help="write a Markdown runbook per service where none exists",
        description="Write <out>/<service>.md for every service of the specs: a section per SLO and per alert "
                    "the compiler generates (what fired in budget terms, the exact PromQL, dashboard, logs and "
                    "traces links, first checks, how to silence it, escalation). An existing runbook is never "
                    "overwritten.",
        examples=("sre runbooks generate", "sre runbooks generate slo-specs/ --out docs/runbooks "
                                           "--grafana https://grafana.example.com"),
    )
    spec_args(generate)
    generate.add_argument("--out", default="docs/runbooks", metavar="DIR", help="default: docs/runbooks")
    generate.add_argument("--grafana", default="http://localhost:3000", metavar="URL",
                          help="Grafana's URL, for the dashboard, logs and traces links")
    generate.set_defaults(func=cmd_generate)

    check_ = command(
        runbooks, "check", help="every alert's runbook_url resolves; exit 1 naming each dangling one",
        description="Resolve the runbook_url of every alert the specs compile to. Repository-relative URLs, and "
                    "URLs under --base (which maps to --runbooks-dir), must name an existing file and heading "
                    "anchor; any other URL must be well-formed https. Each problem names the spec file and line.",
        examples=("sre runbooks check", "sre runbooks check slo-specs/ --base https://runbooks.example.com",
                  "sre runbooks check --env all"),
        exit_codes={EXIT_FAILED: "a runbook_url does not resolve (file:line, the URL and why)"},
    )
    spec_args(check_, several=True)
    check_.add_argument("--base", metavar="URL", help="the https URL the runbooks folder is published under")
    check_.add_argument("--runbooks-dir", default="docs/runbooks", metavar="DIR",
                        help="the folder --base maps to (default: docs/runbooks)")
    check_.add_argument("--root", default=".", metavar="DIR",
                        help="the repository root relative URLs start from (default: .)")
    check_.set_defaults(func=cmd_check)
