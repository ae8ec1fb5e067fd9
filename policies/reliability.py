"""Reliability policies: HA in prod, stateful storage kept, retention floors, pinned charts, chaos scope."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._common import (
    UNKNOWN,
    Path,
    Report,
    chart_name,
    cite,
    environment,
    fmt_number,
    fmt_path,
    get,
    helm_values,
    is_helm,
    is_unknown,
    items,
    k8s_group,
    k8s_kind,
    labels_and_name,
    listing,
    mapping,
    namespace_of,
    number,
    schema,
    seconds,
    settings,
    string_list,
    walk,
    words,
)

# ================================================================== HA replicas in prod

_HA_SCHEMA = schema(
    {
        "minReplicas": {"type": "integer", "minimum": 1, "default": 2, "description": "Replicas each needs."},
        "environments": string_list(
            default=["prod"],
            description="Environments (stack names) that must run Prometheus, Alertmanager, Thanos query and "
            "store gateway, and Loki HA.",
        ),
    }
)
# chart -> (what, path to the replica count, path to the component's on/off switch); chart defaults are 1.
_CHART_REPLICAS: dict[str, list[tuple[str, Path, Path | None]]] = {
    "kube-prometheus-stack": [
        ("Prometheus", ("prometheus", "prometheusSpec", "replicas"), ("prometheus", "enabled")),
        ("Alertmanager", ("alertmanager", "alertmanagerSpec", "replicas"), ("alertmanager", "enabled")),
    ],
    "thanos": [("Thanos query", ("query", "replicas"), ("query", "enabled")),
               ("Thanos store gateway", ("storeGateway", "replicas"), ("storeGateway", "enabled"))],
    "prometheus": [("Prometheus", ("server", "replicaCount"), None)],
    "alertmanager": [("Alertmanager", ("replicaCount",), None)],
}
# Loki's replicas live where its deploymentMode puts them (Distributed is left to its own sizing).
_LOKI_REPLICAS: dict[str, list[Path]] = {
    "Monolithic": [("singleBinary", "replicas")],
    "SingleBinary": [("singleBinary", "replicas")],
    "SimpleScalable": [("read", "replicas"), ("write", "replicas"), ("backend", "replicas")],
}


def _replicas_from_values(values: Any, path: Path) -> tuple[Any, Path]:
    """The replica count at `path`, or the HPA's minReplicas beside it when autoscaling is on."""
    parent = path[:-1]
    if get(values, *parent, "autoscaling", "enabled") is True:
        where = (*parent, "autoscaling", "minReplicas")
        return get(values, *where, default=1, unknown=UNKNOWN), where
    return get(values, *path, unknown=UNKNOWN), path


def _ha_findings(args: ResourceValidationArgs) -> Iterator[tuple[str, Any, str]]:
    """(what, replicas, where) for every Prometheus, Alertmanager, Thanos query/store and Loki the resource runs."""
    props = args.props
    if is_helm(args.resource_type):
        values = helm_values(props)
        for what, path, switch in _CHART_REPLICAS.get(chart_name(props), []):
            if switch is not None and get(values, *switch) is False:
                continue
            replicas, where = _replicas_from_values(values, path)
            yield what, replicas, f"values.{fmt_path(where)}"
        if chart_name(props) == "loki":
            mode = get(values, "deploymentMode", default="Monolithic", unknown=UNKNOWN)
            for path in _LOKI_REPLICAS.get(mode, []) if isinstance(mode, str) else []:
                replicas, where = _replicas_from_values(values, path)
                yield "Loki", replicas, f"values.{fmt_path(where)}"
        return
    kind = k8s_kind(args.resource_type)
    if k8s_group(args.resource_type) == "monitoring.coreos.com" and kind in ("Prometheus", "Alertmanager"):
        yield kind, get(props, "spec", "replicas", unknown=UNKNOWN), "spec.replicas"
    elif kind in ("Deployment", "StatefulSet") and {"thanos", "query"} <= labels_and_name(props):
        yield "Thanos query", get(props, "spec", "replicas", unknown=UNKNOWN), "spec.replicas"


def _validate_ha(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _HA_SCHEMA)
    env = environment(args.urn)
    if env not in cfg["environments"]:
        return
    for what, replicas, where in _ha_findings(args):
        if replicas is UNKNOWN:
            continue
        count = 1.0 if replicas is None else number(replicas)
        if count is not None and count >= cfg["minReplicas"]:
            continue
        shown = (f"{fmt_number(count) if count is not None else repr(replicas)} replica(s)" if replicas is not None
                 else "1 replica (not set: chart default)")
        report(f"{what} runs {shown} in {env} ({where}); {env} needs at least {cfg['minReplicas']}")


