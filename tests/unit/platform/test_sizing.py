"""local fits a 4-CPU / 8-GiB kind cluster: all requests together <= 3 CPU and <= 6 GiB.

Requests are read from the rendered Helm values, per workload times its replicas
(a DaemonSet counts once: kind runs one node). A test also fails if a `resources`
block appears in the values that this table does not count, so a new workload
cannot slip past the budget.
"""

from __future__ import annotations

import re
from typing import Any

from ...conftest import REPO
from .conftest import helm_values, of_type

# chart -> (path to resources, path to replicas or a fixed count)
COUNTED: dict[str, list[tuple[str, Any]]] = {
    "kube-prometheus-stack": [
        ("prometheus.prometheusSpec.resources", "prometheus.prometheusSpec.replicas"),
        ("prometheus.prometheusSpec.thanos.resources", "prometheus.prometheusSpec.replicas"),
        ("alertmanager.alertmanagerSpec.resources", "alertmanager.alertmanagerSpec.replicas"),
        ("prometheusOperator.resources", 1),
        # one config-reloader sidecar per Prometheus and per Alertmanager pod
        ("prometheusOperator.prometheusConfigReloader.resources", "prometheus.prometheusSpec.replicas"),
        ("prometheusOperator.admissionWebhooks.patch.resources", 1),  # create and patch Jobs run one at a time
        ("prometheusOperator.prometheusConfigReloader.resources", "alertmanager.alertmanagerSpec.replicas"),
        ("kube-state-metrics.resources", 1),
        ("prometheus-node-exporter.resources", 1),
    ],
    "thanos": [("query.resources", "query.replicas")],
    "loki": [("singleBinary.resources", "singleBinary.replicas")],
    "tempo": [("tempo.resources", 1)],
    "opentelemetry-collector": [("resources", 1)],
    "grafana": [("resources", 1), ("sidecar.resources", 1)],
    "chaos-mesh": [
        ("controllerManager.resources", "controllerManager.replicaCount"),
        ("chaosDaemon.resources", 1),
        ("dashboard.resources", 1),
    ],
    "k6-operator": [("manager.resources", "manager.replicas")],
}


def get(values: dict, path: str) -> Any:
    for part in path.split("."):
        values = values[part]
    return values


def cpu(text: str) -> float:
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def mib(text: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", text).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def resource_paths(values: Any, path: str = "") -> set[str]:
    found = set()
    if isinstance(values, dict):
        for key, value in values.items():
            here = f"{path}.{key}" if path else key
            # a PVC's `resources.requests.storage` is disk, not a pod's CPU and memory
            if key == "resources" and isinstance(value, dict) and "cpu" in value.get("requests", {}):
                found.add(here)
            else:
                found |= resource_paths(value, here)
    return found


def local_requests() -> tuple[float, float]:
    total_cpu = total_mib = 0.0
    for release in of_type("local", "kubernetes:helm.sh/"):
        chart = release["inputs"]["chart"]
        values = helm_values("local", chart)
        for res_path, replicas in COUNTED.get(chart, []):
            count = replicas if isinstance(replicas, int) else get(values, replicas)
            requests = get(values, res_path)["requests"]
            total_cpu += cpu(requests["cpu"]) * count
            total_mib += mib(requests["memory"]) * count
    return total_cpu, total_mib


def test_every_resources_block_is_counted():
    for release in of_type("local", "kubernetes:helm.sh/"):
        chart = release["inputs"]["chart"]
        counted = {p for p, _ in COUNTED.get(chart, [])}
        assert resource_paths(helm_values("local", chart)) <= counted, chart


def test_local_fits_a_small_kind_cluster():
    total_cpu, total_mib = local_requests()
    assert 0.5 < total_cpu <= 3.0, total_cpu
    assert 1024 < total_mib <= 6 * 1024, total_mib


def test_prometheus_keeps_the_longest_slo_period_in_staging_and_prod() -> None:
    """SLO rules run in Prometheus: a 30-day error budget needs 30 days of its local history."""
    from components.program import defaults
    from components.slos import short_history
    from reliability.durations import Duration
    from reliability.slo.load import load

    services = load([str(REPO / "slo-specs")]).services
    longest = max(slo.period for service in services for slo in service.slos)
    for env in ("staging", "prod"):
        kept = defaults()[env]["retention"]["prometheus"]
        assert Duration.parse(kept) >= longest, env
        assert short_history(services, kept, env) is None
    # local and dev keep a short history on purpose (docs/operations.md): no warning on every run.
    for env in ("local", "dev"):
        kept = defaults()[env]["retention"]["prometheus"]
        assert Duration.parse(kept) < longest, env
        assert short_history(services, kept, env) is None


def test_the_short_history_warning_names_five_slos_and_counts_the_rest() -> None:
    from components.slos import short_history
    from reliability.slo.load import load

    services = load([str(REPO / "slo-specs")], env="prod").services
    assert short_history(services, "1d", "prod") == (
        "Prometheus in prod keeps 1d of history, so the error budget of 7 SLO(s) covers at most that: "
        "checkout-api/availability (30d), checkout-api/latency (30d), feature-flags/availability (7d), "
        "order-worker/freshness (7d), order-worker/processing (30d) and 2 more; "
        "raise retention.prometheus to the longest SLO period")
