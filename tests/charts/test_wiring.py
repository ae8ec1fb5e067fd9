"""Every pinned chart, rendered by the real `helm template` with the exact values each stack passes.

The assertions read the charts' own output, not our values: what the operator, Grafana,
the collector and Thanos will actually be configured with once the chart has turned our
values into objects. Each names the wiring a stack depends on; a chart upgrade or a values
change that silently breaks one fails here.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from components.grafana import DASHBOARD_LABEL, FOLDER_ANNOTATION, PASSWORD_ANNOTATION
from components.metrics import KPS
from reliability.alerting.routing import CONFIG_SECRET, CREDENTIALS_SECRET

from ..unit.platform.conftest import STACKS
from .stack import Stack, alertmanager_config, config, secret_string_data, stack

pytestmark = pytest.mark.cluster
CLOUD = ("dev", "staging", "prod")
IRSA = "eks.amazonaws.com/role-arn"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


# ------------------------------------------------------------------ Kubernetes semantics the checks need


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """metav1.LabelSelector semantics: matchLabels and every matchExpression must hold; {} selects all."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[op]
        if not ok:
            return False
    return True


def namespace_labels(st: Stack, name: str) -> dict[str, str]:
    """A namespace's labels as the API server holds them (it adds kubernetes.io/metadata.name)."""
    found = [ns for ns in st.of_kind("Namespace") if ns["metadata"]["name"] == name]
    labels = dict((found[0]["metadata"].get("labels") or {}) if found else {})
    return {**labels, "kubernetes.io/metadata.name": name}


def namespace_selected(st: Stack, selector: dict[str, Any] | None, own: str, namespace: str) -> bool:
    """prometheus-operator: a nil namespace selector means the resource's own namespace only."""
    if selector is None:
        return namespace == own
    return selects(selector, namespace_labels(st, namespace))


def service_port(st: Stack, host: str, port: int) -> dict[str, Any] | None:
    """The Service (and its port) a cluster DNS name and port reach, from the whole render."""
    parts = host.split(".")
    if len(parts) < 2 or (not host.endswith((".svc", ".svc.cluster.local")) and len(parts) != 2):
        return None
    name, namespace = parts[0], parts[1]
    for svc in st.of_kind("Service"):
        meta = svc["metadata"]
        if meta["name"] == name and meta.get("namespace") == namespace:
            for p in svc["spec"].get("ports") or []:
                if p["port"] == port:
                    return {"service": svc, "port": p}
    return None


def endpoint(url: str) -> tuple[str, int]:
    """host and port of `http://host:port/path` or `host:port`."""
    split = urlsplit(url if "://" in url else f"//{url}")
    assert split.hostname and split.port, f"{url}: no host and port"
    return split.hostname, split.port


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]


def workloads(st: Stack, chart: str | None = None) -> list[dict[str, Any]]:
    return [obj for kind in WORKLOADS for obj in st.of_kind(kind, chart)]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env") or []}


@pytest.fixture(scope="module", params=STACKS)
def st(request: pytest.FixtureRequest) -> Stack:
    return stack(request.param)


# ------------------------------------------------------------------ every chart renders


def test_every_chart_renders_with_our_values(st: Stack) -> None:
    installed = {r["inputs"]["chart"] for r in st.resources if r["type"].startswith("kubernetes:helm.sh/")}
    assert set(st.charts) == installed
    for chart, objects in st.charts.items():
        assert objects, f"{st.name}: {chart} renders nothing"
    names = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in st.objects
             if o.get("kind") != "CustomResourceDefinition"]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == [], f"{st.name}: objects created twice (program and chart, or two charts)"


def test_no_role_grants_nothing(st: Stack) -> None:
    """A Role or ClusterRole with `rules: []` is stored without `rules`: a diff on every preview."""
    empty = [f"{o['kind']}/{o['metadata']['name']}" for o in st.objects
             if o.get("kind") in ("Role", "ClusterRole") and not o.get("rules") and not o.get("aggregationRule")]
    assert empty == [], st.name


# ------------------------------------------------------------------ Prometheus and Alertmanager