prod_ha_replicas = ResourceValidationPolicy(
    name="prod-ha-replicas",
    description="Prod runs at least 2 replicas of Prometheus, Alertmanager, Thanos query and store gateway, and "
    "Loki (Helm values and plain objects).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_ha,
    config_schema=_HA_SCHEMA,
)

# ================================================================== stateful storage kept

_STATEFUL_SCHEMA = schema(
    {
        "environments": string_list(
            default=["staging", "prod"],
            description="Environments whose stateful storage must be protected and retained on delete.",
        ),
        "statefulTypes": string_list(
            default=[
                "aws:s3/bucket:Bucket",
                "aws:s3/bucketV2:BucketV2",
                "aws:ebs/volume:Volume",
                "aws:efs/fileSystem:FileSystem",
                "aws:rds/instance:Instance",
                "aws:rds/cluster:Cluster",
                "aws:dynamodb/table:Table",
                "kubernetes:core/v1:PersistentVolumeClaim",
                "kubernetes:core/v1:PersistentVolume",
            ],
            description="Resource types that hold data.",
        ),
        "persistentValues": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
            "default": {
                "kube-prometheus-stack": {
                    "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate": "Prometheus",
                    "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate": "Alertmanager",
                },
                "loki": {"singleBinary.persistence.enabled": "Loki"},
                "tempo": {"persistence.enabled": "Tempo"},
            },
            "description": "Chart -> values path that gives a workload a persistent volume -> the workload "
            "(skipped where it is switched off); unset or false means its data lives on an emptyDir.",
        },
    }
)


def _switched_off(values: Any, path: Path) -> bool:
    """A component on the way to `path` is disabled (`enabled: false`) or runs no pod (`replicas: 0`)."""
    for end in range(len(path)):
        here = path[:end]
        if ((*here, "enabled") != path and get(values, *here, "enabled") is False) \
                or get(values, *here, "replicas") == 0:
            return True
    return False


def _deletes_volumes(values: Any) -> str | None:
    """Where Helm values make a StatefulSet delete its PVCs with it.

    persistentVolumeClaimRetentionPolicy itself, or a chart's own switch for it: Loki's and Tempo's
    `enableStatefulSetAutoDeletePVC` (Tempo's always deletes on both; Loki's with `whenDeleted` and
    `whenScaled`, Delete when unset) and stevehipwell/thanos' `retainDeleted`/`retainScaled: false`.
    """
    for path, node in walk(values):
        if path and path[-1] == "persistentVolumeClaimRetentionPolicy":
            for key in ("whenDeleted", "whenScaled"):
                if get(node, key) == "Delete":
                    return f"values.{fmt_path((*path, key))} is Delete"
        if get(node, "enableStatefulSetAutoDeletePVC") is True:
            for key in ("whenDeleted", "whenScaled"):
                if get(node, key) in (None, "Delete"):
                    switch = fmt_path((*path, "enableStatefulSetAutoDeletePVC"))
                    return f"values.{switch} is true and {key} is {get(node, key) or 'not Retain'}"
        for key in ("retainDeleted", "retainScaled"):
            if get(node, key) is False:
                return f"values.{fmt_path((*path, key))} is false"
    return None


def _validate_stateful(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _STATEFUL_SCHEMA)
    env = environment(args.urn)
    if env not in cfg["environments"]:
        return
    if is_helm(args.resource_type) and get(args.props, "values", unknown=UNKNOWN) is not UNKNOWN:
        values = helm_values(args.props)
        for dotted, what in sorted(mapping(cfg["persistentValues"].get(chart_name(args.props))).items()):
            path = tuple(dotted.split("."))
            value = get(values, *path, unknown=UNKNOWN)
            if not _switched_off(values, path) and value in (None, False, {}):
                state = "false" if value is False else "not set"
                report(f"{what} keeps its data on an emptyDir in {env} (values.{dotted} is {state}): a restart "
                       "or reschedule loses it; give it a persistent volume")
    reason, deletes_volumes = None, False
    if args.resource_type in cfg["statefulTypes"]:
        reason = "stateful storage"
    elif is_helm(args.resource_type):
        deletes = _deletes_volumes(helm_values(args.props))
        reason = f"a release whose volumes are deleted with it ({deletes})" if deletes else None
        deletes_volumes = deletes is not None
    if reason is None:
        return
    if args.resource_type.startswith("aws:s3/bucket") and get(args.props, "forceDestroy") is True:
        report(f"a bucket in {env} with forceDestroy: `pulumi destroy` would delete every object in it; "
               "force-destroy only unprotected environments (dev)")
    missing = []
    if not getattr(args.opts, "protect", False):
        missing.append("protect")
    # The engine does not hand retainOnDelete to policy packs; the offline check does (from `sre render`).
    if getattr(args.opts, "retain_on_delete", None) is False:
        missing.append("retainOnDelete")
    if missing and deletes_volumes:
        report(f"{reason} in {env} without {' and '.join(missing)}: keep the claims (Retain), or protect the "
               "release (ResourceOptions(protect=True, retain_on_delete=True))")
    elif missing:
        report(f"{reason} in {env} without {' and '.join(missing)}: set "
               "ResourceOptions(protect=True, retain_on_delete=True) so a delete or replace keeps the data")


