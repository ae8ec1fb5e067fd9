"""Every panel query of every generated dashboard, run on a real Prometheus: valid, and returning data.

The example specs are compiled; their rule files are loaded into Debian's
Prometheus (2.42; the clusters run 3.x, so the queries stay within what both
accept) with every group evaluated each second. Two hours of synthetic
counters, built from the compiler's own event model of each SLI (which raw
series a good and a bad event increment), are backfilled with promtool before
the server starts, so the short windows have real rates at once and the long
windows (averages of the 5m rate) have their first samples after one
evaluation. checkout-api's availability SLO gets 5 % errors, enough to fire its
page and ticket alerts; every other SLO 0.01 %, well inside its budget.

Then each target of each dashboard has its template variables substituted the
way Grafana would (`$team` by each team and by all of them, `$__interval` and
friends by fixed values) and goes through `/api/v1/query` (instant targets) or
`/api/v1/query_range` over the dashboard's default time range: an error or an
empty result fails, naming the dashboard, the panel and the query. The SLI and budget
stats must also show what the synthetic error shares give through the compiled rules;
that each panel reads the right series is test_dashboard_panels.py's business.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from reliability.durations import Duration
from reliability.slo.compile import Output
from reliability.slo.generators import dashboards
from reliability.slo.generators.synthetic import event_model
from reliability.slo.grafana import targets_of

from ..prom import Prometheus, PrometheusError, running_prometheus
from ..unit.slo.helpers import compile_examples

pytestmark = pytest.mark.e2e

HISTORY_SECONDS = 2 * 3600
SCRAPE_STEP = 15
EVENTS_PER_SECOND = Decimal(20)
ERROR_SHARE = Decimal("0.0001")
BURNING = ("checkout-api", "availability")  # fires its page alert
BURNING_SHARE = Decimal("0.05")
# Grafana's built-in variables, with values a dashboard over the last hours would get.
BUILTINS = {"__rate_interval": "1m", "__interval": "30s", "__interval_ms": "30000", "__range": "1h",
            "__range_s": "3600", "__range_ms": "3600000"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$([A-Za-z_]\w*)")


# ------------------------------------------------------------------ synthetic history


def openmetrics(output: Output, end: int) -> str:
    """Counters of every SLI's raw series over HISTORY_SECONDS up to `end`, in OpenMetrics text."""
    rates: dict[str, Decimal] = {}
    for service in output.services:
        for slo in service.slos:
            share = BURNING_SHARE if (slo.service, slo.name) == BURNING else ERROR_SHARE
            good, bad = EVENTS_PER_SECOND * (1 - share), EVENTS_PER_SECOND * share
            for series in event_model(slo.sli).series:
                rates[series.text] = rates.get(series.text, Decimal(0)) + good * series.good + bad * series.bad
    start = end - HISTORY_SECONDS
    lines = []
    for text in sorted(rates):  # a series' samples together, families (same name) adjacent
        lines.extend(f"{text} {rates[text] * (t - start)} {t}" for t in range(start, end + 1, SCRAPE_STEP))
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def rule_files(output: Output) -> dict[str, str]:
    """The compiled rule files, every group on the global 1s interval (the budget groups ask for 1m)."""
    files = {}
    for rel, text in output.files.items():
        if rel.startswith("rules/"):
            doc = yaml.safe_load(text)
            for group in doc["groups"]:
                group.pop("interval", None)
            files[Path(rel).name] = yaml.safe_dump(doc, sort_keys=False)
    return files


@functools.cache
def examples() -> Output:
    return compile_examples()


@pytest.fixture(scope="module")
def compiled() -> Output:
    return examples()