def test_prometheus_selects_every_rule_and_monitor(st: Stack) -> None:
    (prom,) = st.of_kind("Prometheus", "kube-prometheus-stack")
    spec, own = prom["spec"], prom["metadata"]["namespace"]
    for kind, sel, ns_sel in (("PrometheusRule", "ruleSelector", "ruleNamespaceSelector"),
                              ("ServiceMonitor", "serviceMonitorSelector", "serviceMonitorNamespaceSelector"),
                              ("PodMonitor", "podMonitorSelector", "podMonitorNamespaceSelector")):
        objects = st.of_kind(kind)
        if kind == "PrometheusRule":
            assert any(o in st.program for o in objects), f"{st.name}: the program creates no PrometheusRule"
        for obj in objects:
            meta = obj["metadata"]
            where = f"{st.name}: {kind} {meta.get('namespace')}/{meta['name']}"
            assert selects(spec.get(sel), meta.get("labels") or {}), f"{where} not selected by {sel}"
            assert namespace_selected(st, spec.get(ns_sel), own, meta["namespace"]), f"{where}: {ns_sel}"


def test_alertmanager_reads_our_config_and_mounts_the_credentials(st: Stack) -> None:
    (am,) = st.of_kind("Alertmanager", "kube-prometheus-stack")
    ns = am["metadata"]["namespace"]
    assert am["spec"]["configSecret"] == CONFIG_SECRET
    secrets = {s["metadata"]["name"]: s for s in st.program if s["kind"] == "Secret" and s["metadata"]["namespace"] == ns}
    assert "alertmanager.yaml" in (secrets[CONFIG_SECRET].get("data") or secrets[CONFIG_SECRET].get("stringData"))
    assert CREDENTIALS_SECRET in am["spec"]["secrets"]
    # The operator mounts spec.secrets at /etc/alertmanager/secrets/<name>/: every credential file
    # our config names must be a key of a mounted Secret.
    text = json.dumps(alertmanager_config(st.name))
    for secret, key in re.findall(r"/etc/alertmanager/secrets/([^/\"]+)/([^\"]+)", text):
        assert secret in am["spec"]["secrets"], f"{st.name}: {secret} is not mounted"
        assert key in (secrets[secret].get("data") or secrets[secret].get("stringData") or {}), f"{secret}/{key}"
    # The chart's own config Secret is not rendered: ours is the only one.
    assert not [s for s in st.charts["kube-prometheus-stack"] if s["kind"] == "Secret"
                and s["metadata"]["name"].startswith("alertmanager-")]