stateful_storage_retained = ResourceValidationPolicy(
    name="stateful-storage-retained",
    description="In staging and prod, stateful storage (buckets, volumes, PVCs) is protected and retained on delete, "
    "and Prometheus, Alertmanager, Loki and Tempo get persistent volumes.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_stateful,
    config_schema=_STATEFUL_SCHEMA,
)

# ================================================================== retention floors

_KINDS = ("prometheus", "metricsRaw", "metrics5m", "metrics1h", "logs", "traces")
_RETENTION_SCHEMA = schema(
    {
        "minimums": {
            "type": "object",
            "description": "Per environment, the shortest retention allowed (Prometheus durations): prometheus "
            "(local TSDB), metricsRaw/metrics5m/metrics1h (Thanos compactor), logs (Loki), traces (Tempo). "
            "S3 lifecycle expiry of a bucket must not be shorter than its data's longest retention.",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "string"},
            },
            "default": {
                "local": {k: "1d" for k in _KINDS},
                "dev": {"prometheus": "1d", "metricsRaw": "7d", "metrics5m": "7d", "metrics1h": "7d",
                        "logs": "7d", "traces": "3d"},
                # SLO rules run in Prometheus: the 30-day error budget needs 30 days of local history.
                "staging": {"prometheus": "30d", "metricsRaw": "14d", "metrics5m": "90d", "metrics1h": "180d",
                            "logs": "14d", "traces": "7d"},
                "prod": {"prometheus": "30d", "metricsRaw": "30d", "metrics5m": "365d", "metrics1h": "365d",
                         "logs": "30d", "traces": "14d"},
            },
        }
    }
)
_THANOS_FLAG = re.compile(r"^--retention\.resolution-(raw|5m|1h)=(\S+)$")
_THANOS_KEYS = {"retentionResolutionRaw": "metricsRaw", "retentionResolution5m": "metrics5m",
                "retentionResolution1h": "metrics1h"}
_LABELS = {"prometheus": "Prometheus samples", "metricsRaw": "raw metrics", "metrics5m": "5m-downsampled metrics",
           "metrics1h": "1h-downsampled metrics", "logs": "logs", "traces": "traces"}
# A retention of 0 means "keep forever" for Thanos and Loki.
_FOREVER = {"metricsRaw", "metrics5m", "metrics1h", "logs"}


def _retention_settings(args: ResourceValidationArgs) -> Iterator[tuple[str, Any, str]]:
    """(kind, duration text, where) for every retention the resource sets."""
    props = args.props
    kind = k8s_kind(args.resource_type)
    if is_helm(args.resource_type):
        values = helm_values(props)
        chart = chart_name(props)
        for path, value in walk(values):
            where = f"values.{fmt_path(path)}"
            key = path[-1] if path else None
            if isinstance(value, str) and (flag := _THANOS_FLAG.match(value.strip())):
                yield {"raw": "metricsRaw", "5m": "metrics5m", "1h": "metrics1h"}[flag[1]], flag[2], where
            elif key in _THANOS_KEYS:
                yield _THANOS_KEYS[key], value, where
            elif key == "retention" and len(path) >= 2 and path[-2] == "prometheusSpec":
                yield "prometheus", value, where
            elif key == "retention_period" and len(path) >= 2 and path[-2] == "limits_config":
                yield "logs", value, where
            elif key == "block_retention" or (key == "retention" and path[:-1] == ("tempo",) and "tempo" in chart):
                yield "traces", value, where
    elif kind == "Prometheus" and k8s_group(args.resource_type) == "monitoring.coreos.com":
        yield "prometheus", get(props, "spec", "retention"), "spec.retention"
    elif args.resource_type.startswith("aws:s3/bucketLifecycleConfiguration"):
        bucket = get(props, "bucket")
        names = words(bucket) if isinstance(bucket, str) else set()
        data = ("metrics" if names & {"thanos", "metrics", "prometheus", "mimir", "cortex"}
                else "logs" if names & {"loki", "logs"} else "traces" if names & {"tempo", "traces"} else None)
        if data is None:
            return
        for index, rule in enumerate(listing(get(props, "rules"))):
            if get(rule, "status", default="Enabled") != "Enabled":
                continue
            days = get(rule, "expiration", "days")
            if days is not None:
                yield f"bucket:{data}", days, f"rules[{index}].expiration.days"


