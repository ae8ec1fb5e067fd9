"""`sre policy check`: real renders pass, deliberately bad renders fail with the expected lines, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reliability.cli import main
from reliability.policy.check import check

from .conftest import STACKS

REPO = Path(__file__).resolve().parents[3]
Resources = list[dict[str, Any]]


# What the cloud stacks knowingly leave open (docs/policies.md says why); asserted once below, left out elsewhere.
CLOUD_ADVISORIES = (
    "advisory: eks-endpoint-private: aws:eks/cluster:Cluster reliability-cluster-eks: [CIS EKS 5.4.2, FSBP EKS.1] "
    "vpcConfig.endpointPublicAccess is not false: the API endpoint can be reached from the internet (by the listed "
    "CIDRs); reach it through a VPN or bastion in the VPC and set vpcConfig.endpointPublicAccess false",
    "advisory: vpc-flow-logs: aws:ec2/vpc:Vpc reliability-cluster-vpc: [FSBP EC2.6] no FlowLog has this VPC as "
    "vpcId: add an aws.ec2.FlowLog (trafficType REJECT at least) to keep a record of the traffic the VPC refused",
)


def run_check(capsys: pytest.CaptureFixture[str], directory: Path, *extra: str) -> tuple[int, list[str], str]:
    """Exit code, stdout lines but the cloud stacks' known advisories, stderr."""
    code = main(["policy", "check", str(directory), *extra])
    out, err = capsys.readouterr()
    return code, [line for line in out.splitlines() if line not in CLOUD_ADVISORIES], err


@pytest.mark.parametrize("stack", STACKS)
def test_cloud_stacks_carry_exactly_the_known_advisories(
    stack: str, render_dir: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["policy", "check", str(render_dir(stack))])
    out, err = capsys.readouterr()
    assert out.splitlines() == ([] if stack == "local" else list(CLOUD_ADVISORIES))
    summary = [line for line in err.splitlines() if line.startswith("by control family: ")]
    # Every family the pack enforces is listed, zeros too; the advisory citing CIS EKS 5.4.2 and FSBP EKS.1
    # counts under both.
    advisories = {} if stack == "local" else {"CIS EKS": 1, "FSBP": 2}
    assert summary == [f"by control family: {fam}: 0 mandatory, {advisories.get(fam, 0)} advisory"
                       for fam in ("CIS EKS", "FSBP", "Grafana", "PSS", "RAC", "Security Hub")]


def write(tmp_path: Path, resources: Any) -> Path:
    (tmp_path / "resources.json").write_text(json.dumps(resources), encoding="utf-8")
    return tmp_path


