"""`sre bench render`: benchmarks of the platform program (`sre slo bench` times the compiler)."""

from __future__ import annotations

import argparse

from .common import EXIT_OK


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


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="benchmarks of the platform program")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    render_bench = bench_sub.add_parser(
        "render", help="render a stack with N generated SLOs; report wall time"
    )
    render_bench.add_argument("--stack", default="prod")
    render_bench.add_argument("--slos", type=int, default=500)
    render_bench.set_defaults(func=cmd_bench_render)