def _validate_retention(args: ResourceValidationArgs, report: Report) -> None:
    cfg = settings(args, _RETENTION_SCHEMA)
    env = environment(args.urn)
    floors = mapping(get(cfg["minimums"], env))
    for kind, value, where in _retention_settings(args):
        if is_unknown(value):
            continue
        actual = seconds(value)
        if actual is None:
            if value is not None:
                report(f"{where} is '{value}', not a duration")
            continue
        if kind.startswith("bucket:"):
            data = kind.split(":", 1)[1]
            kinds = ["metricsRaw", "metrics5m", "metrics1h"] if data == "metrics" else [data]
            wanted = [(k, floors.get(k)) for k in kinds if seconds(floors.get(k)) is not None]
            if not wanted:
                continue
            floor_kind, floor = max(wanted, key=lambda kv: seconds(kv[1]) or 0)
            if actual < (seconds(floor) or 0):
                days = fmt_number(actual / 86400)
                report(f"{where} expires {data} objects after {days} day(s), before the {env} minimum "
                       f"retention of {_LABELS[floor_kind]} ({floor})")
            continue
        floor = floors.get(kind)
        minimum = seconds(floor)
        if minimum is None or (actual == 0 and kind in _FOREVER):
            continue
        if actual < minimum:
            report(f"{where} keeps {_LABELS[kind]} for {value}, below the {env} minimum of {floor}")


retention_minimums = ResourceValidationPolicy(
    name="retention-minimums",
    description="Metrics, logs and traces are kept at least as long as the environment's minimum "
    "(Helm values, Prometheus objects, S3 lifecycle rules).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_retention,
    config_schema=_RETENTION_SCHEMA,
)

# ================================================================== chart versions pinned

