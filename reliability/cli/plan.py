"""`sre plan check PREVIEW_JSON`: stop a change that replaces or deletes stateful resources in staging or prod."""

from __future__ import annotations

import argparse
import sys

from ..platform.plan import REVIEWED_ENVIRONMENTS, PlanInputError, check, load
from .common import EXIT_FAILED, EXIT_INPUT, EXIT_OK, Subparsers, command, env_args, group


def cmd_plan_check(args: argparse.Namespace) -> int:
    try:
        digest = load(args.preview)
    except PlanInputError as exc:
        print(f"sre plan check: {exc}", file=sys.stderr)
        return EXIT_INPUT
    plan = check(digest, args.allow, args.env)
    if not plan.environment:
        print(
            f"sre plan check: {args.preview}: config has no reliability:environment: pass --env "
            "(the preview of a stack of this project always carries it)",
            file=sys.stderr,
        )
        return EXIT_INPUT
    for finding in plan.findings:
        print(finding)
    for name in plan.unused_allows:
        print(f"sre plan check: --allow {name} matches no stateful step of this preview (a typo?)", file=sys.stderr)
    reviewed = plan.environment in REVIEWED_ENVIRONMENTS
    blocking = plan.blocking
    if blocking:
        print(
            f"{len(blocking)} step(s) in {plan.environment} replace or delete stateful resources: review them, "
            "then pass each with --allow NAME (or change the program so it updates in place)",
            file=sys.stderr,
        )
    else:
        scope = "" if reviewed else f" ({plan.environment} is not reviewed, only {' and '.join(REVIEWED_ENVIRONMENTS)})"
        print(f"no step blocks the change in {plan.environment}: {len(plan.findings)} stateful step(s) listed{scope}",
              file=sys.stderr)
    return EXIT_FAILED if blocking else EXIT_OK


def register(sub: Subparsers) -> None:
    plan_sub = group(sub, "plan", help="review a `pulumi preview` before it runs")
    check_ = command(
        plan_sub, "check",
        help="fail when a preview replaces or deletes stateful or protected resources in staging or prod",
        description="Read `pulumi preview --json` and list every step that deletes or replaces stateful state "
                    "(buckets, volumes, PVC-backed workloads, Helm releases, the cluster, node groups), a "
                    "protected resource, or the Alertmanager config without creating its replacement first. "
                    "In staging and prod any such step fails the check until it is named with --allow. Make the "
                    "preview with `pulumi preview -s STACK --json --show-replacement-steps > preview.json`: "
                    "the replacement steps show whether a replacement creates or deletes first.",
        examples=(
            "sre plan check preview.json",
            "sre plan check preview.json --allow reliability-cluster-system",
        ),
        exit_codes={EXIT_FAILED: "a step replaces or deletes stateful resources in staging or prod"},
    )
    check_.add_argument("preview", metavar="PREVIEW_JSON", help="the output of `pulumi preview --json`")
    check_.add_argument(
        "--allow", action="append", default=[], metavar="NAME",
        help="a resource name or URN whose replacement or deletion was reviewed (repeatable)",
    )
    env_args(check_, "the environment (default: reliability:environment from the preview's config)",
             stacks_dir=False, choices=("local", "dev", "staging", "prod"))
    check_.set_defaults(func=cmd_plan_check)
