"""The pack as the Pulumi CLI runs it: importable without starting, metadata, and the engine's own servicer."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel

import policies
from policies import POLICIES, keep_secrets_marked

REPO = Path(__file__).resolve().parents[3]
PACK = REPO / "policies"
SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def test_importing_the_pack_starts_nothing() -> None:
    """PolicyPack(...) serves gRPC forever: importing the modules (and __main__ as a module) must return."""
    code = ("import policies, policies.security, policies.reliability, policies.slo_hygiene, policies._common, "
            "policies.__main__; print(len(policies.POLICIES))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, str(len(POLICIES))), done.stderr


def test_the_cli_entry_builds_the_pack_with_every_policy() -> None:
    """Run policies/ the way `python -m pulumi.policy` does (runpy.run_path, cwd = the pack), PolicyPack stubbed."""
    script = """
import json, runpy, sys
import pulumi_policy
seen = {}
class Stub:
    def __init__(self, name, policies, enforcement_level=None, **kw):
        from pulumi_policy import policy as engine
        seen.update(name=name, level=enforcement_level.value, policies=[p.name for p in policies],
                    marks=getattr(engine.deserialize_properties, "marks_secrets", False))
pulumi_policy.PolicyPack = Stub
runpy.run_path(".", run_name="__main__")
print(json.dumps(seen))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=PACK, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {"name": "reliability-as-code", "level": "mandatory", "policies": [p.name for p in POLICIES],
                    "marks": True}


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policy_metadata(policy: Any) -> None:
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name)
    assert "\n" not in policy.description and policy.description.endswith(".") and len(policy.description) <= 180
    assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
    assert policy.config_schema is not None and policy.config_schema.properties
    for key, prop in policy.config_schema.properties.items():
        jsonschema.validate(prop["default"], prop)  # the default the engine fills in is valid
        assert prop.get("description"), key


def test_docs_list_every_policy_with_its_level() -> None:
    readme = (REPO / "docs" / "policies.md").read_text(encoding="utf-8")
    for policy in POLICIES:
        assert f"| `{policy.name}` | {policy.enforcement_level.value} |" in readme, policy.name


def test_policy_names_are_unique() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))


def test_pack_project_and_requirements() -> None:
    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    pins = dict(line.split("==") for line in (PACK / "requirements.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    lock = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
            for line in (REPO / "requirements.lock").read_text().splitlines() if "==" in line}
    assert set(pins) == {"pulumi-policy", "pulumi", "PyYAML"}
    for name, version in pins.items():
        assert lock[name.lower()] == version, name


# ------------------------------------------------------------------ through pulumi-policy's own servicer


@pytest.fixture
def servicer(monkeypatch: pytest.MonkeyPatch) -> Any:
    from pulumi_policy import policy as engine

    monkeypatch.setattr(engine, "deserialize_properties", engine.deserialize_properties)  # restored afterwards
    keep_secrets_marked()
    return engine._PolicyAnalyzerServicer(policies.PACK_NAME, "0.1.0", POLICIES, EnforcementLevel.MANDATORY)


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def analyze(servicer: Any, typ: str, props: dict[str, Any], name: str = "x", stack: str = "prod") -> list[tuple[str, str]]:
    request = analyzer_pb2.AnalyzeRequest(
        type=typ, name=name, urn=f"urn:pulumi:{stack}::reliability::{typ}::{name}",
        properties=json_format.ParseDict(props, struct_pb2.Struct()),
    )
    response = servicer.Analyze(request, None)
    return [(d.policyName, d.message) for d in response.diagnostics]


WEBHOOK = "https://hooks.slack.com/services/T0001/B0001/abcdefABCDEF123456"
CHAT_PAGES = ("route:\n  receiver: chat\n  routes:\n  - matchers: ['severity=\"page\"']\n    receiver: chat\n"
              "receivers:\n- name: chat\n  slack_configs:\n  - api_url_file: /etc/secret\n")


def test_engine_secrets_are_not_plaintext_credentials(servicer: Any) -> None:
    assert analyze(servicer, "kubernetes:core/v1:Secret", {"stringData": secret({"url": WEBHOOK})}) == []
    assert analyze(servicer, "kubernetes:core/v1:Secret", {"stringData": {"url": WEBHOOK}}) == [(
        "no-plaintext-credentials",
        policies.security.no_plaintext_credentials.description + "\n[CIS EKS 4.4.2] Slack webhook URL in plain text at stringData.url: "
        "make it a Pulumi secret (pulumi config set --secret) held in a Kubernetes Secret and reference that "
        "(*_file, existingSecret)",
    )]


def test_engine_secret_alertmanager_config_is_still_read(servicer: Any) -> None:
    found = analyze(servicer, "kubernetes:core/v1:Secret", {"stringData": secret({"alertmanager.yaml": CHAT_PAGES})})
    assert [name for name, _ in found] == ["pages-reach-pager"]
    assert found[0][1].endswith("route.routes[0] (severity=\"page\") sends pages to receiver 'chat', which has no "
                                "pagerduty_configs or opsgenie_configs")
    assert analyze(servicer, "kubernetes:core/v1:Secret", {"stringData": secret({"alertmanager.yaml": CHAT_PAGES})},
                   stack="staging") == []


def test_engine_stack_validation(servicer: Any) -> None:
    bucket = analyzer_pb2.AnalyzerResource(
        type="aws:s3/bucket:Bucket", name="logs", urn="urn:pulumi:prod::reliability::aws:s3/bucket:Bucket::logs",
        properties=json_format.ParseDict({"bucket": "acme-logs"}, struct_pb2.Struct()),
    )
    response = servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[bucket]), None)
    assert sorted(d.policyName for d in response.diagnostics) == [
        "s3-bucket-encrypted", "s3-bucket-public-access-blocked", "s3-bucket-tls-only", "s3-bucket-versioned"]
    assert all(d.urn == bucket.urn for d in response.diagnostics)


def test_unknown_values_during_preview_are_not_violations(servicer: Any) -> None:
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    props = {"chart": "kube-prometheus-stack", "version": unknown,
             "values": {"prometheus": {"prometheusSpec": {"replicas": 2, "retention": unknown, "resources": unknown,
                                                          "storageSpec": unknown}},
                        "alertmanager": {"alertmanagerSpec": {"replicas": unknown, "resources": unknown,
                                                              "storage": unknown}},
                        "prometheusOperator": unknown, "grafana": {"enabled": False}}}
    assert analyze(servicer, "kubernetes:helm.sh/v3:Release", props) == []
    # Numbers arrive as floats from the engine's Struct: 1.0 replica is still one replica.
    props["values"]["alertmanager"]["alertmanagerSpec"]["replicas"] = 1
    assert [m.split("\n")[1] for _, m in analyze(servicer, "kubernetes:helm.sh/v3:Release", props)] == [
        "Alertmanager runs 1 replica(s) in prod (values.alertmanager.alertmanagerSpec.replicas); prod needs at least 2"]