_PIN_SCHEMA = schema(
    {
        "allowLocalCharts": {
            "type": "boolean",
            "default": True,
            "description": "Charts from a local path (./chart, /abs/chart) need no version.",
        }
    }
)
# SemVer 2.0.0 (semver.org), optional leading v: nothing that Helm would read as a range. A single
# leading `=` is Helm's equality constraint (Masterminds semver, which `helm --version` and the OCI tag
# lookup use): `=1.24.1` selects exactly 1.24.1, so it is a pin too.
_EXACT = re.compile(
    r"^=?v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def _validate_pinned(args: ResourceValidationArgs, report: Report) -> None:
    if not is_helm(args.resource_type):
        return
    cfg = settings(args, _PIN_SCHEMA)
    chart = get(args.props, "chart")
    if cfg["allowLocalCharts"] and isinstance(chart, str) and chart.startswith((".", "/", "file://")):
        return
    version = get(args.props, "version", unknown=UNKNOWN)
    if version is UNKNOWN:
        return
    name = chart_name(args.props) or "the chart"
    if version in (None, ""):
        report(f"{cite('RAC Helm.Pinned')} {name} has no version: Helm installs whatever is newest; pin an exact "
               "version (e.g. 1.2.3)")
    elif not isinstance(version, str) or not _EXACT.match(version.strip()):
        report(f"{cite('RAC Helm.Pinned')} {name} version '{version}' is not an exact version (a range or wildcard): "
               "pin one, e.g. 1.2.3")


chart_version_pinned = ResourceValidationPolicy(
    name="chart-version-pinned",
    description="Every Helm chart is pinned to an exact version (1.2.3 or =1.2.3; no ^, ~, >=, x, * or empty).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_pinned,
    config_schema=_PIN_SCHEMA,
)

# ================================================================== every chart readable by the pack

_V4_CHART = "kubernetes:helm.sh/v4:Chart"
_READABLE_SCHEMA = schema(
    {
        "exemptCharts": string_list(
            default=[],
            description="Names of helm.v4.Chart resources left unread on purpose (the pack then checks only "
            "the objects they render).",
        ),
    }
)


def _validate_charts_readable(args: StackValidationArgs, report: Report) -> None:
    """A helm.v4.Chart reaches the pack with no properties (seen with the real engine), so the pin,
    values and Grafana policies read its inputs from the reliability:helm:Chart of the same name
    that components/helm.py chart() registers beside it. One created another way goes unread."""
    recorded = {r.name for r in args.resources if r.resource_type == "reliability:helm:Chart"}
    recorded |= set(settings(args, _READABLE_SCHEMA)["exemptCharts"])
    for resource in args.resources:
        if resource.resource_type == _V4_CHART and resource.name not in recorded:
            report(f"helm.v4.Chart '{resource.name}' was created without components/helm.py chart(): the engine "
                   "hands the policy pack a v4 Chart without its inputs, so its version pin and values go "
                   "unchecked; create it with components.helm.chart(...), which records them beside it",
                   resource.urn)


helm_charts_readable = StackValidationPolicy(
    name="helm-charts-readable",
    description="Every helm.v4.Chart has its inputs recorded beside it (components/helm.py chart()), so the "
    "chart policies can read them.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_charts_readable,
    config_schema=_READABLE_SCHEMA,
)

# ================================================================== chaos experiments in scope

_CHAOS_SCHEMA = schema(
    {
        "forbiddenNamespaces": string_list(
            default=["kube-system", "monitoring"],
            description="Namespaces no chaos experiment may target (the control plane's and the monitoring "
            "that must see the chaos).",
        ),
        "allowedNamespaces": string_list(
            default=[],
            description="If not empty, the only namespaces experiments may target.",
        ),
        "prodAllowList": string_list(
            default=[],
            description="`namespace/name` of the chaos experiments allowed in prod (none by default).",
        ),
        "prodEnvironments": string_list(
            default=["prod"],
            description="Environments where only allow-listed experiments run.",
        ),
    }
)


# Objects that run experiments besides the *Chaos kinds themselves.
_CHAOS_RUNNERS = ("Schedule", "Workflow")


def _chaos_targets(props: Any) -> Iterator[tuple[str, str]]:
    """(namespace, where) for every pod selector in a Chaos Mesh object (experiments, Schedules, Workflows).

    A selector without namespaces targets the object's own namespace (chaos-mesh api/v1alpha1/selector.go,
    PodSelectorSpec.DefaultNamespace).
    """
    own = namespace_of(props)
    for path, node in walk(get(props, "spec")):
        if not path or path[-1] != "selector" or not isinstance(node, Mapping):
            continue
        where = "spec." + fmt_path(path)
        namespaces = [ns for ns in listing(get(node, "namespaces")) if isinstance(ns, str)]
        pods = [ns for ns, _ in items(get(node, "pods")) if isinstance(ns, str)]
        for ns in namespaces:
            yield ns, f"{where}.namespaces"
        for ns in pods:
            yield ns, f"{where}.pods"
        if not namespaces:
            yield own, f"{where} (no namespaces: the experiment's own namespace)"


def _validate_chaos(args: ResourceValidationArgs, report: Report) -> None:
    kind = k8s_kind(args.resource_type) or ""
    if k8s_group(args.resource_type) != "chaos-mesh.org" or not (kind.endswith("Chaos") or kind in _CHAOS_RUNNERS):
        return
    cfg = settings(args, _CHAOS_SCHEMA)
    env = environment(args.urn)
    reported = set()
    for ns, where in _chaos_targets(args.props):
        if (ns, where) in reported:
            continue
        reported.add((ns, where))
        if ns in cfg["forbiddenNamespaces"]:
            report(f"{where} targets namespace {ns}, which chaos experiments must never touch")
        elif cfg["allowedNamespaces"] and ns not in cfg["allowedNamespaces"]:
            report(f"{where} targets namespace {ns}, not one of allowedNamespaces "
                   f"({', '.join(cfg['allowedNamespaces'])})")
    if env in cfg["prodEnvironments"]:
        key = f"{namespace_of(args.props)}/{get(args.props, 'metadata', 'name')}"
        if key not in cfg["prodAllowList"]:
            report(f"chaos experiment {key} in {env} is not in prodAllowList: add it there to run it in {env}")


chaos_experiment_scope = ResourceValidationPolicy(
    name="chaos-experiment-scope",
    description="Chaos Mesh experiments never target kube-system or monitoring, and run in prod only when "
    "allow-listed.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_chaos,
    config_schema=_CHAOS_SCHEMA,
)

_OPT_IN_SCHEMA = schema(
    {
        "charts": string_list(
            default=["chaos-mesh"],
            description="Names of the charts that install Chaos Mesh (add a mirror's or a fork's name).",
        ),
    }
)


def _validate_chaos_opt_in(args: ResourceValidationArgs, report: Report) -> None:
    if not is_helm(args.resource_type):
        return
    if chart_name(args.props) not in settings(args, _OPT_IN_SCHEMA)["charts"]:
        return
    values = helm_values(args.props)
    enabled = get(values, "controllerManager", "enableFilterNamespace", unknown=UNKNOWN)
    if enabled is UNKNOWN:
        return
    if enabled is not True:
        report("chaos-mesh: set controllerManager.enableFilterNamespace: true, so chaos runs only in namespaces "
               "annotated chaos-mesh.org/inject=enabled (the chart's default lets it reach every namespace)")


chaos_namespace_opt_in = ResourceValidationPolicy(
    name="chaos-namespace-opt-in",
    description="Chaos Mesh injects chaos only into namespaces that opt in (controllerManager."
    "enableFilterNamespace with the chaos-mesh.org/inject=enabled annotation).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_chaos_opt_in,
    config_schema=_OPT_IN_SCHEMA,
)

# ================================================================== resources in the Helm values we set

# chart -> the `resources` blocks of its main workloads: removing one leaves the chart's default,
# which for these charts is no requests and no limits at all.
_REQUIRED_RESOURCE_BLOCKS = {
    "kube-prometheus-stack": ["prometheus.prometheusSpec.resources", "alertmanager.alertmanagerSpec.resources",
                              "prometheusOperator.resources"],
    "thanos": ["query.resources", "storeGateway.resources", "compact.resources"],
    "loki": ["singleBinary.resources"],
    "tempo": ["tempo.resources"],
    "grafana": ["resources"],
    "opentelemetry-collector": ["resources"],
    "chaos-mesh": ["controllerManager.resources", "chaosDaemon.resources"],
    "k6-operator": ["manager.resources"],
}

_VALUES_RESOURCES_SCHEMA = schema(
    {
        "requireCpuLimit": {
            "type": "boolean",
            "default": False,
            "description": "Also require limits.cpu in each `resources` block of Helm values.",
        },
        "requiredBlocks": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": _REQUIRED_RESOURCE_BLOCKS,
            "description": "Chart -> dotted values paths of `resources` blocks that must be set (skipped where "
            "that component is switched off: enabled false or replicas 0 on the way).",
        },
    }
)


