"""`sre slo validate | compile | test`: the SLO compiler on the command line."""

from __future__ import annotations

import argparse
import sys

from .common import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    Subparsers,
    chosen_envs,
    command,
    env_args,
    group,
    print_problems,
)


def cmd_slo_validate(args: argparse.Namespace) -> int:
    from ..alerting.teams import check_teams, route_teams_hint
    from ..incidents.runbooks import check as check_runbooks
    from ..platform.environments import check_spec_environments
    from ..problems import Problems
    from ..slo.load import load

    if args.runbooks_base and not args.runbooks_base.startswith("https://"):
        print(f"sre slo validate: --runbooks-base '{args.runbooks_base}' is not an https URL: give the URL your "
              "runbooks folder is published under, e.g. --runbooks-base https://runbooks.example.com",
              file=sys.stderr)
        return EXIT_INPUT
    envs = chosen_envs(args, f"slo {args.slo_command}")
    if envs is None:
        return EXIT_INPUT
    problems, hints, counts, files = Problems(), [], [], 0
    for env in envs:
        result = load(args.paths, env=env, windows=args.windows)
        check_spec_environments(result.environment_refs, args.stacks_dir, result.problems)
        if not result.problems.errors:
            # What `sre runbooks check` does: every alert's runbook_url resolves, at the spec's line.
            dangling, _ = check_runbooks(result.services, result.catalogs, ".", args.runbooks_base,
                                         args.runbooks_dir)
            result.problems.extend(dangling.items)
        if env is not None and not result.problems:
            missing = check_teams(result.services, env, args.stacks_dir, result.problems)
            if missing:
                hints.append(route_teams_hint(missing))
        problems.extend(result.problems.items)
        counts.append((env, sum(len(s.slos) for s in result.services), len(result.services)))
        files = len(result.files)
    print_problems(problems)
    for hint in hints:
        print(hint, file=sys.stderr)
    if problems:
        print(f"{len(problems.errors)} problem(s) in {files} file(s)", file=sys.stderr)
        return EXIT_INPUT
    for env, slos, services in counts:
        where = f" for {env}" if len(counts) > 1 else ""
        print(f"ok{where}: {slos} SLO(s) in {services} service(s), {files} file(s)")
    return EXIT_OK


def cmd_slo_compile(args: argparse.Namespace) -> int:
    from ..slo.compile import OUTPUT_NAMES, OutputRefused, check_output_dir, compile_paths, write_output

    envs = chosen_envs(args, f"slo {args.slo_command}")
    if envs is None:
        return EXIT_INPUT
    if len(envs) > 1:
        print(f"sre slo compile: --env names {len(envs)} environments ({', '.join(map(str, envs))}): an output "
              "folder holds one environment's rules; compile once per environment, each to its own --out",
              file=sys.stderr)
        return EXIT_INPUT
    args.env = envs[0]
    inputs = [*args.paths, *(args.windows or [])]
    try:
        check_output_dir(args.out, OUTPUT_NAMES, inputs)  # before compiling: say it at once
    except OutputRefused as exc:
        print(f"sre slo compile: {exc}", file=sys.stderr)
        return EXIT_INPUT
    from ..platform.config import URL
    from ..platform.stackfiles import grafana_url

    url = args.grafana_url or grafana_url(args.env, args.stacks_dir)
    if not URL.match(url):
        print(f"sre slo compile: --grafana-url {url!r} is not an http(s) URL such as https://grafana.example.com",
              file=sys.stderr)
        return EXIT_INPUT
    result, output = compile_paths(args.paths, env=args.env, windows=args.windows, namespace=args.namespace,
                                   grafana_url=url)
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
        env_args(p, "apply this environment's overrides (a stack name); compile writes one per --out", several=True)
        p.add_argument("--windows", action="append", metavar="DIR", help="extra burn-rate window catalogs")

    validate = command(
        slo_sub, "validate", help="check specs; exit 2 listing every problem",
        description="Check SLO specs without writing anything, every alert's runbook_url included (as `sre "
                    "runbooks check` does: repository-relative URLs and URLs under --runbooks-base must name an "
                    "existing file and heading; any other must be well-formed https). With --env (repeatable, "
                    "or all), also apply each environment's overrides and check that every owner team has alert "
                    "routing in its stack file; for a team without, print the YAML to add and the commands for "
                    "its credentials.",
        examples=("sre slo validate slo-specs/", "sre slo validate slo-specs/ --env all",
                  "sre slo validate slo-specs/ --env dev --env prod",
                  "sre slo validate slo-specs/ --runbooks-base https://runbooks.example.com"),
    )
    spec_args(validate)
    validate.add_argument("--runbooks-base", metavar="URL",
                          help="the https URL --runbooks-dir is published under: runbook_urls below it must name "
                               "an existing runbook and heading")
    validate.add_argument("--runbooks-dir", default="docs/runbooks", metavar="DIR",
                          help="the folder --runbooks-base maps to (default: docs/runbooks)")
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
    compile_.add_argument("--grafana-url", metavar="URL",
                          help="Grafana the alerts' dashboard_url links point to (default: the --env stack's "
                               "reliability:grafanaUrl, else http://localhost:3000)")
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
