"""`sre policy check DIR`: the policy pack on an `sre render` output, without the Pulumi CLI.

Prints each violation as `policy-name: type name: message` (mandatory ones first, then
advisories prefixed `advisory: `, each group sorted), or with `--format sarif` a SARIF 2.1.0 log
for GitHub code scanning; a summary by control family goes to stderr either way. Exits 1 on any
mandatory violation, 0 otherwise, 2 when DIR/resources.json is missing or garbled.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..policy.check import CheckInputError, check, load, load_config
from ..policy.sarif import summary, to_sarif
from .common import EXIT_FAILED, EXIT_INPUT, EXIT_OK, Subparsers, command, group


def cmd_policy_check(args: argparse.Namespace) -> int:
    try:
        entries = load(args.dir)
        config = load_config(args.config)
    except CheckInputError as exc:
        print(f"sre policy check: {exc}", file=sys.stderr)
        return EXIT_INPUT
    report = check(entries, config)
    if args.format == "sarif":
        text = json.dumps(to_sarif(report), indent=2, sort_keys=True) + "\n"
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    else:
        for finding in [*report.mandatory, *report.advisory]:
            print(finding)
    for policy, target, reason in sorted(report.skipped):
        print(f"not checked: {policy}: {target}: {reason}", file=sys.stderr)
    for line in summary(report):
        print(f"by control family: {line}", file=sys.stderr)
    print(
        f"{len(report.mandatory)} mandatory and {len(report.advisory)} advisory violation(s): "
        f"{report.policies} policies on {report.resources} resources in {args.dir}",
        file=sys.stderr,
    )
    return EXIT_FAILED if report.mandatory else EXIT_OK


def register(sub: Subparsers) -> None:
    policy_sub = group(sub, "policy", help="the CrossGuard policy pack (policies/), offline")
    check_ = command(
        policy_sub, "check", help="run every policy on an `sre render` output; exit 1 on a mandatory violation",
        description="Run the policy pack of policies/ on an `sre render` output, as `pulumi preview "
                    "--policy-pack policies` would, without the Pulumi CLI or a cloud account.",
        examples=("sre render --stack prod --out out/prod && sre policy check out/prod",
                  "sre policy check out/prod --config policy-config.json",
                  "sre policy check out/prod --format sarif --output policy.sarif"),
        exit_codes={EXIT_FAILED: "a mandatory policy is violated (advisories alone exit 0)"},
    )
    check_.add_argument("dir", metavar="DIR", help="an `sre render --out` folder (reads DIR/resources.json)")
    check_.add_argument(
        "--config", metavar="FILE", help="policy config in the `pulumi preview --policy-pack-config` JSON format"
    )
    check_.add_argument(
        "--format", choices=("text", "sarif"), default="text",
        help="text: one line per violation (default); sarif: a SARIF 2.1.0 log for GitHub code scanning",
    )
    check_.add_argument("--output", metavar="FILE", help="with --format sarif: write the log here, not to stdout")
    check_.set_defaults(func=cmd_policy_check)
