"""Grafana dashboards: one per service, one overview of every SLO.

Every query reads only the compiler's contract series (`naming`: the error
ratio per window, the error budget remaining, objective, budget, `slo:info`)
selected by the `service` and `slo` labels, plus Prometheus's own `ALERTS`
series of the alerts the compiler generates (`firing_alerts`). So a dashboard
works the same for an SLO written in our format, imported from Sloth or from
OpenSLO, and needs nothing from the service's own metrics.

Per service (uid `slo-<service>`, folder = the owning team), one row per SLO:
- stats: the SLI over the SLO period, the error budget remaining, and the
  current alert state (page / ticket / ok, from `ALERTS`);
- the error budget remaining over time;
- the SLI over the shortest window and over the period against the objective;
- the burn rate (error ratio / error budget) of every alert window, one chart
  per severity, with the catalog's burn-rate thresholds as dashed lines;
- for ratio SLIs, the events and errors per second.
Top-bar links: the SLO overview, the team's other SLO dashboards, the
runbook(s), and where the spec gives `links`, Explore on the service's logs
(Loki, the spec's LogQL selector) and traces (Tempo, `resource.service.name`).
A spec without links gets no logs or traces link rather than a broken one.

The overview (uid `slos-overview`, its own folder) lists every SLO in one
sortable table (team, service, SLO, objective, SLI, budget remaining, status;
worst budget first; a click on the service opens its dashboard), and below it
one row per team, repeated over the `team` variable.

Every Prometheus query reads the `datasource` variable (default: the provisioned
Thanos Query), so the same dashboard works against a single Prometheus too.

Dashboard uids derive from the service name only (`dashboard_uid`), never from
the title, so renaming or moving a service's dashboard updates it in place.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ...durations import Duration
from ...yamlio import format_decimal
from .. import naming
from ..grafana import (
    UID_MAX_LENGTH,
    Annotation,
    Dashboard,
    DashboardError,
    DataSource,
    DatasourceVariable,
    Layout,
    Link,
    Override,
    Panel,
    QueryVariable,
    Step,
    TaggedDashboards,
    Target,
    ValueText,
    bargauge,
    even_widths,
    row,
    stat,
    table,
    timeseries,
)
from ..model import SLO, RatioSLI, Service
from ..windows import WindowCatalog
from .rules import alert_enabled, no_data_alert_name, quote, selector, threshold_for

# The datasource uids Grafana is provisioned with (components/grafana.py; a test keeps them in step).
PROVISIONED_PROMETHEUS = DataSource("prometheus", "prometheus")  # Thanos Query, in our stacks
# Panels read the dashboard's datasource variable, which defaults to the provisioned one:
# the same dashboard then works against Thanos or a single Prometheus picked in the top bar.
DATASOURCE = DatasourceVariable("datasource", "Prometheus", "prometheus", PROVISIONED_PROMETHEUS.uid)
PROMETHEUS = DataSource("prometheus", "${datasource}")
LOKI = DataSource("loki", "loki")
TEMPO = DataSource("tempo", "tempo")

UID_PREFIX = "slo-"
OVERVIEW_UID = "slos-overview"  # "slos-", never "slo-<service>": no service can take it
OVERVIEW_TITLE = "SLO overview"
OVERVIEW_FOLDER = "SLOs"
TAG = "slo"
SLI_CHART = "SLI and objective"  # the first chart of each SLO's row, where alerts' dashboard_url points
# The alert state panels' values.
OK, TICKET, PAGE = 0, 1, 2
_FOLDER_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")


@dataclass(frozen=True)
class GeneratedDashboard:
    uid: str
    title: str
    folder: str  # the Grafana folder (the sidecar's folder annotation)
    team: str  # "" for the overview
    model: dict[str, Any]

    @property
    def file(self) -> str:
        """File name in `dashboards/` and data key of its ConfigMap."""
        return f"{self.uid}.json"


def dashboard_uid(service: str) -> str:
    """`slo-<service>` when that is a valid uid; else a slug with a hash of the exact name (still <= 40)."""
    slug = naming.slug(service)
    uid = UID_PREFIX + slug
    if slug == service and len(uid) <= UID_MAX_LENGTH:
        return uid
    digest = hashlib.sha256(service.encode()).hexdigest()[:8]
    return f"{uid[: UID_MAX_LENGTH - 9].rstrip('-')}-{digest}"


def folder_of(team: str) -> str:
    """The team's folder name; the sidecar reads it as a path, so no `/` and no leading dot."""
    return team if _FOLDER_OK.match(team) else naming.slug(team)


