"""`sre render | up | docs`: the Pulumi platform on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..platform import PROJECT_DIR
from .common import EXIT_FAILED, EXIT_INPUT, EXIT_OK, Subparsers, command, group


def cmd_render(args: argparse.Namespace) -> int:
    import pulumi

    from ..platform.config import ConfigError
    from ..platform.render import OUTPUT_NAMES, RenderError, render, write
    from ..slo.compile import OutputRefused, check_output_dir

    try:
        check_output_dir(args.out, OUTPUT_NAMES, [args.project_dir])  # before the slow part
    except OutputRefused as exc:
        print(f"sre render: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        files = render(args.stack, Path(args.project_dir))
    except ConfigError as exc:
        print(f"sre render: {exc}", file=sys.stderr)
        print(f"nothing written to {args.out}", file=sys.stderr)
        return EXIT_INPUT
    except pulumi.RunError as exc:
        print(f"sre render: {exc}", file=sys.stderr)
        print(f"nothing written to {args.out}", file=sys.stderr)
        return EXIT_INPUT
    except RenderError as exc:
        print(f"sre render: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        write(files, args.out)
    except OutputRefused as exc:  # the folder changed while rendering
        print(f"sre render: {exc}", file=sys.stderr)
        return EXIT_INPUT
    manifests = sum(1 for name in files if name.startswith("manifests/"))
    dashboards = sum(1 for name in files if name.startswith("dashboards/"))
    print(
        f"rendered stack '{args.stack}': resources.json, {manifests} manifest(s) "
        f"and {dashboards} dashboard(s) in {args.out}"
    )
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    from ..platform.up import up

    return up(args.stack, yes=not args.preview_only)


def cmd_docs_config(args: argparse.Namespace) -> int:
    from ..platform.docs import check_reference, update_reference

    if args.check:
        problem = check_reference()
        if problem:
            print(problem, file=sys.stderr)
            return EXIT_FAILED
        print("docs/stack-config.md matches Pulumi.yaml")
        return EXIT_OK
    update_reference()
    print("docs/stack-config.md regenerated from Pulumi.yaml")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    render = command(
        sub, "render", help="run the Pulumi program offline under mocks and write what it creates",
        description="Run the Pulumi program of a stack under Pulumi's mocks (no cluster, cloud or Pulumi CLI) "
                    "and write every resource, Kubernetes manifest, dashboard and the Alertmanager config.",
        examples=("sre render --stack prod --out out/prod", "sre policy check out/prod"),
        exit_codes={EXIT_FAILED: "the program failed in a way that is not bad input (the message says where)"},
    )
    render.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    render.add_argument(
        "--out", required=True, metavar="DIR",
        help="writes DIR/resources.json, manifests/, dashboards/ and alertmanager/; "
        "DIR is replaced as a whole, so it must be new, empty or a previous render",
    )
    render.add_argument(
        "--project-dir",
        default=str(PROJECT_DIR),
        metavar="DIR",
        help="where Pulumi.yaml and its stacks/ are (default: this repository)",
    )
    render.set_defaults(func=cmd_render)

    up = command(
        sub, "up", help="bring a stack up with a local file backend (make up)",
        description="Check the Pulumi CLI and the current kube context, keep state in .pulumi-state/ with a "
                    "passphrase, set reliability:kubeContext and run `pulumi up` of the local stack.",
        examples=("sre up", "sre up --preview-only"),
        exit_codes={EXIT_FAILED: "a pulumi step failed (its output is above)",
                    EXIT_INPUT: "the Pulumi CLI, kubectl or a reachable cluster is missing (the message says how)"},
    )
    up.add_argument("--stack", default="local", choices=["local"], help="only local is brought up this way")
    up.add_argument("--preview-only", action="store_true", help="run `pulumi preview` instead of `pulumi up`")
    up.set_defaults(func=cmd_up)

    docs_sub = group(sub, "docs", help="generated documentation")
    config = command(
        docs_sub, "config", help="rewrite docs/stack-config.md from Pulumi.yaml",
        description="Regenerate the config reference table of docs/stack-config.md from Pulumi.yaml's config block.",
        examples=("sre docs config", "sre docs config --check"),
        exit_codes={EXIT_FAILED: "with --check: the page is out of date"},
    )
    config.add_argument("--check", action="store_true", help="exit 1 if docs/stack-config.md is out of date")
    config.set_defaults(func=cmd_docs_config)