@pytest.fixture(scope="module")
def prom(compiled: Output, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    workdir = tmp_path_factory.mktemp("prometheus")
    slos = sum(len(service.slos) for service in compiled.services)
    with running_prometheus(workdir, rule_files(compiled), openmetrics(compiled, int(time.time()) - 1)) as server:
        with server.logs_on_failure():
            # Every SLO through both rule groups, and the burning SLO's page alert firing.
            server.wait_until(f"count(slo:error_budget_remaining:ratio) == {slos}")
            server.wait_until(f"count(slo:sli_error:ratio_rate3d) == {slos}")
            server.wait_until('ALERTS{alertstate="firing",severity="page"}')
        yield server


# ------------------------------------------------------------------ Grafana's side


def teams(prom: Prometheus) -> list[str]:
    """The values of the overview's `team` variable: label_values(slo:info, team)."""
    return sorted({s["metric"]["team"] for s in prom.query("slo:info")})


def substitutions(model: Mapping[str, Any], prom: Prometheus) -> list[dict[str, str]]:
    """Every way a dashboard's variables are filled in: each single value, then all values at once."""
    # The datasource picker chooses the Prometheus, here the one under test; queries never name it.
    variables = [v["name"] for v in model["templating"]["list"] if v["type"] != "datasource"]
    if not variables:
        return [{}]
    assert variables == ["team"], f"no test values for variables {variables}"
    values = teams(prom)
    return [{"team": v} for v in values] + [{"team": "(" + "|".join(re.escape(v) for v in values) + ")"}]


def substitute(expr: str, values: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        merged = {**BUILTINS, **values}
        if name not in merged:
            raise AssertionError(f"no value for ${name} in {expr}")
        return merged[name]

    return _VARIABLE.sub(one, expr)  # `$1` (label_replace) is no variable, for Grafana either


def time_range(model: Mapping[str, Any], end: float) -> tuple[float, float, float]:
    """start, end and step of Grafana's range query for the dashboard's default time range (end included)."""
    span = Duration.parse(model["time"]["from"].removeprefix("now-")).seconds
    step = max(SCRAPE_STEP, math.ceil(span / 1000))
    return end - step * (span // step), end, step


def run(prom: Prometheus, target: Mapping[str, Any], model: Mapping[str, Any], expr: str) -> list[dict[str, Any]]:
    if target["instant"]:
        return prom.query(expr)
    start, end, step = time_range(model, time.time())
    return prom.query_range(expr, start, end, step)


# ------------------------------------------------------------------ the tests


@pytest.mark.parametrize("uid", [d.uid for d in examples().dashboards])
def test_every_panel_query_is_valid_and_returns_data(uid: str, compiled: Output, prom: Prometheus) -> None:
    model = next(d.model for d in compiled.dashboards if d.uid == uid)
    failures = []
    checked = 0
    for values in substitutions(model, prom):
        for panel, target in targets_of(model):
            expr = substitute(target["expr"], values)
            where = f"dashboard '{model['title']}' ({uid}), panel '{panel['title']}' (id {panel['id']}) " \
                    f"{target['refId']}:\n  {expr}"
            try:
                result = run(prom, target, model, expr)
            except PrometheusError as exc:
                failures.append(f"{where}\n  -> {exc}")
                continue
            checked += 1
            if not result:
                failures.append(f"{where}\n  -> empty result ({', '.join(f'{k}={v}' for k, v in values.items())})")
    with prom.logs_on_failure():
        assert not failures, f"{len(failures)} failing panel queries:\n" + "\n".join(failures)
    assert checked >= len(targets_of(model))


def test_annotation_and_variable_queries_are_valid(compiled: Output, prom: Prometheus) -> None:
    for dash in compiled.dashboards:
        for annotation in dash.model["annotations"]["list"]:
            prom.query(annotation["expr"])  # raises on an invalid query; empty is fine (nothing firing)
        for variable in [v for v in dash.model["templating"]["list"] if v["type"] == "query"]:
            series, label = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["definition"]).groups()
            assert {s["metric"].get(label) for s in prom.query(series)} >= {"payments", "search"}


def test_alert_state_panels_show_the_firing_page(compiled: Output, prom: Prometheus) -> None:
    states = {}
    for dash in compiled.dashboards[:-1]:
        for panel, target in targets_of(dash.model):
            if panel["title"] == "Alert state":
                slo = re.search(r'slo="([^"]+)"', target["expr"]).group(1)
                states[(dash.uid, slo)] = float(prom.query(target["expr"])[0]["value"][1])
    assert states[("slo-checkout-api", "availability")] == dashboards.PAGE
    assert {v for k, v in states.items() if k != ("slo-checkout-api", "availability")} == {dashboards.OK}


def test_overview_table_links_each_service_to_its_dashboard(compiled: Output, prom: Prometheus) -> None:
    overview = compiled.dashboards[-1].model
    table = next(p for p in overview["panels"] if p["type"] == "table")
    rows = prom.query(substitute(table["targets"][0]["expr"], {"team": ".*"}))
    links = {r["metric"]["service"]: r["metric"]["dashboard"] for r in rows}
    assert links == {s.name: dashboards.dashboard_uid(s.name) for s in compiled.services}
    status = prom.query(substitute(table["targets"][3]["expr"], {"team": ".*"}))
    firing = {(r["metric"]["service"], r["metric"]["slo"]): float(r["value"][1]) for r in status}
    assert firing[BURNING] == dashboards.PAGE and len(firing) == 7, firing


def test_budget_and_sli_panels_show_the_synthetic_error_share(compiled: Output, prom: Prometheus) -> None:
    """From raw counters through the compiled rules to the panels: steady traffic with an error share s
    shows an SLI of 1 - s and a budget remaining of 1 - s / budget, -49 for the burning SLO (5 % of 0.1 %)."""
    shown: dict[tuple[str, str, str], float] = {}
    for dash in compiled.dashboards[:-1]:
        slo_name = ""
        for panel in dash.model["panels"]:
            if panel["type"] == "row":
                slo_name = panel["title"].split(":")[0]
            elif panel["title"] == "Error budget remaining" or panel["title"].startswith("SLI over "):
                [target] = panel["targets"]
                [sample] = prom.query(target["expr"])
                shown[(dash.uid, slo_name, panel["title"].split(" ")[0])] = float(sample["value"][1])
    expected = {}
    for service in compiled.services:
        for slo in service.slos:
            share = BURNING_SHARE if (slo.service, slo.name) == BURNING else ERROR_SHARE
            uid = dashboards.dashboard_uid(service.name)
            expected[(uid, slo.name, "SLI")] = float(1 - share)
            expected[(uid, slo.name, "Error")] = float(1 - share / slo.error_budget)
    assert shown == pytest.approx(expected, rel=1e-6)
    assert shown[("slo-checkout-api", "availability", "Error")] == pytest.approx(-49)
