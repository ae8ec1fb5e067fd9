"""`sre bench compile | render`: how long the compiler and the offline render take on this machine."""

from __future__ import annotations

import argparse
import sys

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
