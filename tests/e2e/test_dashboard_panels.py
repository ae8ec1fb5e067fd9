"""Each dashboard panel shows what its title promises, checked by value on a real Prometheus.

docs/dashboards.md and docs/compiled-output.md define every panel from the contract
series: the SLI over the period is 1 - `slo:sli_error:ratio_rate<period>`, a burn rate
is the window's error ratio / `slo:error_budget:ratio`, budget remaining is
`slo:error_budget_remaining:ratio`, and so on. Here Prometheus evaluates no rules: the
contract series of every example SLO (plus a raw SLI on a 7d period) are backfilled
directly, each window, SLO and series with a value of its own, and some of the
compiler's alerts as `ALERTS` series (firing, pending, no-data), next to firing alerts of
the same team and service that no spec compiled (a cluster's KubePodCrashLooping). Every
panel query runs as an instant query and must return, for its legend, the number the docs
define. A panel that reads another window, another SLO, the objective instead of the
budget remaining, counts a pending alert or another alert of the team, shows a number no
other series has, and fails here; the golden files would only show that its text changed.

Whether the rules record the right values is the business of the rules' own tests
(tests/unit/slo/test_rules.py, the generated promtool tests, test_dashboard_queries.py).
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reliability.durations import Duration
from reliability.slo.compile import Output, compile_services
from reliability.slo.generators.dashboards import OVERVIEW_UID, dashboard_uid
from reliability.slo.generators.rules import no_data_alert_name
from reliability.slo.load import load
from reliability.slo.model import SLO, RatioSLI
from reliability.slo.windows import WindowCatalog
from reliability.yamlio import format_decimal

from ..prom import Prometheus, running_prometheus
from ..unit.slo.helpers import EXAMPLES
from ..unit.slo.test_dashboards import SPEC as RAW_SPEC
from .test_dashboard_queries import substitute

pytestmark = pytest.mark.e2e

PAGE, TICKET, OK = 2, 1, 0  # the alert state panels' values (docs: Page firing, Ticket firing, OK)
# Alerts of every service that the compiler did not generate, with its team and service labels
# as kube-prometheus rules routed by team carry them (no `slo`): no panel or annotation shows them.
OTHER_ALERTS = (("KubePodCrashLooping", "page"), ("KubeDeploymentReplicasMismatch", "ticket"))


@dataclass(frozen=True)
class Truth:
    """What Prometheus holds for one SLO, and so what its panels must show."""

    slo: SLO
    catalog: WindowCatalog
    budget: float
    ratios: dict[Duration, float]  # error ratio per alert window and the period
    requests: float  # events per second over the base window
    errors: float
    remaining: float
    alerts: tuple[tuple[str, str, str], ...]  # (alertname, severity, alertstate)

    @property
    def key(self) -> tuple[str, str]:
        return self.slo.service, self.slo.name

    @property
    def labels(self) -> dict[str, str]:
        """Every recorded series carries the SLO's identity, its team and the spec's labels."""
        return {**dict(self.slo.labels), "service": self.slo.service, "slo": self.slo.name, "team": self.slo.team}

    @property
    def state(self) -> int:
        firing = {severity for _, severity, state in self.alerts if state == "firing"}
        return PAGE if "page" in firing else TICKET if "ticket" in firing else OK


def truths(output: Output) -> list[Truth]:
    """Distinct values for every SLO: the i-th SLO's window k burns at 0.1 + 0.05 k + 0.001 i.

    The first SLO has spent one and a half budgets (remaining -0.5), the sixth exactly one
    (remaining 0: exhausted too); the others' remaining follows from their period's ratio.
    """
    slos = sorted((slo for service in output.services for slo in service.slos), key=lambda s: (s.service, s.name))
    out = []
    for i, slo in enumerate(slos):
        catalog = output.catalogs[slo.period]
        budget = float(1 - slo.objective)
        windows = sorted({*catalog.alert_windows, slo.period})
        burn = {w: 0.1 + 0.05 * k + 0.001 * i for k, w in enumerate(windows)}
        burn[slo.period] = {0: 1.5, 5: 1.0}.get(i, burn[slo.period])
        ratios = {w: b * budget for w, b in burn.items()}
        requests = 10.0 + i
        alerts = {
            1: (("page", "firing"), ("ticket", "firing")),
            2: (("ticket", "firing"),),
            3: (("page", "pending"),),  # not firing yet: the panels say OK
        }.get(i, ())
        named = tuple((slo.alerting.name, severity, state) for severity, state in alerts)
        if i == 4:
            named += ((no_data_alert_name(slo), "ticket", "firing"),)
        out.append(Truth(slo, catalog, budget, ratios, requests, requests * ratios[catalog.base],
                         1 - burn[slo.period], named))
    return out


def openmetrics(facts: list[Truth], end: int) -> str:
    """The contract series of every SLO (names from docs/compiled-output.md), a sample a minute for 5 minutes."""
    series: dict[str, float] = {}

    def put(name: str, labels: Mapping[str, str], value: float) -> None:
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        series[f"{name}{{{text}}}"] = value

    for t in facts:
        slo, labels = t.slo, t.labels
        for window, ratio in t.ratios.items():
            put(f"slo:sli_error:ratio_rate{window}", labels, ratio)
        if isinstance(slo.sli, RatioSLI):
            put(f"slo:sli_requests:rate{t.catalog.base}", labels, t.requests)
            put(f"slo:sli_errors:rate{t.catalog.base}", labels, t.errors)
        put("slo:error_budget_remaining:ratio", labels, t.remaining)
        put("slo:objective:ratio", labels, float(slo.objective))
        put("slo:error_budget:ratio", labels, t.budget)
        put("slo:period:seconds", labels, float(slo.period.seconds))
        info = {"tier": slo.tier, "objective": format_decimal(slo.objective_percent), "period": str(slo.period),
                "sli_kind": slo.sli.kind}
        put("slo:info", labels | info, 1)
        for alertname, severity, state in t.alerts:
            put("ALERTS", labels | {"alertname": alertname, "severity": severity, "alertstate": state}, 1)
        for alertname, severity in OTHER_ALERTS:
            put("ALERTS", {"alertname": alertname, "alertstate": "firing", "namespace": slo.service,
                           "service": slo.service, "severity": severity, "team": slo.team}, 1)
    lines = [f"{text} {value!r} {ts}" for text, value in sorted(series.items()) for ts in range(end - 240, end + 1, 60)]
    return "\n".join([*lines, "# EOF"]) + "\n"


@functools.cache
def compiled() -> Output:
    """The examples and a raw SLI with a 7d period (shop-api), compiled together."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "shop-api.yaml"
        spec.write_text(RAW_SPEC)
        result = load([str(EXAMPLES), str(spec)])
    assert not result.problems, "\n".join(map(str, result.problems.errors))
    return compile_services(result.services, result.catalogs)