# ------------------------------------------------------------------ queries


def firing_alerts(match: str, severity: str | None = None) -> str:
    """The compiler's alerts firing among `ALERTS{match}`: those of an SLO it records (`slo:info` has
    the same service and slo). Not a team's other alerts (KubePodCrashLooping{team=...}), nor another
    SLO tool's (Pyrra's alerts carry an `slo` label too, but no `slo:info` of ours)."""
    severity_match = f',severity="{severity}"' if severity else ""
    return f'(ALERTS{{alertstate="firing",{match}{severity_match}}} and on(service, slo) {naming.INFO}{{{match}}})'


def _alert_state(match: str, by: str = "") -> str:
    """2 while a page alert fires, 1 while a ticket alert fires, else 0 (while the SLO has series)."""
    head = f"max by ({by}) (\n" if by else "max(\n"
    return (
        f"{head}"
        f"  {firing_alerts(match, 'page')} * {PAGE}\n"
        f"  or {firing_alerts(match, 'ticket')}\n"
        f"  or {naming.OBJECTIVE}{{{match}}} * {OK}\n"
        ")"
    )


def _match(slo: SLO) -> str:
    return selector(slo)[1:-1]


def _sli_axis_min(slo: SLO) -> float:
    """Ten error budgets below 100%: the objective line sits a tenth of the way down, visible through a dip."""
    return float(max(Decimal(0), 1 - 10 * slo.error_budget))


def _percent_decimals(objective: Decimal) -> int:
    """Enough decimals to tell 99.95% from the objective: one more than the objective's own."""
    text = format_decimal(objective * 100)
    return max(2, len(text.split(".")[1]) + 1 if "." in text else 1)


def _seconds(value: Decimal) -> str:
    return f"{format_decimal(value * 1000)}ms" if value < 1 else f"{format_decimal(value)}s"


# ------------------------------------------------------------------ links


def explore_url(datasource: DataSource, query: dict[str, Any]) -> str:
    """A Grafana Explore link running `query`, over the dashboard's time range."""
    pane = {
        "a": {
            "datasource": datasource.uid,
            "queries": [{"datasource": datasource.ref(), "refId": "A", **query}],
            "range": {"from": "${__from}", "to": "${__to}"},
        }
    }
    encoded = urllib.parse.quote(json.dumps(pane, sort_keys=True, separators=(",", ":")), safe="")
    for variable in ("${__from}", "${__to}"):  # left as is: Grafana fills in the time range
        encoded = encoded.replace(urllib.parse.quote(variable, safe=""), variable)
    return f"/explore?schemaVersion=1&orgId=1&panes={encoded}"


def service_links(service: Service) -> list[Link]:
    """Explore on the service's logs and traces, where the spec names them."""
    links = []
    query: dict[str, Any]
    if service.log_selector:
        query = {"editorMode": "code", "expr": service.log_selector, "queryType": "range"}
        links.append(Link("Logs", explore_url(LOKI, query), f"Loki: {service.log_selector}"))
    if service.trace_service:
        traceql = "{resource.service.name=" + json.dumps(service.trace_service) + "}"
        query = {"limit": 20, "query": traceql, "queryType": "traceql"}
        links.append(Link("Traces", explore_url(TEMPO, query), f"Tempo: {traceql}"))
    return links


def runbook_links(slos: Sequence[SLO]) -> list[Link]:
    """One link per distinct runbook URL, named after its SLOs when they differ."""
    by_url: dict[str, list[str]] = {}
    for slo in slos:
        if slo.runbook_url:
            by_url.setdefault(slo.runbook_url, []).append(slo.name)
    if len(by_url) == 1:
        return [Link("Runbook", next(iter(by_url)))]
    return [Link(f"Runbook: {', '.join(names)}", url) for url, names in by_url.items()]


