"""The whole alert path on loopback, built by the product's own code, and what its timing should be.

    SyntheticService --scrape 1s--> Prometheus --rules every 1s--> 2 Alertmanagers (gossip) --> WebhookSink
                                    (compiled rules)                (generated config)

- Rules: `compile_paths` on specs/synthetic-api.yaml with the time-scaled catalog in
  windows/ (the Workbook's 30-day windows / 60), written as Prometheus loads them.
- Alertmanager config: `parse_routing` + `render_config` for a prod-shaped routing in
  which webhooks to the sink stand in for the pager and the chat, and `alerting.timing`
  compresses the clock; it is put in place with `apply_config`, the product's guard.
- Prometheus sends to both Alertmanagers, as it must in an HA pair (each instance gets
  every alert; the cluster deduplicates notifications).

`predict` derives the expected detection and resolve times from the catalog and these
intervals, so the tests can report measured figures next to what the windows promise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reliability.alerting.checks import apply_config
from reliability.alerting.generate import render_config
from reliability.alerting.routing import parse_routing
from reliability.durations import Duration
from reliability.slo import naming
from reliability.slo.compile import compile_paths
from reliability.slo.generators.rules import threshold
from reliability.slo.model import SLO
from reliability.slo.windows import WindowCatalog

from ..alertmanager_proc import Alertmanager, alertmanager_cluster
from ..prom import Prometheus
from .processes import SyntheticService, WebhookSink, wait_until

E2E = Path(__file__).resolve().parent
SPEC = E2E / "specs" / "synthetic-api.yaml"
WINDOWS = E2E / "windows"

SCRAPE_INTERVAL = 1.0  # seconds; the catalog's shortest window (5s) holds five samples
EVALUATION_INTERVAL = 1.0
# --rules.alert.resend-delay: Prometheus re-sends a firing alert this often and gives it
# endsAt = now + 4 x this (rules/alerting.go sendAlerts), the lease that keeps it alive in
# Alertmanager while Prometheus is away. 1m in production; 5s here, not 1s: the lease must
# outlast a restart plus the notifier's first Alertmanager discovery, which takes up to 5s
# (discovery/manager.go updatert) and drops what fires before it.
RESEND_DELAY = 5.0
DISCOVERY_DELAY = 5.0
# Alertmanager timing, production's (reliability/alerting/routing.py TIMING: pages 30s/5m/1h,
# tickets 5m/30m/24h) compressed. Repeats stay long: within a test, a second firing
# notification must mean a new incident or a duplicate, never a routine reminder.
TIMING = {
    "page": {"groupWait": "1s", "groupInterval": "2s", "repeatInterval": "1h"},
    "ticket": {"groupWait": "5s", "groupInterval": "5s", "repeatInterval": "1h"},
    "heartbeat": {"groupWait": "1s", "groupInterval": "2s", "repeatInterval": "1h"},
    "default": {"groupWait": "1s", "groupInterval": "2s", "repeatInterval": "1h"},
}
# --cluster.peer-timeout: the instance at cluster position n waits n x this before it
# notifies, so the others see position 0's notification in the gossiped log. 15s in
# production; 3s here is still ~60 gossip rounds (the helper gossips every 50ms).
PEER_TIMEOUT = 3.0
# How much later than predicted a measured time may be. Each prediction already counts the
# worst phase of every timed step (a full scrape, a full evaluation, group_wait or
# group_interval). What it cannot count is a busy machine (3 suites on 2 cores): a scrape
# that lands just after the evaluation that should have seen it costs one more evaluation,
# a late scrape one more scrape interval; the hops between the processes (Prometheus's
# notifier, Alertmanager's dispatcher and gossip, the sink's HTTP thread) take milliseconds
# when idle, under load together up to about 2 s. So one more scrape and one more
# evaluation, plus 2 s: a page predicted at 3.9 s must arrive within 7.9 s.
SLACK = SCRAPE_INTERVAL + EVALUATION_INTERVAL + 2.0
TEAM = "storefront"
PAGE, TICKET = f"{TEAM}-page", f"{TEAM}-ticket"


def seconds(duration: str) -> float:
    return Duration.parse(duration).seconds


def routing_config(sink: WebhookSink) -> dict[str, Any]:
    """`reliability:alerting` as a stack would set it, every receiver a webhook to the sink."""
    return {
        "teams": {TEAM: {"page": {"webhook": {"url": sink.url(PAGE)}},
                         "ticket": {"webhook": {"url": sink.url(TICKET)}}}},
        "catchAll": {"webhook": {"url": sink.url("catch-all")}},
        "heartbeat": {"webhook": {"url": sink.url("heartbeat")}},
        "timing": TIMING,
    }


def alertmanager_yaml(sink: WebhookSink, **timing: dict[str, str]) -> str:
    routing, problems = parse_routing({**routing_config(sink), "timing": TIMING | timing}, "prod")
    assert problems == [], problems
    return render_config(routing)


def compile_rules(out: Path) -> tuple[SLO, WindowCatalog, Path]:
    result, output = compile_paths([str(SPEC)], windows=[str(WINDOWS)])
    assert output is not None, "\n".join(str(p) for p in result.problems.errors)
    (service,) = result.services
    (slo,) = service.slos
    rules = out / "rules.yaml"
    rules.write_text(output.files[f"rules/{naming.slug(service.name)}.yaml"])
    return slo, result.catalogs[slo.period], rules


def prometheus_yaml(rules: Path, target: str, alertmanagers: list[Alertmanager]) -> str:
    return yaml.safe_dump({
        "global": {"scrape_interval": f"{SCRAPE_INTERVAL:g}s", "scrape_timeout": f"{SCRAPE_INTERVAL:g}s",
                   "evaluation_interval": f"{EVALUATION_INTERVAL:g}s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "synthetic-api", "static_configs": [{"targets": [target]}]}],
        "alerting": {"alertmanagers": [{"api_version": "v2", "static_configs": [
            {"targets": [am.url.removeprefix("http://") for am in alertmanagers]}]}]},
    }, sort_keys=False)


@dataclass(frozen=True)
class Prediction:
    detection: float  # outage start -> page notification, seconds, upper bound
    resolve: float  # recovery -> resolved notification
    detection_why: str
    resolve_why: str


def predict(slo: SLO, catalog: WindowCatalog, error_ratio: float = 1.0) -> Prediction:
    """What the page windows promise for an outage at `error_ratio` on uniform traffic.

    Detection: a window of length W holds an error ratio of e*t/W after t seconds of
    outage, so a clause (long L and short S, threshold th = burn rate x budget) holds
    once t > th/e x L; the fastest clause decides. Then the errors wait for a scrape,
    the rules for an evaluation, and the page group for its group_wait.
    Resolve: after recovery a clause holds while its short window still has more than
    th of errors, (1 - th/e) x S; the page resolves when the slowest clause clears, is
    seen at the next scrape and evaluation, and Alertmanager sends the resolved
    notification at the group's next group_interval.
    """
    page = catalog.by_severity("page")
    limits = [(w, float(threshold(slo, w.burn_rate)) / error_ratio) for w in page]
    fast_w, fast_th = min(((w, th) for w, th in limits if th < 1), key=lambda x: x[1] * x[0].long.seconds)
    slow_w, slow_th = max(limits, key=lambda x: (1 - x[1]) * x[0].short.seconds)
    wait, interval = seconds(TIMING["page"]["groupWait"]), seconds(TIMING["page"]["groupInterval"])
    crossing = fast_th * fast_w.long.seconds
    clearing = (1 - slow_th) * slow_w.short.seconds
    latency = SCRAPE_INTERVAL + EVALUATION_INTERVAL
    return Prediction(
        detection=crossing + latency + wait,
        resolve=clearing + latency + interval,
        detection_why=f"{fast_th:g} x {fast_w.long} window = {crossing:.2f}s + scrape {SCRAPE_INTERVAL:g}s "
                      f"+ evaluation {EVALUATION_INTERVAL:g}s + group_wait {wait:g}s",
        resolve_why=f"(1 - {slow_th:g}) x {slow_w.short} short window = {clearing:.2f}s + scrape "
                    f"{SCRAPE_INTERVAL:g}s + evaluation {EVALUATION_INTERVAL:g}s + group_interval {interval:g}s",
    )


@dataclass
class Pipeline:
    service: SyntheticService
    sink: WebhookSink
    prometheus: Prometheus
    alertmanagers: list[Alertmanager]
    am_config: Path
    slo: SLO
    catalog: WindowCatalog
    prediction: Prediction

    @property
    def alertname(self) -> str:
        return self.slo.alerting.name

    def live_alertmanagers(self) -> list[Alertmanager]:
        return [am for am in self.alertmanagers if am.process.poll() is None]

    def wait_healthy(self, timeout: float = 30) -> None:
        """Every window the page reads has data and reads 0, no alert is active, both Alertmanagers are known."""
        windows = sorted({d for w in self.catalog.by_severity("page") for d in (w.long, w.short)})
        selector = f'{{service="{self.slo.service}",slo="{self.slo.name}"}}'

        def healthy() -> bool:
            for window in windows:
                result = self.prometheus.query(naming.error_ratio(window) + selector)
                if len(result) != 1 or float(result[0]["value"][1]) != 0:
                    return False
            return (not self.prometheus.alerts()
                    and len(self.prometheus.api("alertmanagers")["activeAlertmanagers"]) == len(self.alertmanagers))

        wait_until(healthy, timeout, "the SLI windows to read 0 with no alert")
        assert self.sink.notifications == [], [str(n) for n in self.sink.notifications]

    def firing_in_prometheus(self, severity: str) -> dict[str, Any] | None:
        alerts = self.prometheus.alerts(alertname=self.alertname, severity=severity)
        return next((a for a in alerts if a["state"] == "firing"), None)

    def in_alertmanager(self, am: Alertmanager, severity: str) -> dict[str, Any] | None:
        return next(iter(am.alerts(alertname=self.alertname, severity=severity)), None)


@contextmanager
def pipeline(tmp: Path) -> Iterator[Pipeline]:
    """Start everything; stop everything on the way out, also when the test failed."""
    slo, catalog, rules = compile_rules(tmp)
    with ExitStack() as stack:
        sink = WebhookSink()
        stack.callback(sink.close)
        service = SyntheticService()
        stack.callback(service.close)
        am_config = tmp / "alertmanager.yaml"
        apply_config(alertmanager_yaml(sink), am_config, [])  # checked and written; nothing runs yet
        alertmanagers = stack.enter_context(
            alertmanager_cluster(am_config, tmp / "alertmanager", size=2, peer_timeout=f"{PEER_TIMEOUT:g}s"))
        prom_config = tmp / "prometheus.yaml"
        prom_config.write_text(prometheus_yaml(rules, service.target, alertmanagers))
        prometheus = Prometheus(prom_config, tmp / "prometheus", f"--rules.alert.resend-delay={RESEND_DELAY:g}s")
        stack.callback(prometheus.close)
        yield Pipeline(service, sink, prometheus, alertmanagers, am_config, slo, catalog, predict(slo, catalog))
