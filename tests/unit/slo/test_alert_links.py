"""Every alert links the responder to its SLO on the dashboard, in the stack's Grafana."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from policies.alert_labels import fired_labels, recorded_series

from .helpers import REPO


def compile_for(env: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reliability", "slo", "compile", "slo-specs", "--env", env,
                           "--out", str(out), *extra], capture_output=True, text=True, cwd=REPO, check=False)


def alerts(out: Path) -> list[dict]:
    """Every alerting rule, its labels as it fires (with those of the recorded series it reads)."""
    found = []
    for path in sorted((out / "rules").glob("*.yaml")):
        groups = yaml.safe_load(path.read_text())["groups"]
        recorded = recorded_series(groups)
        found += [rule | {"labels": fired_labels(rule, recorded)}
                  for group in groups for rule in group["rules"] if "alert" in rule]
    return found


def test_every_alert_links_its_slo_chart_in_the_stacks_grafana(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert compile_for("prod", out).returncode == 0
    found = alerts(out)
    assert found and all({"runbook_url", "dashboard_url"} <= set(a["annotations"]) for a in found)
    page = next(a for a in found if a["alert"] == "CheckoutApiAvailabilityBudgetBurn"
                and a["labels"]["severity"] == "page")
    # stacks/Pulumi.prod.yaml sets reliability:grafanaUrl; the panel is checked against the dashboard below.
    url = page["annotations"]["dashboard_url"]
    assert url == "https://grafana.prod.example.com/d/slo-checkout-api/?orgId=1&from=now-6h&to=now&viewPanel=6"
    model = json.loads((out / "dashboards" / "slo-checkout-api.json").read_text())
    for alert in found:
        if alert["labels"]["service"] != "checkout-api":
            continue
        panel_id = int(alert["annotations"]["dashboard_url"].rsplit("=", 1)[1])
        index = next(i for i, p in enumerate(model["panels"]) if p["id"] == panel_id)
        row = next(p for p in reversed(model["panels"][:index]) if p["type"] == "row")
        assert model["panels"][index]["title"] == "SLI and objective"
        assert row["title"].startswith(f"{alert['labels']['slo']}: "), alert["alert"]


def test_the_grafana_url_comes_from_the_option_or_the_default(tmp_path: Path) -> None:
    assert compile_for("local", tmp_path / "a").returncode == 0
    assert {a["annotations"]["dashboard_url"].split("/d/")[0] for a in alerts(tmp_path / "a")} == \
        {"http://localhost:3000"}
    assert compile_for("prod", tmp_path / "b", "--grafana-url", "https://grafana.acme.io/").returncode == 0
    assert {a["annotations"]["dashboard_url"].split("/d/")[0] for a in alerts(tmp_path / "b")} == \
        {"https://grafana.acme.io"}
    bad = compile_for("prod", tmp_path / "c", "--grafana-url", "grafana.acme.io")
    assert bad.returncode == 2
    assert bad.stderr == ("sre slo compile: --grafana-url 'grafana.acme.io' is not an http(s) URL such as "
                          "https://grafana.example.com\n")
    assert not (tmp_path / "c").exists()


def test_a_spec_may_set_its_own_dashboard_url(tmp_path: Path) -> None:
    spec = (REPO / "slo-specs" / "feature-flags.yaml").read_text()
    assert "runbook_url:" in spec
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ff.yaml").write_text(spec.replace(
        "slos:\n", "slos:\n", 1).replace("    objective:", "    alerting: {annotations: {dashboard_url: "
                                         "'https://example.com/mine'}}\n    objective:", 1))
    run = subprocess.run([sys.executable, "-m", "reliability", "slo", "compile", str(specs), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 0, run.stderr
    assert {a["annotations"]["dashboard_url"] for a in alerts(tmp_path / "out")} == {"https://example.com/mine"}