# ------------------------------------------------------------------ per service


def _burn_panel(slo: SLO, catalog: WindowCatalog, severity: str, width: int) -> Panel:
    windows = catalog.by_severity(severity)
    match = selector(slo)
    shown = sorted({w.long for w in windows} | {w.short for w in windows})
    targets = [Target(f"{naming.error_ratio(w)}{match} / {naming.ERROR_BUDGET}{match}", str(w)) for w in shown]
    rates = sorted({w.burn_rate for w in windows})
    colors = ("orange", "red") if severity == "page" else ("yellow", "orange")
    steps = [Step(None, "green")] + [
        Step(float(rate), colors[min(i, 1)]) for i, rate in enumerate(rates)
    ]
    conditions = " or ".join(
        f"{w.long} and {w.short} both burn faster than {format_decimal(w.burn_rate)}x "
        f"(error ratio > {format_decimal(threshold_for(slo.error_budget, w.burn_rate))})"
        for w in windows
    )
    enabled = alert_enabled(slo, catalog, severity)
    state = f"The {severity} alert fires when {conditions}." if enabled else \
        f"The {severity} alert is disabled for this SLO in this environment."
    description = (
        "Error ratio over each window divided by the error budget "
        f"({format_decimal(slo.error_budget)}): at 1 the budget lasts exactly the {slo.period} period. "
        f"{state} Dashed lines: the burn-rate thresholds of {catalog.source or catalog.file}."
    )
    return timeseries(f"Burn rate: {severity} windows", PROMETHEUS, targets, width=width, height=8,
                      description=description, unit="suffix:x", decimals=2, min=0, steps=steps, threshold_lines=True)


def _alert_state_description(slo: SLO, catalog: WindowCatalog) -> str:
    alerts = [f"{slo.alerting.name} (severity {sev})" for sev in ("page", "ticket") if alert_enabled(slo, catalog, sev)]
    if slo.alerting.no_data.enabled:
        alerts.append(f"{no_data_alert_name(slo)} (severity ticket)")
    listed = ", ".join(alerts) if alerts else "none: every alert of this SLO is disabled here"
    return f"Alerts of this SLO firing now, the worst one shown. Its alerts: {listed}. " \
        "The panel links lead to the runbook, and where the spec names them, to logs and traces."