def test_volume_claims_go_with_their_statefulsets_where_data_is_unprotected(st: Stack) -> None:
    """As the charts render it: every StatefulSet with claims, and the operator's Prometheus and
    Alertmanager (it copies the field into the StatefulSets it makes), deletes them with itself in
    local and dev and keeps them in staging and prod; `pulumi destroy` of dev leaves no EBS volume."""
    when_deleted = "Retain" if st.name in ("staging", "prod") else "Delete"
    claims = [o for o in st.of_kind("StatefulSet") if o["spec"].get("volumeClaimTemplates")]
    claims += [o for kind in ("Prometheus", "Alertmanager") for o in st.of_kind(kind)]
    assert {o["kind"] for o in claims} >= {"StatefulSet", "Prometheus", "Alertmanager"}
    for obj in claims:
        where = f"{st.name}: {obj['kind']} {obj['metadata']['name']}"
        policy = obj["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        assert policy.get("whenDeleted", "Retain") == when_deleted, where


# ------------------------------------------------------------------ Grafana


def grafana_deployment(st: Stack) -> dict[str, Any]:
    (deploy,) = st.of_kind("Deployment", "grafana")
    return deploy


def test_grafana_sidecar_loads_every_dashboard_configmap(st: Stack) -> None:
    pod = grafana_deployment(st)["spec"]["template"]["spec"]
    (sidecar,) = [c for c in containers(pod) if env_of(c).get("LABEL") == DASHBOARD_LABEL]
    env = env_of(sidecar)
    watched = env.get("NAMESPACE", "")
    dashboards = [cm for cm in st.of_kind("ConfigMap") if DASHBOARD_LABEL in (cm["metadata"].get("labels") or {})]
    assert any(cm in st.program for cm in dashboards) and any(cm not in st.program for cm in dashboards)
    for cm in dashboards:
        meta = cm["metadata"]
        where = f"{st.name}: ConfigMap {meta['namespace']}/{meta['name']}"
        if env.get("LABEL_VALUE"):
            assert meta["labels"][DASHBOARD_LABEL] == env["LABEL_VALUE"], where
        assert watched == "ALL" or meta["namespace"] in watched.split(","), where
        if cm in st.program:  # ours choose their folder; the chart's go to the default one
            assert env["FOLDER_ANNOTATION"] == FOLDER_ANNOTATION
            assert meta["annotations"][FOLDER_ANNOTATION], where


def test_grafana_applies_a_new_admin_password_before_it_starts(st: Stack) -> None:
    # The reset runs in the chart's own pod, on its own volumes and image, before Grafana starts;
    # the checksum annotation rolls the pod when the password changes; Recreate frees the RWO volume.
    deploy = grafana_deployment(st)
    assert deploy["spec"]["strategy"] == {"type": "Recreate"}
    template = deploy["spec"]["template"]
    assert template["metadata"]["annotations"][PASSWORD_ANNOTATION]
    pod = template["spec"]
    (reset,) = [c for c in pod["initContainers"] if c["name"] == "reset-admin-password"]
    (grafana,) = [c for c in pod["containers"] if c["name"] == "grafana"]
    assert reset["image"] == grafana["image"] and "{{" not in reset["image"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in reset["volumeMounts"]:
        assert mount["name"] in volumes, mount
        assert mount in grafana["volumeMounts"], mount  # the same database and grafana.ini as Grafana's
    assert volumes["storage"]["persistentVolumeClaim"]["claimName"]
    env = {e["name"]: e for e in reset["env"]}
    (secret_ref,) = [e["valueFrom"]["secretKeyRef"] for e in grafana["env"] if e["name"] == "GF_SECURITY_ADMIN_PASSWORD"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == secret_ref


def test_grafana_datasources_reach_services_the_render_creates(st: Stack) -> None:
    grafana = st.charts["grafana"]
    (cm,) = [o for o in grafana if o["kind"] == "ConfigMap" and "datasources.yaml" in (o.get("data") or {})]
    sources = yaml.safe_load(cm["data"]["datasources.yaml"])["datasources"]
    assert {s["type"] for s in sources} == {"prometheus", "loki", "tempo"}
    for source in sources:
        host, port = endpoint(source["url"])
        assert service_port(st, host, port), f"{st.name}: datasource {source['name']} -> {source['url']}"


# ------------------------------------------------------------------ OpenTelemetry Collector and Thanos


def test_every_collector_exporter_names_a_rendered_service(st: Stack) -> None:
    configs = [yaml.safe_load(o["data"]["relay"]) for o in st.charts["opentelemetry-collector"]
               if o["kind"] == "ConfigMap" and "relay" in (o.get("data") or {})]
    (config,) = configs
    exporters = config["exporters"]
    used = {e for p in config["service"]["pipelines"].values() for e in p["exporters"]}
    assert used == {name for name in exporters if "endpoint" in (exporters[name] or {})}
    for name in used:
        host, port = endpoint(exporters[name]["endpoint"])
        assert service_port(st, host, port), f"{st.name}: exporter {name} -> {exporters[name]['endpoint']}"
    prometheus = sorted(n for n in used if n.startswith("otlp_http/prometheus-"))
    (prom,) = st.of_kind("Prometheus", "kube-prometheus-stack")
    assert len(prometheus) == prom["spec"]["replicas"]  # a push reaches every replica


def thanos_query_endpoints(st: Stack) -> list[str]:
    (query,) = [d for d in st.of_kind("Deployment", "thanos") if d["metadata"]["name"].endswith("query")]
    (container,) = [c for c in query["spec"]["template"]["spec"]["containers"] if c["name"].endswith("query")]
    args = [*container.get("args", []), *container.get("command", [])]
    return [a.split("=", 1)[1] for a in args if a.startswith(("--endpoint=", "--store="))]


def test_thanos_query_reaches_the_prometheus_sidecars(st: Stack) -> None:
    endpoints = thanos_query_endpoints(st)
    (prom,) = st.of_kind("Prometheus", "kube-prometheus-stack")
    assert "thanos" in prom["spec"], "no sidecar: Thanos would find no endpoint"
    services = {}
    for target in endpoints:
        assert target.startswith("dnssrv+_grpc._tcp."), target  # every pod of a Service, by SRV record
        name, namespace = target.removeprefix("dnssrv+_grpc._tcp.").split(".")[:2]
        (svc,) = [s for s in st.of_kind("Service") if (s["metadata"]["name"], s["metadata"]["namespace"]) == (name, namespace)]
        # SRV records per pod need a headless Service with a port named grpc.
        assert svc["spec"]["clusterIP"] == "None", name
        assert [p["name"] for p in svc["spec"]["ports"] if p["name"] == "grpc"] == ["grpc"], name
        services[name] = svc
    sidecars = services[f"{KPS}-thanos-discovery"]
    assert sidecars in st.charts["kube-prometheus-stack"]
    assert [p["targetPort"] for p in sidecars["spec"]["ports"] if p["name"] == "grpc"] == ["grpc"]
    # The operator labels Prometheus pods with these; the Service must select them.
    pod_labels = {"app.kubernetes.io/name": "prometheus", "prometheus": prom["metadata"]["name"],
                  "operator.prometheus.io/name": prom["metadata"]["name"],
                  "app.kubernetes.io/instance": prom["metadata"]["name"]}
    assert selects({"matchLabels": sidecars["spec"]["selector"]}, pod_labels)
    stores = [w for w in workloads(st, "thanos") if "store" in w["metadata"]["name"]]
    assert len(services) == 1 + len(stores)  # and the store gateway where there is a bucket
    for store in stores:
        (svc,) = [v for k, v in services.items() if k.startswith(store["metadata"]["name"])]
        assert selects({"matchLabels": svc["spec"]["selector"]}, store["spec"]["template"]["metadata"]["labels"])


# ------------------------------------------------------------------ object storage and IRSA (cloud stacks)


def bucket_of(st: Stack, workload: str) -> str:
    (bucket,) = [b["inputs"]["bucket"] for b in st.aws("aws:s3/bucket:Bucket") if f"-{workload}-" in b["inputs"]["bucket"]]
    return bucket


def role_trusting(st: Stack, namespace: str, account: str) -> str:
    """The ARN of the IAM role whose trust policy lets that ServiceAccount assume it."""
    subject = f"system:serviceaccount:{namespace}:{account}"
    found = [r for r in st.aws("aws:iam/role:Role") if subject in json.dumps(r["inputs"].get("assumeRolePolicy"))]
    assert len(found) == 1, f"{st.name}: {len(found)} roles trust {subject}"
    return f"arn:aws:iam::123456789012:role/{found[0]['name']}"


def pod_service_accounts(st: Stack, chart: str) -> set[tuple[str, str]]:
    return {(w["metadata"]["namespace"], w["spec"]["template"]["spec"].get("serviceAccountName", "default"))
            for w in workloads(st, chart)}


@pytest.mark.parametrize("chart", ["loki", "tempo", "thanos"])
def test_object_store_users_run_under_an_irsa_service_account(st: Stack, chart: str) -> None:
    accounts = pod_service_accounts(st, chart)
    if chart == "thanos":  # query reads no bucket; the store gateway and compactor do
        accounts = {(w["metadata"]["namespace"], w["spec"]["template"]["spec"]["serviceAccountName"])
                    for w in workloads(st, chart) if not w["metadata"]["name"].endswith("query")}
    if st.name not in CLOUD:
        assert (chart == "thanos" and not accounts) or all(
            IRSA not in (sa["metadata"].get("annotations") or {}) for sa in st.of_kind("ServiceAccount", chart))
        return
    assert accounts
    for namespace, account in accounts:
        sa = next(s for s in st.of_kind("ServiceAccount", chart) if s["metadata"]["name"] == account)
        assert sa["metadata"]["annotations"][IRSA] == role_trusting(st, namespace, account), account


def test_prometheus_runs_under_the_thanos_irsa_service_account(st: Stack) -> None:
    (prom,) = st.of_kind("Prometheus", "kube-prometheus-stack")
    account, namespace = prom["spec"]["serviceAccountName"], prom["metadata"]["namespace"]
    sa = next(s for s in st.of_kind("ServiceAccount", "kube-prometheus-stack") if s["metadata"]["name"] == account)
    if st.name in CLOUD:
        assert sa["metadata"]["annotations"][IRSA] == role_trusting(st, namespace, account)
        objstore = prom["spec"]["thanos"]["objectStorageConfig"]
        secret = st.one("Secret", objstore["name"])
        assert secret in st.program and objstore["key"] in (secret.get("data") or secret.get("stringData"))
    else:
        assert "objectStorageConfig" not in prom["spec"]["thanos"]


def config_file(st: Stack, chart: str, key: str) -> dict[str, Any]:
    """The application config a chart renders into a ConfigMap (or Secret) data key."""
    (text,) = [o["data"][key] for o in st.charts[chart]
               if o["kind"] in ("ConfigMap", "Secret") and key in (o.get("data") or {})]
    return yaml.safe_load(text)


def test_loki_and_tempo_store_in_the_stack_buckets(st: Stack) -> None:
    loki = config_file(st, "loki", "config.yaml")
    tempo = config_file(st, "tempo", "tempo.yaml")
    if st.name not in CLOUD:  # local keeps logs and traces on volumes
        assert "s3" not in loki["common"]["storage"] and tempo["storage"]["trace"]["backend"] == "local"
        return
    bucket = bucket_of(st, "loki")
    assert loki["common"]["storage"]["s3"]["bucketnames"] == bucket
    assert loki["ruler"]["storage"]["s3"]["bucketnames"] == bucket
    assert tempo["storage"]["trace"]["backend"] == "s3"
    assert tempo["storage"]["trace"]["s3"]["bucket"] == bucket_of(st, "tempo")


def test_thanos_store_and_compactor_read_the_objstore_secret(st: Stack) -> None:
    readers = [w for w in workloads(st, "thanos") if not w["metadata"]["name"].endswith("query")]
    if st.name not in CLOUD:
        assert readers == []
        return
    assert len(readers) == 2
    for w in readers:
        pod = w["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        secrets = {v["secret"]["secretName"] for v in volumes.values() if "secret" in v}
        assert "thanos-objstore" in secrets, w["metadata"]["name"]


def test_the_thanos_objstore_names_the_stack_bucket(st: Stack) -> None:
    """What the Thanos sidecar, store gateway and compactor read: the `thanos-objstore` Secret's
    objstore.yml (the program's own Secret, mounted by the charts' workloads), read back."""
    (prom,) = st.of_kind("Prometheus", "kube-prometheus-stack")
    namespace = prom["metadata"]["namespace"]
    data = secret_string_data(st.name, namespace, "thanos-objstore")
    if st.name not in CLOUD:  # local: blocks stay on Prometheus's volume, nothing is uploaded
        assert data is None and not st.aws("aws:s3/bucket:Bucket")
        return
    assert data is not None and set(data) == {prom["spec"]["thanos"]["objectStorageConfig"]["key"]}
    objstore = yaml.safe_load(data["objstore.yml"])
    region = config(st.name).cluster.region
    assert objstore == {"type": "S3", "config": {
        "bucket": bucket_of(st, "thanos"), "region": region, "endpoint": f"s3.{region}.amazonaws.com",
        "aws_sdk_auth": True}}  # credentials from IRSA: no access key in the file
    for w in workloads(st, "thanos"):
        if w["metadata"]["name"].endswith("query"):
            continue
        pod = w["spec"]["template"]["spec"]
        (volume,) = [v["name"] for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "thanos-objstore"]
        (container,) = pod["containers"]
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume]
        assert f"--objstore.config-file={mount['mountPath']}" in container["args"], w["metadata"]["name"]
        assert mount["subPath"] == "objstore.yml" and w["metadata"]["namespace"] == namespace


# ------------------------------------------------------------------ resources and security contexts


def pod_specs(st: Stack) -> list[tuple[str, str, dict[str, Any]]]:
    """(chart, workload, pod spec) of every pod template the charts render (Jobs included)."""
    out = []
    for chart, objects in st.charts.items():
        for obj in objects:
            template = (obj.get("spec") or {}).get("template") if obj.get("kind") in (*WORKLOADS, "Job") else None
            if template:
                out.append((chart, f"{obj['kind']}/{obj['metadata']['name']}", template["spec"]))
    return out


def test_every_container_has_requests_and_a_memory_limit(st: Stack) -> None:
    missing = []
    for chart, workload, pod in pod_specs(st):
        for c in containers(pod):
            res = c.get("resources") or {}
            if not ((res.get("requests") or {}).get("memory") and (res.get("limits") or {}).get("memory")):
                missing.append(f"{chart} {workload} {c['name']}")
    assert sorted(missing) == [], st.name


# Containers that run as root or privileged, with the reason; anything else found is a failure.
ROOT_ALLOWED = {
    "opentelemetry-collector DaemonSet/otel-collector-opentelemetry-collector-agent opentelemetry-collector: root":
        "pod log files on the node are root-owned (opentelemetry-helm-charts#71); policy pack allows it too",
    "chaos-mesh DaemonSet/chaos-daemon chaos-daemon: privileged":
        "injects faults into other pods' namespaces; policy pack allows it too",
    "chaos-mesh Deployment/chaos-controller-manager chaos-mesh: root":
        "the chart sets no securityContext and the image names no user; only where chaos is enabled",
    "chaos-mesh Deployment/chaos-dashboard chaos-dashboard: root":
        "the chart sets no securityContext and the image names no user; only where chaos is enabled",
}


def effective(pod: dict[str, Any], container: dict[str, Any], key: str) -> Any:
    """A securityContext field as the kubelet applies it: the container's, else the pod's."""
    own = (container.get("securityContext") or {}).get(key)
    return own if own is not None else (pod.get("securityContext") or {}).get(key)


def test_containers_run_unprivileged_but_the_listed_ones(st: Stack) -> None:
    found = []
    for chart, workload, pod in pod_specs(st):
        for c in containers(pod):
            root = effective(pod, c, "runAsUser") == 0 or not (
                effective(pod, c, "runAsNonRoot") or (effective(pod, c, "runAsUser") or 0) > 0)
            privileged = bool((c.get("securityContext") or {}).get("privileged"))
            if root or privileged:
                found.append(f"{chart} {workload} {c['name']}: {'privileged' if privileged else 'root'}")
    assert sorted(found) == sorted(k for k in ROOT_ALLOWED if k.split()[0] in st.charts), st.name


def test_operator_managed_pods_get_the_configured_resources(st: Stack) -> None:
    """Prometheus, its Thanos sidecar and Alertmanager are pods of the operator: their resources
    and volumes travel through the custom resources the chart renders."""
    cfg = config(st.name)
    (prom,) = st.of_kind("Prometheus", "kube-prometheus-stack")
    (am,) = st.of_kind("Alertmanager", "kube-prometheus-stack")
    assert prom["spec"]["resources"] == cfg.resources.prometheus.as_k8s()
    assert prom["spec"]["thanos"]["resources"] == cfg.resources.thanos_sidecar.as_k8s()
    assert am["spec"]["resources"] == cfg.resources.alertmanager.as_k8s()
    assert (prom["spec"]["replicas"], am["spec"]["replicas"]) == (cfg.replicas.prometheus, cfg.replicas.alertmanager)
    claim = prom["spec"]["storage"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == cfg.volumes.prometheus
    assert claim["storageClassName"] == cfg.storage.storage_class
