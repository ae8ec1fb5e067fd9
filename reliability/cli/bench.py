"""`sre bench compile | render | report | rules`: what the compiler, the render, the report and the
compiled rules cost on this machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_FAILED, EXIT_INPUT, EXIT_OK, Subparsers, command, group


def cmd_bench_compile(args: argparse.Namespace) -> int:
    import os
    import platform

    from ..bench.compile import bench

    result = bench(args.slos)
    if result.errors:
        for problem in result.errors:
            print(problem)
        return EXIT_FAILED
    workers = f", largest worker process {result.worker_mb:.0f} MB" if result.worker_mb else ""
    total = "" if result.total_mb is None else (
        f"; peak memory of `sre slo compile` and its workers {result.total_mb:.0f} MB (PSS, shared pages once)")
    print(f"compiled {result.slos} SLOs ({result.services} services, {result.files} files, "
          f"{result.megabytes:.0f} MB) in {result.seconds:.2f} s wall: read and validate "
          f"{result.read_seconds:.2f} s, generate {result.generate_seconds:.2f} s, write {result.write_seconds:.2f} s; "
          f"peak RSS {result.peak_mb:.0f} MB{workers}{total}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}")
    return EXIT_OK


def cmd_bench_render(args: argparse.Namespace) -> int:
    import os
    import platform as host

    from ..bench.render import bench

    seconds, cpu_seconds, resources = bench(args.stack, args.slos)
    print(
        f"rendered stack '{args.stack}' with {args.slos} generated SLOs: {resources} resources "
        f"in {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU "
        f"({os.cpu_count()} CPU(s), {host.machine()}, Python {host.python_version()})"
    )
    return EXIT_OK


def cmd_bench_report(args: argparse.Namespace) -> int:
    import os
    import platform as host

    from ..bench.report import BenchError, bench

    if not 1 <= args.scrape <= 86400:
        print(f"sre bench report: --scrape {args.scrape}: give seconds between 1 and 86400, e.g. 60", file=sys.stderr)
        return EXIT_INPUT
    try:
        result = bench(args.slos, args.scrape)
    except BenchError as exc:
        print(f"sre bench report: {exc}")
        return EXIT_FAILED
    print(f"reported {result.slos} SLOs ({result.services} services, {result.incidents} incidents) over 30 days "
          f"of counters scraped every {result.scrape} s ({result.samples:,} samples) in {result.seconds:.2f} s wall; "
          f"report.html {result.html_bytes / 1e6:.1f} MB "
          f"({os.cpu_count()} CPU(s), {host.machine()}, Python {host.python_version()})")
    return EXIT_OK


def cmd_bench_rules(args: argparse.Namespace) -> int:
    import os
    import platform as host
    import shutil

    from ..bench.rules import GOAL, BenchError, ToolMissing, bench

    for flag, value, low in (("--runs", args.runs, 1), ("--services", args.services, 1), ("--hours", args.hours, 2)):
        if value < low:
            print(f"sre bench rules: {flag} {value}: give {low} or more", file=sys.stderr)
            return EXIT_INPUT
    # The shared tool runs our compiler as a command: the `sre` installed next to this Python first.
    beside = Path(sys.executable).with_name("sre")
    sre = str(beside) if beside.is_file() else shutil.which("sre")
    if sre is None:
        print("sre bench rules: no `sre` command next to this Python or on PATH: install the project "
              "(make install) and run it from there", file=sys.stderr)
        return EXIT_INPUT
    if shutil.which("promtool") is None:
        print("sre bench rules: promtool not found on PATH: install Debian's prometheus package "
              "(make debian-tools does it)", file=sys.stderr)
        return EXIT_INPUT
    try:
        result = bench(Path(args.shared), sre, args.runs, args.services, args.hours,
                       progress=lambda line: print(line, flush=True))
    except BenchError as exc:
        print(f"sre bench rules: {exc}", file=sys.stderr)
        return EXIT_INPUT if isinstance(exc, ToolMissing) else EXIT_FAILED
    ratios = ", ".join(f"{run.ratio:.3f}" for run in result.runs)
    verdict = "met" if result.met else "NOT met"
    print(f"rule evaluation CPU against Sloth's for the same SLOs: median {result.median:.3f} over "
          f"{len(result.runs)} run(s) ({ratios}); goal <= {GOAL} {verdict} "
          f"({os.cpu_count()} CPU(s), {host.machine()}, {host.platform(terse=True)})")
    return EXIT_OK if result.met else EXIT_FAILED


def register(sub: Subparsers) -> None:
    bench_sub = group(sub, "bench", help="benchmarks: compile, render and report times on this machine",
                      description="Benchmarks of the compiler and the platform program, with the machine they ran on.")
    compile_ = command(
        bench_sub, "compile", help="compile N generated SLOs; report wall time and peak memory",
        description="Write N generated SLOs to a temporary folder and compile them end to end, as "
                    "`sre slo compile` does: read, validate, generate, write.",
        examples=("sre bench compile --slos 1000",),
        exit_codes={EXIT_FAILED: "the generated specs did not compile (a bug: the problems are printed)"},
    )
    compile_.add_argument("--slos", type=int, default=1000, help="how many SLOs (default 1000)")
    compile_.set_defaults(func=cmd_bench_compile)

    render = command(
        bench_sub, "render", help="render a stack with N generated SLOs; report wall time",
        description="Render a stack offline under Pulumi's mocks with N generated SLOs, end to end.",
        examples=("sre bench render --stack prod --slos 500",),
    )
    render.add_argument("--stack", default="prod", help="stack name (default prod)")
    render.add_argument("--slos", type=int, default=500, help="how many SLOs (default 500)")
    render.set_defaults(func=cmd_bench_render)

    report = command(
        bench_sub, "report", help="`sre report` over a month for N SLOs against a local Prometheus; wall time",
        description="Backfill a month of counters and page alerts for N generated SLOs into a local Prometheus "
                    "(Debian's, on a free loopback port, always stopped) and time the whole report: queries, "
                    "summary, report.html, report.md and report.json.",
        examples=("sre bench report --slos 500",),
        exit_codes={EXIT_FAILED: "promtool or prometheus missing, or Prometheus did not start"},
    )
    report.add_argument("--slos", type=int, default=500, help="how many SLOs (default 500)")
    report.add_argument("--scrape", type=int, default=60, metavar="SECONDS",
                        help="the counters' scrape interval (default 60: 22 million samples for 500 SLOs)")
    report.set_defaults(func=cmd_bench_report)

    rules = command(
        bench_sub, "rules", help="evaluation CPU of our rules against Sloth's for the same SLOs, median of runs",
        description="Run the shared side-by-side measurement (tools/rule-cost.py: our compiled rules and Sloth's "
                    "for the same SLOs through `promtool test rules` over the same traffic) several times, and "
                    "report every run and the median ratio of CPU seconds, ours to Sloth's.",
        examples=("sre bench rules --shared ../shared", "sre bench rules --shared ../shared --runs 5"),
        exit_codes={EXIT_FAILED: "the median ratio is over the goal (0.5), or a run printed no figures",
                    EXIT_INPUT: "the shared tool, its specs, promtool or `sre` is missing"},
    )
    rules.add_argument("--shared", default=str(Path(__file__).resolve().parents[2].parent / "shared"),
                       metavar="DIR", help="the folder holding tools/rule-cost.py and reference/ (default ../shared)")
    rules.add_argument("--runs", type=int, default=3, help="how many runs of the tool (default 3)")
    rules.add_argument("--services", type=int, default=3, help="services of one SLO each (default 3, the tool's)")
    rules.add_argument("--hours", type=int, default=48, help="hours of 1-minute traffic (default 48, the tool's)")
    rules.set_defaults(func=cmd_bench_rules)