@dataclass(frozen=True)
class Server:
    prom: Prometheus
    at: float  # the time of the last samples: every query runs there
    facts: list[Truth]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    facts = truths(compiled())
    end = int(time.time()) - 1
    with running_prometheus(tmp_path_factory.mktemp("contract"), {}, openmetrics(facts, end)) as prom:
        prom.wait_until(f"count(slo:info) == {len(facts)}")
        yield Server(prom, end, facts)


# ------------------------------------------------------------------ what the docs say each panel shows


def per_slo_panels(t: Truth) -> dict[str, dict[str, float]]:
    """docs/dashboards.md, per service, one row per SLO: panel title -> legend -> value."""
    slo, catalog, ratio = t.slo, t.catalog, t.ratios
    period, base = slo.period, catalog.base
    panels = {
        # The SLI over the period against its objective, as a number and as a line next to
        # the SLI over the shortest window and the objective.
        f"SLI over {period}": {"": 1 - ratio[period]},
        "SLI and objective": {f"SLI ({base})": 1 - ratio[base], f"SLI ({period})": 1 - ratio[period],
                              "objective": float(slo.objective)},
        # The error budget remaining over the period, now and over time.
        "Error budget remaining": {"": t.remaining},
        "Error budget remaining over time": {"remaining": t.remaining},
        # The current alert state from ALERTS of the compiler's own alerts.
        "Alert state": {"": float(t.state)},
    }
    # The burn rate (error ratio / error budget) of every alert window, a chart per severity.
    for severity in ("page", "ticket"):
        windows = catalog.by_severity(severity)
        if windows:
            shown = sorted({w.long for w in windows} | {w.short for w in windows})
            panels[f"Burn rate: {severity} windows"] = {str(w): ratio[w] / t.budget for w in shown}
    # For ratio SLIs, all and bad events per second.
    if isinstance(slo.sli, RatioSLI):
        panels[f"Events per second ({base})"] = {"all": t.requests, "bad": t.errors}
    return panels


