"""`sre postmortem new` and `sre incidents`: blameless post-mortems and the record they make."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from .common import EXIT_INPUT, EXIT_OK, Subparsers, command, env_args, env_known, group, print_problems


def cmd_postmortem_new(args: argparse.Namespace) -> int:
    from ..incidents.evidence import gather
    from ..incidents.postmortem import SEVERITIES, Draft, PostmortemError, parse_time, write
    from ..prometheus import PrometheusError
    from ..slo.load import load

    now = datetime.now(UTC).replace(microsecond=0)
    try:
        start, end = parse_time(args.start, "--from", now), parse_time(args.end, "--to", now)
        if end <= start:
            raise PostmortemError(f"--to {args.end} is not after --from {args.start}: the window must have a length")
        if args.severity not in SEVERITIES:
            raise PostmortemError(f"--severity '{args.severity}' is not one of {', '.join(SEVERITIES)}")
    except PostmortemError as exc:
        print(f"sre postmortem new: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if not env_known(args.env, args.stacks_dir, "postmortem new"):
        return EXIT_INPUT
    result = load(args.specs, env=args.env)
    if result.problems:
        print_problems(result.problems)
        print("sre postmortem new: the specs have problems: fix them first (`sre slo validate`)", file=sys.stderr)
        return EXIT_INPUT
    service = next((s for s in result.services if s.name == args.service), None)
    if service is None:
        known = ", ".join(sorted(s.name for s in result.services)) or "none"
        print(f"sre postmortem new: --service '{args.service}': no such service in {' '.join(args.specs)} "
              f"(services: {known})", file=sys.stderr)
        return EXIT_INPUT
    evidence = None
    if args.prometheus:
        try:
            evidence = gather(args.prometheus, service, start, end, args.step)
        except PrometheusError as exc:
            print(f"sre postmortem new: --prometheus: {exc} (check the URL, or leave it out and fill the timeline "
                  "by hand)", file=sys.stderr)
            return EXIT_INPUT
    title = args.title or (f"{service.name} incident")
    draft = Draft(service, start, end, title, args.severity, tuple(args.tag or ()), evidence)
    try:
        path = write(draft, args.dir)
    except PostmortemError as exc:
        print(f"sre postmortem new: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(path)
    return EXIT_OK


def cmd_incidents(args: argparse.Namespace) -> int:
    from ..incidents.record import RecordError, as_json, as_markdown, as_text, load, report, since_cutoff

    now = datetime.now(UTC)
    try:
        incidents = load(args.dir)
        if args.since:
            cutoff = since_cutoff(args.since, now)
            incidents = [i for i in incidents if i.start >= cutoff]
    except RecordError as exc:
        for problem in exc.problems:
            print(f"sre incidents: {problem}", file=sys.stderr)
        return EXIT_INPUT
    data = report(incidents)
    print({"text": as_text, "json": as_json, "markdown": as_markdown}[args.format](data), end="")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    postmortem = group(sub, "postmortem", help="blameless post-mortems from a template")
    new = command(
        postmortem, "new", help="write postmortems/<date>-<service>-<slug>.md from the blameless template",
        description="Start a blameless post-mortem: YAML front matter (service, team, severity, start, end, "
                    "detected, resolved, tags, alerts, actions) and the sections of a review. With --prometheus, "
                    "the timeline gets the alerts that fired and resolved, the impact each SLO's failed requests "
                    "and budget consumed. An existing post-mortem is never overwritten.",
        examples=("sre postmortem new --service checkout-api --from 2026-12-01T10:00:00Z --to 2026-12-01T11:30:00Z",
                  "sre postmortem new --service checkout-api --from 2026-12-01T10:00:00Z --to now "
                  "--prometheus http://localhost:9090 --title 'Checkout 5xx after deploy' --tag deploy"),
    )
    new.add_argument("--service", required=True, help="the service, as its SLO spec names it")
    new.add_argument("--from", dest="start", required=True, metavar="TIME",
                     help="when users were first affected (ISO 8601; UTC unless an offset is given)")
    new.add_argument("--to", dest="end", required=True, metavar="TIME", help="when service was restored, or now")
    new.add_argument("--prometheus", metavar="URL", help="fill in the timeline and impact from this Prometheus")
    new.add_argument("--title", help="a short title (also the file's slug)")
    new.add_argument("--severity", default="SEV3", help="SEV1 (worst) to SEV5; default SEV3")
    new.add_argument("--tag", action="append", metavar="TAG", help="a tag for pattern analysis (repeatable)")
    new.add_argument("--specs", nargs="+", default=["slo-specs"], metavar="PATH",
                     help="where the service's spec is (default: slo-specs)")
    env_args(new, "apply this environment's spec overrides (a stack name)")
    new.add_argument("--dir", default="postmortems", help="where post-mortems live (default: postmortems)")
    new.add_argument("--step", type=int, default=60, help="seconds between alert samples read (default: 60)")
    new.set_defaults(func=cmd_postmortem_new)

    incidents = command(
        sub, "incidents", help="the incident record: counts, MTTR, time to detect, patterns, open action items",
        description="Read every post-mortem's front matter and report incidents per service, team, severity and "
                    "tag, mean time to detect and to restore (MTTR) per service, tags and alerts that recur, "
                    "and the open action items. Malformed front matter is an error naming the file and field.",
        examples=("sre incidents", "sre incidents --since 90d --format markdown",
                  "sre incidents --since 2026-01-01 --format json"),
    )
    incidents.add_argument("--since", metavar="WHEN", help="only incidents starting after a date or a duration ago")
    incidents.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    incidents.add_argument("--dir", default="postmortems", help="where post-mortems live (default: postmortems)")
    incidents.set_defaults(func=cmd_incidents)