def _slo_panels(layout: Layout, slo: SLO, catalog: WindowCatalog, links: Sequence[Link]) -> None:
    match = selector(slo)
    period, base = slo.period, catalog.base
    objective = format_decimal(slo.objective_percent)
    decimals = _percent_decimals(slo.objective)
    kind = slo.sli.kind
    what = (slo.description or f"The {slo.name} SLO of {slo.service}").rstrip(".")
    title = f"{slo.name}: {objective}% over {period}"
    if isinstance(slo.sli, RatioSLI) and slo.sli.threshold_seconds is not None:
        title += f", latency threshold {_seconds(slo.sli.threshold_seconds)}"
    layout.add(row(title))

    budget_steps = (Step(None, "red"), Step(0, "orange"), Step(0.25, "green"))
    layout.line([
        stat(f"SLI over {period}", PROMETHEUS, Target(f"1 - {naming.error_ratio(period)}{match}", instant=True),
             width=4, height=6, unit="percentunit", decimals=decimals,
             steps=(Step(None, "red"), Step(float(slo.objective), "green")),
             description=f"{what}. The SLI ({kind}) over the last {period}: 1 - the error ratio; "
                         f"green at or above the objective of {objective}%."),
        stat("Error budget remaining", PROMETHEUS, Target(f"{naming.BUDGET_REMAINING}{match}", instant=True),
             width=4, height=6, unit="percentunit", decimals=1, steps=budget_steps, sparkline=True,
             description=f"Share of the {period} error budget ({format_decimal(slo.error_budget * 100)}% of "
                         "events) not yet spent; negative once the SLO is missed."),
        stat("Alert state", PROMETHEUS, Target(_alert_state(_match(slo)), instant=True), width=4, height=6,
             mappings=(ValueText(OK, "OK", "green"), ValueText(TICKET, "Ticket firing", "orange"),
                       ValueText(PAGE, "Page firing", "red")),
             links=links,
             description=_alert_state_description(slo, catalog)),
        timeseries("Error budget remaining over time", PROMETHEUS,
                   [Target(f"{naming.BUDGET_REMAINING}{match}", "remaining")],
                   width=12, height=6, unit="percentunit", decimals=1, steps=budget_steps, threshold_lines=True,
                   description=f"Error budget remaining over the {period} period, as it was at each point in "
                               "time: a falling line is budget being spent."),
    ])

    charts = [
        timeseries(
            SLI_CHART, PROMETHEUS,
            [Target(f"1 - {naming.error_ratio(base)}{match}", f"SLI ({base})"),
             Target(f"1 - {naming.error_ratio(period)}{match}", f"SLI ({period})"),
             Target(f"{naming.OBJECTIVE}{match}", "objective")],
            width=6, height=8, unit="percentunit", decimals=decimals, min=_sli_axis_min(slo), max=1,
            overrides=[Override("byFrameRefID", "C", (
                ("color", {"fixedColor": "red", "mode": "fixed"}),
                ("custom.lineStyle", {"dash": [10, 10], "fill": "dash"}),
            ))],
            description=f"The SLI over {base} (what users see now) and over {period} (what the SLO is "
                        f"judged on) against the objective of {objective}%. The axis starts at "
                        f"{format_decimal(Decimal(str(_sli_axis_min(slo))) * 100)}% so a short dip does not "
                        "squash the objective line into 100%; deeper dips run off the bottom (the stat shows "
                        "the value).",
        )
    ]
    charts += [_burn_panel(slo, catalog, sev, 6) for sev in ("page", "ticket") if catalog.by_severity(sev)]
    if isinstance(slo.sli, RatioSLI):
        charts.append(timeseries(
            f"Events per second ({base})", PROMETHEUS,
            [Target(f"{naming.requests_rate(base)}{match}", "all"),
             Target(f"{naming.errors_rate(base)}{match}", "bad")],
            width=6, height=8, unit="reqps", min=0,
            description="All events and bad events per second, as the SLI counts them.",
        ))
    layout.line([_resize(panel, w) for panel, w in zip(charts, even_widths(len(charts)), strict=True)])


def _resize(panel: Panel, width: int) -> Panel:
    return replace(panel, width=width)


def service_dashboard(service: Service, catalogs: dict[Duration, WindowCatalog]) -> GeneratedDashboard:
    slos = sorted(service.slos, key=lambda s: s.name)
    uid = dashboard_uid(service.name)
    folder = folder_of(service.team)
    extra = service_links(service)
    layout = Layout()
    for slo in slos:
        panel_links = [*runbook_links([slo]), *extra]
        _slo_panels(layout, slo, catalogs[slo.period], panel_links)
    firing = firing_alerts(f"service={quote(service.name)}")
    dashboard = Dashboard(
        uid=uid,
        title=f"{service.name} SLOs",
        description=service.description or f"SLOs of {service.name}",
        tags=(TAG, service.team),
        panels=tuple(layout.placed),
        links=(
            Link(OVERVIEW_TITLE, f"/d/{OVERVIEW_UID}", new_tab=False, keep_time=True),
            TaggedDashboards(f"{service.team} SLOs", (TAG, service.team)),
            *runbook_links(slos),
            *extra,
        ),
        annotations=(Annotation("Firing SLO alerts", PROMETHEUS, firing, "{{alertname}} ({{severity}})",
                                ("slo", "severity")),),
        variables=(DATASOURCE,),
        time_from="now-7d",
    )
    return GeneratedDashboard(uid, dashboard.title, folder, service.team, dashboard.to_dict())


# ------------------------------------------------------------------ overview


