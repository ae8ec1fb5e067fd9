"""Runbooks that exist: one Markdown runbook per service, and a check that every alert's link resolves.

`generate` writes `<out>/<service>.md` with a section per SLO (`## <slo>`, the anchor specs link
to as `.../<service>#<slo>`) and one per alert the compiler generates for it (`### <Alert> (page)`):
what fired in error-budget terms, the exact PromQL, links to the service's dashboard, logs and
traces, first checks, how to silence it and who is paged next. A runbook that exists is never
touched: once written, it belongs to the people who run the service.

`check` resolves every alert's `runbook_url`: a repository-relative URL, or one under `base`
(which maps to the runbooks folder), must name an existing file and heading anchor; any other
URL must at least be well-formed https. Problems name the spec file and the line of the URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..durations import Duration
from ..problems import Location, Problems
from ..slo import naming
from ..slo.build import RUNBOOK_HTTPS
from ..slo.generators import dashboards
from ..slo.generators.rules import service_rules
from ..slo.model import SLO, Query, Service
from ..slo.windows import WindowCatalog
from ..yamlio import format_decimal
from .files import write_new

DEFAULT_DIR = "docs/runbooks"
HEADER = ("<!-- Written by `sre runbooks generate` from {source}. It is yours now: edit it freely, "
          "the generator never overwrites a runbook. -->\n")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)


@dataclass(frozen=True)
class Alert:
    slo: SLO
    rule: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.rule["alert"])

    @property
    def severity(self) -> str:
        return str(self.rule.get("labels", {}).get("severity", ""))

    @property
    def heading(self) -> str:
        return f"{self.name} ({self.severity})"

    @property
    def runbook_url(self) -> str:
        return str(self.rule.get("annotations", {}).get("runbook_url", ""))


def alerts(service: Service, catalogs: dict[Duration, WindowCatalog]) -> list[Alert]:
    """Every alerting rule the compiler generates for the service, with its SLO, in rule-file order."""
    by_group = {naming.group_name(service.name, slo.name, "sli"): slo for slo in service.slos}
    out = []
    for group in service_rules(service, catalogs)["groups"]:
        slo = by_group.get(group["name"])
        out += [Alert(slo, rule) for rule in group["rules"] if slo is not None and "alert" in rule]
    return out


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>|[`*_~]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor a Markdown file offers: headings (duplicates get -1, -2, as GitHub does) and <a id>."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        found.update(_HTML_ANCHOR.findall(line))
        match = _HEADING.match(line)
        if match:
            slug = anchor(match[2])
            n = counts.get(slug, 0)
            counts[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


# ------------------------------------------------------------------ generate


def _percent(ratio: Decimal) -> str:
    return format_decimal((ratio * 100).normalize())


def _budget_time(slo: SLO) -> str:
    """The error budget as time of full outage over the period (what a 100% error rate would cost)."""
    return str(Duration(int(Decimal(slo.period.ms) * slo.error_budget) // 1000 * 1000))


def _links(service: Service, grafana: str) -> list[str]:
    uid = dashboards.dashboard_uid(service.name)
    lines = [f"- Dashboard: [{service.name} SLOs]({grafana}/d/{uid})"]
    lines += [f"- {link.title}: [{link.tooltip}]({grafana}{link.url})" for link in dashboards.service_links(service)]
    if len(lines) == 1:
        lines.append("- Logs and traces: the spec gives no `links`; add `links.logs` (a LogQL selector) and "
                     "`links.traces` (the service name in traces) to get them here")
    return lines


def _alert_section(alert: Alert, service: Service, grafana: str) -> list[str]:
    slo, rule = alert.slo, alert.rule
    annotations, labels = rule.get("annotations", {}), rule.get("labels", {})
    matchers = f"alertname={alert.name} service={service.name} slo={slo.name}"
    page = alert.severity in ("page", "critical")
    if "absent(" in rule["expr"]:
        meaning = ("The SLI has no data: the burn-rate alerts of this SLO cannot fire until it is back. "
                   "The service, its scrape target or the metric is gone or renamed.")
    elif page:
        meaning = ("A page: at this rate the error budget is gone long before the period ends. Act now; the "
                   "budget spent so far is on the dashboard's budget panel.")
    else:
        meaning = ("A ticket: the budget burns faster than the period can sustain, slowly enough to fix in "
                   "working hours.")
    errors = getattr(slo.sli, "errors", None)
    breakdown = (["4. Where do the errors come from? The SLI's errors, to break down "
                  "(`sum by (instance)`, route, zone):",
                  "",
                  "   ```promql",
                  f"   {errors.render('5m')}",
                  "   ```"] if isinstance(errors, Query) else
                 [f"4. Where do the errors come from? `{naming.error_ratio(Duration.parse('5m'))}"
                  f"{{service=\"{service.name}\",slo=\"{slo.name}\"}}` is the 5m error ratio."])
    lines = [
        f"### {alert.heading}",
        "",
        f"**What fired.** {annotations.get('summary', alert.name)}. {annotations.get('description', '')}".rstrip(),
        "",
        f"**What it means.** {meaning}",
        "",
        "**The exact rule** (`for: " + str(rule.get("for", "0s")) + "`):",
        "",
        "```promql",
        *str(rule["expr"]).splitlines(),
        "```",
        "",
        "**First checks.**",
        "",
        f"1. The dashboard: which window burns, since when, and how much budget is left ({grafana}/d/"
        f"{dashboards.dashboard_uid(service.name)}).",
        "2. What changed: deploys, config and feature flags since the burn started; roll back first, "
        "investigate after.",
        "3. The logs and traces of the failing requests (links above), and the service's dependencies.",
        *breakdown,
        "",
        "**Silence it** while you work (say why, keep it short):",
        "",
        "```sh",
        f"amtool silence add {matchers} --duration=2h \\",
        '  --comment="investigating: <incident link>" --alertmanager.url=$ALERTMANAGER_URL',
        "```",
        "",
        "**Escalation.** " + (
            f"Pages go to the on-call of team {labels.get('team', slo.team)} (PagerDuty escalation policy "
            f"`{labels.get('team', slo.team)}` where `reliability:oncall` manages it); unacknowledged, the "
            "next level is paged. Declare an incident when users are affected, and write the post-mortem with "
            f"`sre postmortem new --service {service.name} --from ... --to ...`."
            if page else
            f"Tickets go to team {labels.get('team', slo.team)}'s chat; if the burn speeds up it pages."
        ),
        "",
    ]
    return lines


def render_runbook(service: Service, catalogs: dict[Duration, WindowCatalog], grafana: str) -> str:
    by_slo: dict[str, list[Alert]] = {}
    for alert in alerts(service, catalogs):
        by_slo.setdefault(alert.slo.name, []).append(alert)
    lines = [
        HEADER.format(source=service.source.file).rstrip("\n"),
        f"# {service.name} runbook",
        "",
        f"{service.description}".strip() or f"The {service.name} service.",
        "",
        f"Team: {service.team}. Tier: {service.tier}. SLO spec: `{service.source.file}`.",
        "",
        *_links(service, grafana),
        "",
    ]
    for slo in sorted(service.slos, key=lambda s: s.name):
        lines += [
            f"## {slo.name}",
            "",
            f"{slo.description}".strip(),
            "",
            f"Objective {_percent(slo.objective)}% over {slo.period}: an error budget of "
            f"{_percent(slo.error_budget)}% of requests, {_budget_time(slo)} of full outage per period.",
            "",
        ]
        for alert in by_slo.get(slo.name, []):
            lines += _alert_section(alert, service, grafana)
    return "\n".join(line.rstrip() for line in lines).rstrip("\n") + "\n"


def runbook_file(service: Service) -> str:
    return f"{naming.slug(service.name)}.md"


def generate(services: Iterable[Service], catalogs: dict[Duration, WindowCatalog], out_dir: str,
             grafana: str) -> tuple[list[str], list[str]]:
    """(written, kept) paths: a runbook is written only where none exists, each file whole or not at all."""
    written, kept = [], []
    os.makedirs(out_dir, exist_ok=True)
    for service in sorted(services, key=lambda s: s.name):
        path = os.path.join(out_dir, runbook_file(service))
        if os.path.exists(path):
            kept.append(path)
            continue
        if not write_new(path, render_runbook(service, catalogs, grafana.rstrip("/"))):
            kept.append(path)
            continue
        written.append(path)
    return written, kept


# ------------------------------------------------------------------ check


def _url_line(file: str, url: str, fallback: int) -> int:
    try:
        for number, line in enumerate(Path(file).read_text(encoding="utf-8").splitlines(), 1):
            if url in line:
                return number
    except OSError:
        pass
    return fallback


def _candidates(path: Path) -> Iterator[Path]:
    yield path
    if path.suffix != ".md":
        yield path.with_name(path.name + ".md")
    yield path / "README.md"
    yield path / "index.md"


def url_problem(url: str, root: Path, base: str | None, runbooks_dir: Path) -> str | None:
    """Why `url` does not resolve, or None."""
    if not url:
        return "no runbook_url: give the spec a runbook_url (`sre runbooks generate` writes one to link)"
    parts = urlsplit(url)
    root_url = (base or "").rstrip("/")
    if base and (url.startswith(root_url + "/") or url.rstrip("/") == root_url):
        relative = unquote(urlsplit(url[len(root_url):]).path).lstrip("/")
        target, where = runbooks_dir / relative, f"{base} maps to {runbooks_dir}"
    elif not parts.scheme and not parts.netloc:
        relative = unquote(parts.path)
        if not relative:
            return f"'{url}' names no file"
        target, where = (root / relative.lstrip("/")), "relative to the repository"
        if ".." in Path(relative).parts:
            return f"'{url}' leaves the repository: link a file inside it"
    else:
        if parts.scheme != "https":
            return f"'{url}' is not https: {RUNBOOK_HTTPS}"
        if not parts.netloc or " " in url or not re.match(r"^[A-Za-z0-9.-]+(:\d+)?$", parts.netloc):
            return f"'{url}' is not a well-formed URL (https://host/path#anchor)"
        return None
    found = next((p for p in _candidates(target) if p.is_file()), None)
    if found is None:
        return (f"'{url}': no runbook at {target} ({where}): write it, or run "
                "`sre runbooks generate` to start one")
    fragment = unquote(urlsplit(url).fragment)
    if fragment and fragment not in anchors(found.read_text(encoding="utf-8")):
        return (f"'{url}': {found} has no heading with anchor #{fragment}: add the heading "
                "or fix the link")
    return None


def check(services: Iterable[Service], catalogs: dict[Duration, WindowCatalog], root: str,
          base: str | None = None, runbooks_dir: str = DEFAULT_DIR) -> tuple[Problems, int]:
    """Problems with the runbook_url of every alert, at the spec file and line; and how many URLs were checked."""
    problems = Problems()
    seen: set[tuple[str, str]] = set()
    root_path = Path(root)
    folder = Path(runbooks_dir) if os.path.isabs(runbooks_dir) else root_path / runbooks_dir
    for service in sorted(services, key=lambda s: s.name):
        for alert in alerts(service, catalogs):
            key = (alert.slo.name, alert.runbook_url)
            if key in seen:
                continue
            seen.add(key)
            message = url_problem(alert.runbook_url, root_path, base, folder)
            if message:
                source = alert.slo.source
                line = _url_line(source.file, alert.runbook_url, source.line) if alert.runbook_url else source.line
                problems.add(Location(source.file, line), alert.slo.name, "runbook_url", message)
    return problems, len(seen)
