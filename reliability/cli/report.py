"""`sre report`: SLO compliance over an interval as report.html, report.md and report.json."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from ..platform.stackfiles import stack_setting
from .budget import add_source_args, load_specs
from .common import EXIT_INPUT, EXIT_OK, Subparsers, command

FILES = ("report.html", "report.md", "report.json")


def cmd_report(args: argparse.Namespace) -> int:
    from ..budgets import render, report, summary
    from ..budgets.report import parse_time
    from ..durations import Duration
    from ..prometheus import Prometheus, QueryError, Unreachable

    try:
        start, end = parse_time(args.from_, "--from"), parse_time(args.to, "--to")
    except ValueError as exc:
        print(f"sre report: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        window = Duration.parse(args.failure_window).seconds
    except ValueError as exc:
        print(f"sre report: --failure-window: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if end <= start:
        print(f"sre report: --to {args.to} must be after --from {args.from_}", file=sys.stderr)
        return EXIT_INPUT
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        print(f"sre report: --out {args.out} is a file; give a folder", file=sys.stderr)
        return EXIT_INPUT
    loaded = load_specs(args, "report")
    if loaded is None:
        return EXIT_INPUT
    _catalogs, services = loaded
    # --deploys, else the environment's stack file (reliability:deployEvents), else unknown.
    deploys = args.deploys or stack_setting(args.env, args.stacks_dir, "deployEvents", "")
    opts = report.Options(start=start, end=end, deploys=deploys, failure_window=window)
    try:
        data = summary.summarise(report.build(Prometheus(args.prometheus, timeout=args.timeout), services, opts))
    except (QueryError, Unreachable) as exc:
        print(f"sre report: --prometheus {args.prometheus}: {exc}: nothing written", file=sys.stderr)
        return EXIT_INPUT
    texts = {"report.html": render.html(data), "report.md": render.markdown(data), "report.json": render.as_json(data)}
    os.makedirs(args.out, exist_ok=True)
    for name in FILES:  # each file appears whole or not at all
        handle, tmp = tempfile.mkstemp(dir=args.out, prefix=f".{name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(texts[name])
        os.replace(tmp, os.path.join(args.out, name))
    missed = data["overall"]["slos_missed"]
    print(f"wrote {', '.join(FILES)} to {args.out}: {len(data['slos'])} SLO(s), {missed} missed, "
          f"{data['overall']['incidents']} incident(s)")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    rep = command(
        sub, "report", help="SLO compliance over an interval: report.html (plots inline), report.md, report.json",
        description="Read every SLO's attainment over an interval from Prometheus (exact, from counter increases), "
                    "its error budget allowed and spent with a burn-down plot, incidents from its page alerts, "
                    "MTTR and MTBF per SLO, service and team, and the change failure rate when a deploy series "
                    "is given.",
        examples=("sre report --prometheus http://localhost:9090 --from 2026-11-01 --to 2026-12-01 --out out/report",
                  "sre report --prometheus $PROM --from 2026-11-01 --to 2026-12-01 --env prod "
                  "--deploys 'deploys_total' --out out/report"),
    )
    add_source_args(rep, timeout=60.0)
    rep.add_argument("--from", dest="from_", required=True, metavar="DATE",
                     help="interval start (UTC), e.g. 2026-11-01")
    rep.add_argument("--to", required=True, metavar="DATE", help="interval end (UTC, exclusive), e.g. 2026-12-01")
    rep.add_argument("--out", required=True, metavar="DIR", help="folder for report.html, report.md, report.json")
    rep.add_argument("--deploys", metavar="SELECTOR",
                     help="a counter labelled `service` that goes up by one per deploy, "
                          "e.g. deploys_total{env=\"prod\"} (default: the --env stack's reliability:deployEvents)")
    rep.add_argument("--failure-window", default="1h", metavar="DURATION",
                     help="a deploy failed when a page starts this soon after it (default 1h)")
    rep.set_defaults(func=cmd_report)