def _validate_values_resources(args: ResourceValidationArgs, report: Report) -> None:
    if not is_helm(args.resource_type):
        return
    cfg = settings(args, _VALUES_RESOURCES_SCHEMA)
    required = [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")]
    if cfg["requireCpuLimit"]:
        required.append(("limits", "cpu"))
    values = helm_values(args.props)
    for dotted in cfg["requiredBlocks"].get(chart_name(args.props), []):
        path = tuple(dotted.split("."))
        if get(args.props, "values", unknown=UNKNOWN) is not UNKNOWN and not _switched_off(values, path) \
                and get(values, *path, unknown=UNKNOWN) is None:
            report(f"values.{dotted} is not set: the chart's default runs that container without requests "
                   "or limits; set cpu/memory requests and a memory limit")
    for path, node in walk(values):
        if not path or path[-1] != "resources" or not isinstance(node, Mapping):
            continue
        blocks = [mapping(get(node, "requests")), mapping(get(node, "limits"))]
        if any("storage" in block for block in blocks):
            continue  # a PVC's size, not a container's
        missing = [f"{a}.{b}" for a, b in required if get(node, a, b, unknown=UNKNOWN) in (None, "")]
        if missing:
            report(f"values.{fmt_path(path)} sets no {', '.join(missing)}")


helm_values_resources = ResourceValidationPolicy(
    name="helm-values-resources",
    description="The main workloads of each chart get a `resources` block in Helm values, and every `resources` "
    "block there has CPU/memory requests and a memory limit.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_values_resources,
    config_schema=_VALUES_RESOURCES_SCHEMA,
)

POLICIES = [
    prod_ha_replicas,
    stateful_storage_retained,
    retention_minimums,
    chart_version_pinned,
    helm_charts_readable,
    chaos_experiment_scope,
    chaos_namespace_opt_in,
    helm_values_resources,
]