def _uid_label(expr: str, services: Sequence[Service]) -> str:
    """Add a `dashboard` label holding the dashboard uid of each series' service, for the table's links."""
    expr = f'label_replace(\n  {expr},\n  "dashboard", "{UID_PREFIX}$1", "service", "(.+)"\n)'
    for service in sorted(services, key=lambda s: s.name):
        uid = dashboard_uid(service.name)
        if uid != UID_PREFIX + service.name:
            expr = f'label_replace(\n  {expr},\n  "dashboard", "{uid}", "service", {quote(re.escape(service.name))}\n)'
    return expr


def overview_dashboard(services: Sequence[Service]) -> GeneratedDashboard:
    team = 'team=~"$team"'
    by = "team, service, slo"
    slo_count = sum(len(s.slos) for s in services)
    layout = Layout()

    def firing(severity: str) -> str:
        return f"count{firing_alerts(team, severity)}\nor count({naming.INFO}{{{team}}}) * 0"

    counts = (Step(None, "green"), Step(1, "red"))
    layout.line([
        stat("SLOs", PROMETHEUS, Target(f"count({naming.INFO}{{{team}}})", instant=True), width=6, height=4,
             steps=(Step(None, "blue"),), description="SLOs of the selected teams."),
        stat("Budgets exhausted", PROMETHEUS,
             Target(f"count({naming.BUDGET_REMAINING}{{{team}}} <= 0)\nor count({naming.INFO}{{{team}}}) * 0",
                    instant=True),
             width=6, height=4, steps=counts, description="SLOs whose error budget for the period is spent."),
        stat("Paging", PROMETHEUS, Target(firing("page"), instant=True), width=6, height=4, steps=counts,
             description="SLO page alerts firing now."),
        stat("Ticket alerts", PROMETHEUS, Target(firing("ticket"), instant=True), width=6, height=4,
             steps=(Step(None, "green"), Step(1, "orange")), description="SLO ticket alerts firing now."),
    ])

    info = _uid_label(f"max by ({by}, tier, objective, period) ({naming.INFO}{{{team}}})", services)
    remaining = f"max by ({by}) ({naming.BUDGET_REMAINING}{{{team}}})"
    budget = f"max by ({by}) ({naming.ERROR_BUDGET}{{{team}}})"
    targets = [
        Target(info, instant=True, table=True),
        Target(f"1 - (1 - {remaining}) * {budget}", instant=True, table=True),
        Target(remaining, instant=True, table=True),
        Target(_alert_state(team, by), instant=True, table=True),
    ]
    columns = ["team", "service", "slo", "tier", "objective", "period", "Value #B", "Value #C", "Value #D",
               "dashboard"]
    names = {"team": "Team", "service": "Service", "slo": "SLO", "tier": "Tier", "objective": "Objective (%)",
             "period": "Period", "Value #B": "SLI", "Value #C": "Budget remaining", "Value #D": "Status"}
    transformations = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {
            "excludeByName": {"Time": True, "Value #A": True},
            "indexByName": {name: i for i, name in enumerate(columns)},
            "renameByName": names,
        }},
    ]
    overrides = [
        Override("byName", "SLI", (("unit", "percentunit"), ("decimals", 3))),
        Override("byName", "Budget remaining", (
            ("unit", "percentunit"), ("decimals", 1),
            ("custom.cellOptions", {"mode": "basic", "type": "color-background"}),
            ("thresholds", {"mode": "absolute", "steps": [
                {"color": "red", "value": None}, {"color": "orange", "value": 0}, {"color": "green", "value": 0.25}
            ]}),
        )),
        Override("byName", "Status", (
            ("mappings", [{"type": "value", "options": {
                str(OK): {"color": "green", "index": 0, "text": "OK"},
                str(TICKET): {"color": "orange", "index": 1, "text": "Ticket firing"},
                str(PAGE): {"color": "red", "index": 2, "text": "Page firing"},
            }}]),
            ("custom.cellOptions", {"type": "color-background"}),
        )),
        Override("byName", "Service", (
            ("links", [{"targetBlank": False, "title": "SLO dashboard of ${__value.raw}",
                        "url": "/d/${__data.fields.dashboard}?${__url_time_range}"}]),
        )),
        Override("byName", "dashboard", (("custom.hidden", True),)),
    ]
    layout.add(row("All SLOs"))
    layout.add(table(
        "SLOs", PROMETHEUS, targets, width=24, height=min(24, max(8, slo_count + 4)),
        sort_by="Budget remaining",
        description="Every SLO of the selected teams, least error budget first. Click a column header to sort "
                    "by it, a service to open its SLO dashboard. Status: alerts firing now.",
        overrides=overrides, transformations=transformations,
    ))

    budget_steps = (Step(None, "red"), Step(0, "orange"), Step(0.25, "green"))
    legend = "{{service}} {{slo}}"
    layout.add(row("Team $team", repeat="team"))
    layout.line([
        bargauge("Error budget remaining", PROMETHEUS, Target(f"{naming.BUDGET_REMAINING}{{{team}}}", legend,
                                                               instant=True),
                 width=12, height=8, unit="percentunit", decimals=1, min=0, max=1, steps=budget_steps,
                 description="The team's SLOs by budget remaining."),
        timeseries("Error budget remaining over time", PROMETHEUS,
                   [Target(f"{naming.BUDGET_REMAINING}{{{team}}}", legend)], width=12, height=8,
                   unit="percentunit", decimals=1, description="Budget remaining of the team's SLOs over time."),
    ])
    dashboard = Dashboard(
        uid=OVERVIEW_UID,
        title=OVERVIEW_TITLE,
        description="Every SLO with its error budget and alert state, by team.",
        tags=(TAG,),
        panels=tuple(layout.placed),
        links=(TaggedDashboards("SLO dashboards", (TAG,)),),
        variables=(DATASOURCE, QueryVariable("team", "Team", PROMETHEUS, naming.INFO, "team")),
    )
    return GeneratedDashboard(OVERVIEW_UID, dashboard.title, OVERVIEW_FOLDER, "", dashboard.to_dict())


