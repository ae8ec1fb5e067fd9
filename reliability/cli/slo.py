"""`sre slo validate | compile | test`: the SLO compiler on the command line."""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_FAILED, EXIT_INPUT, EXIT_OK, Subparsers, command, group, print_problems


def env_refused(args: argparse.Namespace) -> bool:
    """Refuse an --env that names no environment (before reading any spec)."""
    from ..platform.environments import unknown_env_message


    message = unknown_env_message(args.env, args.stacks_dir)
    if message:
        print(f"sre slo {args.slo_command}: {message}", file=sys.stderr)
    return message is not None


def cmd_slo_validate(args: argparse.Namespace) -> int:
    from ..slo.load import load

    if env_refused(args):
        return EXIT_INPUT
    result = load(args.paths, env=args.env, windows=args.windows)
    problems = result.problems
    from ..platform.environments import check_spec_environments

    check_spec_environments(result.environment_refs, args.stacks_dir, result.problems)
    if args.env and not problems:
        from ..alerting.teams import check_teams

        check_teams(result.services, args.env, args.stacks_dir, problems)
    print_problems(problems)
    if problems:
        print(f"{len(problems.errors)} problem(s) in {len(result.files)} file(s)", file=sys.stderr)
        return EXIT_INPUT
    count = sum(len(s.slos) for s in result.services)
    print(f"ok: {count} SLO(s) in {len(result.services)} service(s), {len(result.files)} file(s)")
    return EXIT_OK


def cmd_slo_compile(args: argparse.Namespace) -> int:
    from ..slo.compile import OUTPUT_NAMES, OutputRefused, check_output_dir, compile_paths, write_output

    if env_refused(args):
        return EXIT_INPUT
    inputs = [*args.paths, *(args.windows or [])]
    try:
        check_output_dir(args.out, OUTPUT_NAMES, inputs)  # before compiling: say it at once
    except OutputRefused as exc:
        print(f"sre slo compile: {exc}", file=sys.stderr)
        return EXIT_INPUT
    result, output = compile_paths(args.paths, env=args.env, windows=args.windows, namespace=args.namespace)
    from ..platform.environments import check_spec_environments

    check_spec_environments(result.environment_refs, args.stacks_dir, result.problems)
    if output is None:
        print_problems(result.problems)
        print(f"{len(result.problems.errors)} problem(s): nothing written to {args.out}", file=sys.stderr)
        return EXIT_INPUT
    print_problems(result.problems)
    if not output.services:
        where = f" for environment '{args.env}'" if args.env else ""
        print(f"warning: no SLO is enabled{where}: {args.out} will be empty", file=sys.stderr)
    print_problems(output.notes)
    try:
        write_output(output.files, args.out, OUTPUT_NAMES, inputs)
    except OutputRefused as exc:  # the folder changed while compiling
        print(f"sre slo compile: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(f"wrote {len(output.files)} file(s) for {len(output.services)} service(s) to {args.out}")
    return EXIT_OK


def cmd_slo_test(args: argparse.Namespace) -> int:
    from ..slo.promtool import NotCompiled, PromtoolMissing, run_checks

    try:
        ok, report = run_checks(args.dir)
    except (NotCompiled, PromtoolMissing) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    print(report)
    return EXIT_OK if ok else EXIT_FAILED


def register(sub: Subparsers) -> None:
    slo_sub = group(sub, "slo", help="validate, compile and test SLO specs",
                    description="The SLO compiler: specs (ours, Sloth, OpenSLO) in; rules, alerts, tests, "
                                "dashboards out.")

    def spec_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders")
        p.add_argument("--env", help="apply this environment's overrides (a stack name)")
        p.add_argument("--windows", action="append", metavar="DIR", help="extra burn-rate window catalogs")
        p.add_argument("--stacks-dir", default="stacks",
                       help="where Pulumi.<env>.yaml live: the environments --env and specs may name")

    validate = command(
        slo_sub, "validate", help="check specs; exit 2 listing every problem",
        description="Check SLO specs without writing anything. With --env, also apply that environment's "
                    "overrides and check that every owner team has alert routing in its stack file.",
        examples=("sre slo validate slo-specs/", "sre slo validate slo-specs/ --env prod"),
    )
    spec_args(validate)
    validate.set_defaults(func=cmd_slo_validate)

    compile_ = command(
        slo_sub, "compile", help="write rules/, prometheusrules/, tests/ and dashboards/",
        description="Compile specs into recording rules, multi-window multi-burn-rate alerts, PrometheusRule "
                    "objects, promtool tests and Grafana dashboards. Nothing is written unless every spec is valid.",
        examples=("sre slo compile slo-specs/ --out out/slo --env prod",),
    )
    spec_args(compile_)
    compile_.add_argument("--out", required=True, metavar="DIR",
                          help="replaced as a whole: a new or empty folder, or a previous compile output")
    compile_.add_argument("--namespace", default="monitoring", help="namespace of the PrometheusRule objects")
    compile_.set_defaults(func=cmd_slo_compile)

    test = command(
        slo_sub, "test", help="promtool check rules and test rules on a compiled folder",
        description="Run `promtool check rules` on every rule file and `promtool test rules` on the generated "
                    "scenario tests of a `sre slo compile` output.",
        examples=("sre slo test out/slo",),
        exit_codes={EXIT_FAILED: "a rule file or a scenario test failed (promtool's output says which)"},
    )
    test.add_argument("dir", metavar="DIR", help="an `sre slo compile --out` folder")
    test.set_defaults(func=cmd_slo_test)