def overview_panels(facts: list[Truth]) -> dict[str, Any]:
    """docs/dashboards.md, overview, for the SLOs of the selected teams: panel title -> value(s)."""
    firing = [(t, severity) for t in facts for _, severity, state in t.alerts if state == "firing"]
    remaining = {t.key: t.remaining for t in facts}
    return {
        "SLOs": len(facts),
        "Budgets exhausted": sum(1 for t in facts if t.remaining <= 0),  # <= 0 is exhausted
        "Paging": sum(1 for _, severity in firing if severity == "page"),
        "Ticket alerts": sum(1 for _, severity in firing if severity == "ticket"),
        # The table, by column: SLI over the period, budget remaining, alert state.
        "SLOs/SLI": {t.key: 1 - t.ratios[t.slo.period] for t in facts},
        "SLOs/Budget remaining": remaining,
        "SLOs/Status": {t.key: t.state for t in facts},
        # One row per team with its SLOs' budgets.
        "Error budget remaining": remaining,
        "Error budget remaining over time": remaining,
    }


# ------------------------------------------------------------------ the tests


def value(sample: Mapping[str, Any]) -> float:
    return float(sample["value"][1])


def by_slo(result: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    keys = [(r["metric"].get("service"), r["metric"].get("slo")) for r in result]
    assert len(set(keys)) == len(keys), f"more than one series per SLO: {[r['metric'] for r in result]}"
    return {k: value(r) for k, r in zip(keys, result, strict=True)}


def sections(model: Mapping[str, Any], facts: list[Truth]) -> Iterator[tuple[Truth, Mapping[str, Any]]]:
    """(SLO, panel) for each panel of a service dashboard: its SLO is the one of the row above it."""
    named = {t.slo.name: t for t in facts}
    current = None
    for panel in model["panels"]:
        if panel["type"] == "row":
            current = named[panel["title"].split(":")[0]]
        else:
            assert current is not None, f"panel '{panel['title']}' above the first SLO row"
            yield current, panel


@pytest.mark.parametrize("service", sorted(s.name for s in compiled().services))
def test_each_slo_panel_shows_the_series_its_title_names(service: str, server: Server) -> None:
    dashboard = next(d.model for d in compiled().dashboards if d.uid == dashboard_uid(service))
    facts = [t for t in server.facts if t.slo.service == service]
    seen: dict[tuple[str, str], dict[str, float]] = {}
    wrong = []
    for t, panel in sections(dashboard, facts):
        expected = per_slo_panels(t)
        title = panel["title"]
        assert title in expected, f"{service}/{t.slo.name}: no expectation for panel '{title}': what does it show?"
        # A single unnamed target has Grafana's automatic legend.
        legends = {target["legendFormat"].replace("__auto", ""): target for target in panel["targets"]}
        assert sorted(legends) == sorted(expected[title]), (service, t.slo.name, title)
        got = {}
        for legend, target in legends.items():
            result = server.prom.query(target["expr"], at=server.at)
            assert len(result) == 1, f"{service}/{t.slo.name} '{title}' {legend}: {len(result)} series " \
                                     f"for one SLO:\n  {target['expr']}\n  {result}"
            got[legend] = value(result[0])
            if got[legend] != pytest.approx(expected[title][legend], rel=1e-9):
                wrong.append(f"{t.slo.name} '{title}' {legend or '(value)'}: shows {got[legend]:.6g}, "
                             f"expected {expected[title][legend]:.6g}\n  {target['expr']}")
        seen[(t.slo.name, title)] = got
    assert not wrong, f"{len(wrong)} panels of {service} show the wrong series:\n" + "\n".join(wrong)
    # Every panel the docs promise is there, once per SLO.
    assert sorted(seen) == sorted((t.slo.name, title) for t in facts for title in per_slo_panels(t))


@pytest.mark.parametrize("service", sorted(s.name for s in compiled().services))
def test_alert_annotations_mark_the_services_firing_slo_alerts_only(service: str, server: Server) -> None:
    dashboard = next(d.model for d in compiled().dashboards if d.uid == dashboard_uid(service))
    [annotation] = dashboard["annotations"]["list"]
    result = server.prom.query(annotation["expr"], at=server.at)
    got = sorted((r["metric"]["alertname"], r["metric"]["severity"], r["metric"].get("slo")) for r in result)
    want = sorted((alertname, severity, t.slo.name) for t in server.facts if t.slo.service == service
                  for alertname, severity, state in t.alerts if state == "firing")
    assert got == want, annotation["expr"]


@pytest.mark.parametrize("team", ["one", "all"])
def test_overview_panels_show_the_series_their_titles_name(team: str, server: Server) -> None:
    overview = next(d.model for d in compiled().dashboards if d.uid == OVERVIEW_UID)
    teams = sorted({t.slo.team for t in server.facts})
    # One team (the one with the most SLOs, so counts and tables have several rows), then all of them.
    chosen = max(teams, key=lambda name: sum(t.slo.team == name for t in server.facts))
    selected = [chosen] if team == "one" else teams
    facts = [t for t in server.facts if t.slo.team in selected]
    values = {"team": "(" + "|".join(selected) + ")"}
    expected = overview_panels(facts)
    wrong = []

    def check(what: str, got: object, want: object) -> None:
        if got != pytest.approx(want, rel=1e-9):
            wrong.append(f"'{what}': shows {got}, expected {want}")

    checked = set()
    for panel in overview["panels"]:
        if panel["type"] == "row":
            continue
        title = panel["title"]
        if panel["type"] == "table":
            renames = next(t["options"]["renameByName"] for t in panel["transformations"] if t["id"] == "organize")
            excluded = next(t["options"]["excludeByName"] for t in panel["transformations"] if t["id"] == "organize")
            for target in panel["targets"]:
                result = server.prom.query(substitute(target["expr"], values), at=server.at)
                field = f"Value #{target['refId']}"
                if excluded.get(field):  # the labels-only query: one row per SLO, linking its dashboard
                    rows = {(r["metric"]["service"], r["metric"]["slo"]): r["metric"] for r in result}
                    assert sorted(rows) == sorted(t.key for t in facts)
                    for t in facts:
                        assert rows[t.key]["dashboard"] == dashboard_uid(t.slo.service)
                        assert rows[t.key].get("tier", "") == t.slo.tier  # Prometheus drops an empty label
                    continue
                column = f"{title}/{renames[field]}"
                assert column in expected, f"no expectation for column '{column}'"
                check(column, by_slo(result), expected[column])
                checked.add(column)
            continue
        assert title in expected, f"no expectation for overview panel '{title}': what does it show?"
        [target] = panel["targets"]
        result = server.prom.query(substitute(target["expr"], values), at=server.at)
        want = expected[title]
        got: object = by_slo(result) if isinstance(want, dict) else [value(r) for r in result]
        check(title, got, want if isinstance(want, dict) else [want])
        checked.add(title)
    assert not wrong, f"{len(wrong)} overview panels show the wrong series ({values}):\n" + "\n".join(wrong)
    assert checked == set(expected)