def check_uids(services: Sequence[Service]) -> None:
    """Two services whose names slug to the same uid would overwrite each other's dashboard."""
    seen: dict[str, str] = {OVERVIEW_UID: OVERVIEW_TITLE}
    for service in sorted(services, key=lambda s: s.name):
        uid = dashboard_uid(service.name)
        if uid in seen:
            raise DashboardError(f"dashboards '{seen[uid]}' and '{service.name}' would share the uid {uid}")
        seen[uid] = service.name


def all_dashboards(services: Sequence[Service], catalogs: dict[Duration, WindowCatalog]) -> list[GeneratedDashboard]:
    """Every service's dashboard (by service name), then the overview; uids checked unique."""
    check_uids(services)
    out = [service_dashboard(s, catalogs) for s in sorted(services, key=lambda s: s.name)]
    out.append(overview_dashboard(services))
    return out


# ------------------------------------------------------------------ links from alerts

DASHBOARD_URL = "dashboard_url"


def with_dashboard_links(services: Sequence[Service], catalogs: dict[Duration, WindowCatalog],
                         grafana_url: str) -> list[Service]:
    """The services with a `dashboard_url` annotation on every SLO's alerts (unless the spec sets one).

    It opens the service's dashboard in `grafana_url` on the SLO's SLI chart (`viewPanel`, the
    first chart of the SLO's row; Esc shows the whole row), over the last 6 hours: what a
    responder looks at first, next to the runbook.
    """
    base = grafana_url.rstrip("/")
    out = []
    for service in services:
        model = service_dashboard(service, catalogs).model
        # One SLI chart per SLO, in the dashboard's order of SLOs (by name).
        charts = [p["id"] for p in model["panels"] if p["title"] == SLI_CHART]
        chart_of = dict(zip(sorted(slo.name for slo in service.slos), charts, strict=True))
        slos = []
        for slo in service.slos:
            annotations = dict(slo.alerting.annotations)
            url = (f"{base}/d/{dashboard_uid(service.name)}/?orgId=1&from=now-6h&to=now"
                   f"&viewPanel={chart_of[slo.name]}")
            annotations.setdefault(DASHBOARD_URL, url)
            alerting = replace(slo.alerting, annotations=tuple(sorted(annotations.items())))
            slos.append(replace(slo, alerting=alerting))
        out.append(replace(service, slos=tuple(slos)))
    return out
