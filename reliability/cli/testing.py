"""`sre loadtest verdict` and `sre gate check | serve`: reliability tests judged by the SLOs."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .common import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    Subparsers,
    command,
    env_args,
    env_known,
    group,
    print_help,
    print_problems,
)

if TYPE_CHECKING:
    from ..slo.model import Service

EXIT_NO_DATA = 3


def _service(args: argparse.Namespace) -> Service | None:
    """The named service from the specs (with --env overrides), or None after printing why."""
    from ..slo.load import load

    if not env_known(args.env, args.stacks_dir, "loadtest verdict"):
        return None
    result = load(args.specs, env=args.env)
    if result.problems:
        print_problems(result.problems)
        return None
    found = next((s for s in result.services if s.name == args.service), None)
    if found is None:
        names = ", ".join(s.name for s in result.services) or "none"
        print(f"sre loadtest verdict: no service {args.service!r} in {' '.join(args.specs)} (services: {names})",
              file=sys.stderr)
    return found


def _times(args: argparse.Namespace) -> tuple[float, float] | None:
    """--from and --to as Unix seconds, or None after printing which is wrong."""
    from ..testing.verdict import parse_time

    times = []
    for flag, text in (("--from", args.start), ("--to", args.end)):
        try:
            times.append(parse_time(text))
        except ValueError as exc:
            print(f"sre loadtest verdict: {flag}: {exc}", file=sys.stderr)
            return None
    start, end = times
    if end <= start:
        print(f"sre loadtest verdict: --to {args.end} is not later than --from {args.start}: give the run's "
              "start and end, in that order", file=sys.stderr)
        return None
    return start, end


def cmd_verdict(args: argparse.Namespace) -> int:
    from ..prometheus import PrometheusError
    from ..testing.verdict import NoData, judge

    times = _times(args)
    if times is None:
        return EXIT_INPUT
    start, end = times
    service = _service(args)
    if service is None:
        return EXIT_INPUT
    if service.loadtest is None:
        where = f" in environment {args.env!r}" if args.env else ""
        print(f"sre loadtest verdict: service {args.service!r} has no load test{where} in {' '.join(args.specs)}: "
              "its thresholds come from the spec's `loadtest` key (docs/reliability-tests.md); add one, "
              + ("or list this environment in loadtest.environments, " if args.env else "")
              + "or name the service whose run this was", file=sys.stderr)
        return EXIT_INPUT
    try:
        measured = judge(args.prometheus, service, start, end)
    except ValueError as exc:
        print(f"sre loadtest verdict: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except NoData as exc:
        print(f"sre loadtest verdict: {exc}", file=sys.stderr)
        return EXIT_NO_DATA
    except PrometheusError as exc:  # no verdict without data: the same exit as no requests
        print(f"sre loadtest verdict: {exc}", file=sys.stderr)
        return EXIT_NO_DATA
    if not measured:
        print(f"sre loadtest verdict: service {args.service!r} has no ratio or latency SLO to judge by",
              file=sys.stderr)
        return EXIT_INPUT
    for item in measured:
        print(item)
    return EXIT_OK if all(m.passed for m in measured) else EXIT_FAILED


def cmd_gate_check(args: argparse.Namespace) -> int:
    from ..testing.gate import GateInputError, check

    missing = [f"--{name.replace('_', '-')}" for name in ("service", "slo", "max_burn") if getattr(args, name) is None]
    if missing:
        print(f"sre gate: missing {', '.join(missing)}", file=sys.stderr)
        return EXIT_INPUT
    try:
        verdict = check(args.prometheus, args.service, args.slo, args.max_burn, args.window)
    except GateInputError as exc:
        print(f"sre gate check: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(("healthy: " if verdict.healthy else "unhealthy: ") + verdict.reason)
    return verdict.exit_code


def cmd_gate_serve(args: argparse.Namespace) -> int:
    from ..testing.gate import main

    return main(["serve", "--prometheus", args.prometheus, "--host", args.host, "--port", str(args.port)])


def check_args(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--prometheus", required=required, metavar="URL", help="Prometheus (or Thanos query) base URL")
    parser.add_argument("--service", required=required)
    parser.add_argument("--slo", required=required)
    parser.add_argument("--max-burn", type=float, required=required, metavar="F", help="highest healthy burn rate")
    parser.add_argument("--window", default="5m", help="burn-rate window of the compiled rules (default 5m)")


def register(sub: Subparsers) -> None:
    loadtest = group(sub, "loadtest", help="judge load test runs by the SLOs",
                     description="Load tests generated from the SLO specs (k6 operator TestRuns).")
    verdict = command(
        loadtest, "verdict", help="judge a whole k6 run from its remote-written metrics",
        description="Measure each SLO threshold of a service's load test over a whole run, summed over every "
                    "k6 runner (the operator judges thresholds per runner only), and print each with its value.",
        examples=("sre loadtest verdict --prometheus http://localhost:9090 --service checkout-api "
                  "--from 2026-12-07T03:00:00Z --to 2026-12-07T03:05:00Z",),
        exit_codes={EXIT_FAILED: "a threshold failed", EXIT_NO_DATA: "no requests of the run in Prometheus, "
                                                                     "or Prometheus unreachable"},
    )
    verdict.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus (or Thanos query) base URL")
    verdict.add_argument("--service", required=True, help="the service whose load test ran")
    verdict.add_argument("--from", dest="start", required=True, metavar="TIME", help="run start: RFC 3339 or Unix")
    verdict.add_argument("--to", dest="end", required=True, metavar="TIME", help="run end: RFC 3339 or Unix")
    verdict.add_argument("--specs", nargs="+", default=["slo-specs"], metavar="PATH",
                         help="spec files or folders holding the service (default: slo-specs)")
    env_args(verdict, "apply this environment's objective overrides (a stack name)")
    verdict.set_defaults(func=cmd_verdict)

    gate = group(sub, "gate", help="the SLO gate that stops game days when an SLO burns",
                 description="Healthy while an SLO's short-window burn rate is below a threshold; Chaos Mesh "
                             "status checks call `sre gate serve` to abort game days. `sre gate --prometheus URL "
                             "--service S --slo N --max-burn F` is `sre gate check`.")
    gate_parser = sub.choices["gate"]
    check_args(gate_parser, required=False)
    gate_parser.set_defaults(func=lambda args: cmd_gate_check(args) if args.prometheus else print_help(gate_parser))
    check = command(
        gate, "check", help="is this SLO burning faster than --max-burn? (exit 0 no, 1 yes, 3 no data)",
        description="Read slo:sli_error:ratio_rate<window> / slo:error_budget:ratio for one SLO and compare it "
                    "with --max-burn. No data or an unreachable Prometheus counts as unhealthy (exit 3).",
        examples=("sre gate check --prometheus http://localhost:9090 --service checkout-api --slo availability "
                  "--max-burn 6",),
        exit_codes={EXIT_FAILED: "the SLO burns at or above --max-burn",
                    EXIT_NO_DATA: "no data, or Prometheus unreachable (unhealthy)"},
    )
    check_args(check, required=True)
    check.set_defaults(func=cmd_gate_check)

    serve = command(
        gate, "serve", help="answer GET /gate?service=S&slo=N&max_burn=F with 200 (healthy) or 503",
        description="Serve the gate over HTTP for Chaos Mesh StatusChecks: 200 while the SLO burns below "
                    "max_burn, 503 above it, without data or when Prometheus is unreachable; 400 for a bad request.",
        examples=("sre gate serve --prometheus http://localhost:9090 --port 8080",),
    )
    serve.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus (or Thanos query) base URL")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_gate_serve)