def one(resources: Resources, typ: str, **where: Any) -> dict[str, Any]:
    found = [r for r in resources if r["type"] == typ and all(
        r["inputs"].get(k) == v if k != "name" else r["name"] == v for k, v in where.items())]
    assert found, (typ, where)
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_render_passes_every_mandatory_policy(
    stack: str, render_dir: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = run_check(capsys, render_dir(stack))
    assert [line for line in lines if not line.startswith("advisory: ")] == []
    assert code == 0
    assert "0 mandatory" in err


# ------------------------------------------------------------------ bad renders: break one thing each


def unencrypted_bucket(r: Resources) -> None:
    r[:] = [e for e in r if not (e["type"].endswith(":BucketServerSideEncryptionConfiguration")
                                 and e["name"] == "reliability-storage-thanos")]


def s3_star_on_star(r: Resources) -> None:
    policy = one(r, "aws:iam/rolePolicy:RolePolicy", name="reliability-storage-loki")
    document = json.loads(policy["inputs"]["policy"])
    document["Statement"][1].update(Action="s3:*", Resource="*")
    policy["inputs"]["policy"] = json.dumps(document)


def grafana_load_balancer(r: Resources) -> None:
    one(r, "reliability:helm:Chart", chart="grafana")["inputs"]["values"]["service"] = {"type": "LoadBalancer"}


def grafana_route_with_auth_proxy(r: Resources) -> None:
    values = one(r, "reliability:helm:Chart", chart="grafana")["inputs"]["values"]
    values["route"] = {"main": {"enabled": True, "hostnames": ["grafana.example.com"]}}
    values["grafana.ini"]["auth.proxy"] = {"enabled": True}


def grafana_as_root(r: Resources) -> None:
    values = one(r, "reliability:helm:Chart", chart="grafana")["inputs"]["values"]
    values["securityContext"] = {"runAsUser": 0, "runAsNonRoot": False}
    values["containerSecurityContext"] = {"privileged": True}


def slack_webhook_in_values(r: Resources) -> None:
    values = one(r, "kubernetes:helm.sh/v3:Release", chart="kube-prometheus-stack")["inputs"]["values"]
    values["alertmanager"]["config"] = {
        "global": {"slack_api_url": "https://hooks.slack.com/services/T0001/B0001/abcdefABCDEF123456"},
        "route": {"receiver": "chat"}, "receivers": [{"name": "chat", "slack_configs": [{"channel": "#x"}]}]}


def keys_under_unlisted_names(r: Resources) -> None:
    kps = one(r, "kubernetes:helm.sh/v3:Release", chart="kube-prometheus-stack")["inputs"]["values"]
    kps["alertmanager"]["extraSecret"] = {"name": "pd", "data": {"pd-key": "0123456789abcdef0123456789abcdef"}}
    grafana = one(r, "reliability:helm:Chart", chart="grafana")["inputs"]["values"]
    grafana["env"] = {"PAGERDUTY_ROUTING_KEY": "0123456789abcdef0123456789abcdef"}


def prometheus_one_replica(r: Resources) -> None:
    values = one(r, "kubernetes:helm.sh/v3:Release", chart="kube-prometheus-stack")["inputs"]["values"]
    values["prometheus"]["prometheusSpec"]["replicas"] = 1


def unprotected_bucket(r: Resources) -> None:
    one(r, "aws:s3/bucket:Bucket", name="reliability-storage-loki")["options"].update(protect=False)


def chart_version_range(r: Resources) -> None:
    one(r, "reliability:helm:Chart", chart="tempo")["inputs"]["version"] = ">=2.0.0"


def chaos_on_kube_system(r: Resources) -> None:
    r.append({
        "type": "kubernetes:chaos-mesh.org/v1alpha1:PodChaos", "name": "reliability-chaos-dns-kill", "parent": None,
        "urn": "urn:pulumi:staging::reliability::reliability:chaos:ChaosMesh$kubernetes:chaos-mesh.org/v1alpha1:"
               "PodChaos::reliability-chaos-dns-kill",
        "inputs": {"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos",
                   "metadata": {"name": "dns-kill", "namespace": "chaos-mesh"},
                   "spec": {"action": "pod-kill", "mode": "one",
                            "selector": {"namespaces": ["kube-system"], "labelSelectors": {"k8s-app": "kube-dns"}}}},
        "options": {"protect": False, "retainOnDelete": False, "provider": None, "dependsOn": [], "ignoreChanges": []},
    })


def alert_without_runbook(r: Resources) -> None:
    """The fast (page) and slow (ticket) burn alerts share an alertname: both lose their runbook."""
    rule = one(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", name="reliability-slos-slo-search-api")
    alerts = [x for g in rule["inputs"]["spec"]["groups"] for x in g["rules"] if "alert" in x]
    for alert in alerts[:2]:
        assert alert["alert"] == "SearchApiAvailabilityBudgetBurn"
        del alert["annotations"]["runbook_url"]


def unencrypted_secrets(r: Resources) -> None:
    del one(r, "aws:eks/cluster:Cluster")["inputs"]["encryptionConfig"]


def no_tls_policy(r: Resources) -> None:
    r[:] = [e for e in r if not (e["type"] == "aws:s3/bucketPolicy:BucketPolicy" and e["name"] == "reliability-storage-loki")]


def irsa_for_every_service_account(r: Resources) -> None:
    role = one(r, "aws:iam/role:Role", name="reliability-storage-thanos")["inputs"]
    trust = json.loads(role["assumeRolePolicy"])
    (condition,) = [c for c in trust["Statement"][0]["Condition"].values() if any(k.endswith(":sub") for k in c)]
    for key in [k for k in condition if k.endswith(":sub")]:
        condition[key] = "system:serviceaccount:*"
    role["assumeRolePolicy"] = json.dumps(trust)


def grafana_anonymous(r: Resources) -> None:
    values = one(r, "reliability:helm:Chart", chart="grafana")["inputs"]["values"]
    values["grafana.ini"]["auth.anonymous"]["enabled"] = True


BAD = [
    ("unencrypted bucket", "prod", unencrypted_bucket,
     ["s3-bucket-encrypted: aws:s3/bucket:Bucket reliability-storage-thanos: [Security Hub S3.17] no "
      "BucketServerSideEncryptionConfiguration: add one with rules[].applyServerSideEncryptionByDefault.sseAlgorithm "
      "aws:kms"]),
    ("s3:* on *", "dev", s3_star_on_star,
     ["iam-least-privilege: aws:iam/rolePolicy:RolePolicy reliability-storage-loki: [FSBP IAM.21] policy: statement 'Objects' "
      "allows s3:* on every resource (*): scope it to the resources' ARNs"]),
    ("Grafana LoadBalancer in Helm values", "local", grafana_load_balancer,
     ["ui-requires-authentication: reliability:helm:Chart reliability-grafana-grafana: [RAC UI.Auth] values.service.type is "
      "LoadBalancer: it exposes grafana without authentication; keep it ClusterIP and reach it through an "
      "authenticating proxy or an Ingress with an auth annotation"]),
    ("Grafana Gateway API route with auth.proxy", "prod", grafana_route_with_auth_proxy,
     ["ui-requires-authentication: reliability:helm:Chart reliability-grafana-grafana: [RAC UI.Auth] values.route.main.enabled "
      "enables an HTTPRoute: grafana.ini auth.proxy trusts the X-WEBAUTH-USER header from whoever connects, so anyone "
      "who reaches grafana this way can log in as any user, admin too; auth.proxy counts only behind an Ingress or "
      "route with an auth annotation (nginx auth-url, oauth2-proxy) that authenticates first: give this one an auth "
      "annotation (authAnnotations in the policy config)"]),
    ("Grafana root and privileged in Helm values", "dev", grafana_as_root,
     [f"helm-values-unprivileged: reliability:helm:Chart reliability-grafana-grafana: [{control}] values.{path} "
      f"is {shown} in chart grafana: run it as a non-root user without privileges, or, if grafana needs it, add "
      f'{{"chart": "grafana", "path": "{path}", "reason": "..."}} to allowedSettings'
      for control, path, shown in (
          ("CIS EKS 4.2.1", "containerSecurityContext.privileged", "true (a privileged container)"),
          ("CIS EKS 4.2.6", "securityContext.runAsNonRoot", "false (root allowed)"),
          ("CIS EKS 4.2.6", "securityContext.runAsUser", "0 (root)"))]),
    ("Slack webhook in plain values", "staging", slack_webhook_in_values,
     ["no-plaintext-credentials: kubernetes:helm.sh/v3:Release reliability-metrics-kps: [CIS EKS 4.4.2] Slack webhook URL in plain "
      "text at values.alertmanager.config.global.slack_api_url: make it a Pulumi secret (pulumi config set --secret) "
      "held in a Kubernetes Secret and reference that (*_file, existingSecret)"]),
    ("credentials under unlisted key names", "prod", keys_under_unlisted_names,
     [f"no-plaintext-credentials: {where} in plain text at {path}: make it a Pulumi secret (pulumi config set "
      "--secret) held in a Kubernetes Secret and reference that (*_file, existingSecret)" for where, path in (
          ("kubernetes:helm.sh/v3:Release reliability-metrics-kps: [CIS EKS 4.4.2] Secret data pd-key",
           "values.alertmanager.extraSecret.data.pd-key"),
          ("reliability:helm:Chart reliability-grafana-grafana: [CIS EKS 4.4.2] literal PAGERDUTY_ROUTING_KEY",
           "values.env.PAGERDUTY_ROUTING_KEY"))]),
    ("prod Prometheus replicas 1", "prod", prometheus_one_replica,
     ["prod-ha-replicas: kubernetes:helm.sh/v3:Release reliability-metrics-kps: Prometheus runs 1 replica(s) in prod "
      "(values.prometheus.prometheusSpec.replicas); prod needs at least 2"]),
    ("unprotected prod bucket", "prod", unprotected_bucket,
     ["stateful-storage-retained: aws:s3/bucket:Bucket reliability-storage-loki: stateful storage in prod without "
      "protect: set ResourceOptions(protect=True, retain_on_delete=True) so a delete or replace keeps the data"]),
    ("chart version range", "dev", chart_version_range,
     ["chart-version-pinned: reliability:helm:Chart reliability-traces-tempo: [RAC Helm.Pinned] tempo version '>=2.0.0' is not an "
      "exact version (a range or wildcard): pin one, e.g. 1.2.3"]),
    ("chaos experiment on kube-system", "staging", chaos_on_kube_system,
     ["chaos-experiment-scope: kubernetes:chaos-mesh.org/v1alpha1:PodChaos reliability-chaos-dns-kill: "
      "spec.selector.namespaces targets namespace kube-system, which chaos experiments must never touch"]),
    ("alert without runbook_url", "prod", alert_without_runbook,
     [f"alert-rule-metadata: kubernetes:monitoring.coreos.com/v1:PrometheusRule reliability-slos-slo-search-api: "
      f'alert SearchApiAvailabilityBudgetBurn (group slo:search-api:availability:sli, rules[{index}], '
      f'severity="{severity}") has no annotations.runbook_url' for index, severity in ((13, "page"), (14, "ticket"))]),
    ("EKS Secrets not encrypted", "prod", unencrypted_secrets,
     ["eks-secrets-encrypted: aws:eks/cluster:Cluster reliability-cluster-eks: [CIS EKS 5.3.1, FSBP EKS.3] "
      "encryptionConfig does not cover secrets with a KMS key: set encryptionConfig {provider: {keyArn: <a KMS key "
      'with rotation on>}, resources: ["secrets"]}']),
    ("bucket without its TLS-only policy", "dev", no_tls_policy,
     ["s3-bucket-tls-only: aws:s3/bucket:Bucket reliability-storage-loki: [FSBP S3.5] no BucketPolicy: add a "
      'BucketPolicy statement denying s3:* when the Condition Bool aws:SecureTransport is "false"']),
    ("IRSA role for every service account", "staging", irsa_for_every_service_account,
     ["iam-principals-scoped: aws:iam/role:Role reliability-storage-thanos: [RAC IAM.WebIdentity, CIS EKS 5.2.1] "
      "assumeRolePolicy: statement 0 trusts a web identity but has a `sub` condition that matches every subject "
      "(system:serviceaccount:*): name the service accounts (or repositories) that need the role"]),
    ("Grafana anonymous access", "local", grafana_anonymous,
     ["grafana-hardened: reliability:helm:Chart reliability-grafana-grafana: [Grafana auth.anonymous] "
      'values["grafana.ini"]["auth.anonymous"].enabled is true: it lets anyone who reaches Grafana in without '
      "logging in: set it false"]),
]


@pytest.mark.parametrize(("case", "stack", "breaks", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_render_fails_with_the_expected_message(
    case: str, stack: str, breaks: Callable[[Resources], None], expected: list[str],
    render_resources: Callable[[str], Resources], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    resources = render_resources(stack)
    breaks(resources)
    code, lines, _ = run_check(capsys, write(tmp_path, resources))
    assert (code, [line for line in lines if not line.startswith("advisory: ")]) == (1, expected)


# ------------------------------------------------------------------ exit codes, output, config


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "resources.json not found: write it with `sre render --stack STACK --out"),
        ("{not json", "resources.json is not valid JSON"),
        ('{"type": "x"}', "is not a JSON array of resources"),
        ('[{"name": "x", "urn": "u"}]', "entry 0 has no 'type' string"),
        ('[{"type": "t", "name": "x", "urn": "u", "inputs": []}]', "entry 0 has 'inputs' that is not an object"),
    ],
)
def test_missing_or_garbled_input_exits_2(
    content: str | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if content is not None:
        (tmp_path / "resources.json").write_text(content, encoding="utf-8")
    code, lines, err = run_check(capsys, tmp_path)
    assert (code, lines) == (2, [])
    assert message in err and "Traceback" not in err


def test_exit_codes_of_the_installed_command(render_dir: Callable[[str], Path], tmp_path: Path) -> None:
    def sre(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reliability", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=120, check=False)

    ok = sre("policy", "check", str(render_dir("prod")))
    assert (ok.returncode, ok.stdout.splitlines()) == (0, list(CLOUD_ADVISORIES))
    assert "not checked" not in ok.stderr  # the render's alertmanager.yaml stands in for the masked Secret
    bad = json.loads((render_dir("prod") / "resources.json").read_text())
    unprotected_bucket(bad)
    failed = sre("policy", "check", str(write(tmp_path, bad)))
    assert failed.returncode == 1 and failed.stdout.startswith("stateful-storage-retained: ")
    missing = sre("policy", "check", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_prod_pages_routed_to_chat_fail_offline(render_dir: Callable[[str], Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    out = tmp_path / "render"
    shutil.copytree(render_dir("prod"), out)
    config = out / "alertmanager" / "alertmanager.yaml"
    text = config.read_text()
    # The payments team's page receiver becomes its ticket (Slack) receiver.
    broken_text = text.replace("  - receiver: payments-page\n", "  - receiver: payments-ticket\n", 1)
    broken_text = broken_text.replace("        - receiver: payments-page\n", "        - receiver: payments-ticket\n", 1)
    assert broken_text != text
    config.write_text(broken_text)
    code, lines, _ = run_check(capsys, out)
    assert code == 1
    assert lines == ["pages-reach-pager: kubernetes:core/v1:Secret reliability-slos-alertmanager-config: "
                     'stringData["alertmanager.yaml"]: route.routes[3].routes[0] (severity=~"page|critical") sends '
                     "pages to receiver 'payments-ticket', which has no pagerduty_configs or opsgenie_configs"]


def test_advisories_are_printed_and_do_not_fail(
    render_resources: Callable[[str], Resources], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resources = render_resources("dev")
    values = one(resources, "reliability:helm:Chart", chart="thanos")["inputs"]["values"]
    del values["query"]["resources"]["limits"]
    directory = write(tmp_path, resources)
    message = ("helm-values-resources: reliability:helm:Chart reliability-metrics-thanos: "
               "values.query.resources sets no limits.memory")
    assert run_check(capsys, directory)[:2] == (1, [message])
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"helm-values-resources": "advisory"}))
    assert run_check(capsys, directory, "--config", str(config))[:2] == (0, [f"advisory: {message}"])


def test_policy_pack_config_sets_levels_and_properties(
    render_resources: Callable[[str], Resources], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resources = render_resources("prod")
    prometheus_one_replica(resources)
    directory = write(tmp_path, resources)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"prod-ha-replicas": {"enforcementLevel": "advisory", "minReplicas": 2}}))
    code, lines, _ = run_check(capsys, directory, "--config", str(config))
    assert code == 0 and lines[0].startswith("advisory: prod-ha-replicas: ")
    config.write_text(json.dumps({"prod-ha-replicas": {"minReplicas": 1}}))
    assert run_check(capsys, directory, "--config", str(config))[:2] == (0, [])
    config.write_text(json.dumps({"all": "disabled"}))
    assert run_check(capsys, directory, "--config", str(config))[:2] == (0, [])
    config.write_text("[1]")
    assert run_check(capsys, directory, "--config", str(config))[0] == 2


def test_stack_policies_see_dependencies_from_the_render(render_resources: Callable[[str], Resources]) -> None:
    """The bucket companions are matched through `options.dependsOn`, as the engine's dependencies."""
    resources = render_resources("staging")
    for entry in resources:
        if entry["type"] == "aws:s3/bucketVersioning:BucketVersioning" and entry["name"] == "reliability-storage-tempo":
            entry["options"]["dependsOn"] = []
    report = check(resources)
    assert [str(f) for f in report.mandatory] == [
        "s3-bucket-versioned: aws:s3/bucket:Bucket reliability-storage-tempo: [Security Hub S3.14] no BucketVersioning: add "
        "one with versioningConfiguration.status Enabled"
    ]


def test_a_policy_that_crashes_fails_closed(monkeypatch: pytest.MonkeyPatch,
                                            render_resources: Callable[[str], Resources]) -> None:
    from policies import reliability

    def boom(args: Any, report: Any) -> None:
        raise ValueError("bad shape")

    monkeypatch.setattr(reliability.chart_version_pinned, "_ResourceValidationPolicy__validate", boom)
    findings = check(render_resources("local")).mandatory
    assert findings and all(str(f).startswith("chart-version-pinned: ") and str(f).endswith(
        "policy error: ValueError: bad shape") for f in findings)
