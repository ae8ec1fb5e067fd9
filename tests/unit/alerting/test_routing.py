"""Alert routing per environment: the config checks, amtool on every stack, inhibition on a real Alertmanager."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from components.program import defaults
from reliability.alerting.generate import alertmanager_config
from reliability.alerting.routing import SECRETS_DIR, parse_routing, routing_warnings
from reliability.platform.config import parse
from reliability.platform.render import stack_input

from ...alertmanager_proc import alertmanager
from ...conftest import REPO, tool
from ...unit.slo.helpers import spec_header

STACKS = ("local", "dev", "staging", "prod")


def stack_config(stack: str) -> str:
    stack_in = stack_input(stack)
    cfg, _ = parse(stack, stack_in.values, stack_in.secret_keys, defaults())
    return alertmanager_config(cfg)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for stack in STACKS:
        path = tmp_path_factory.mktemp(stack) / "alertmanager.yaml"
        path.write_text(stack_config(stack))
        out[stack] = path
    return out


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("amtool"), *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("stack", STACKS)
def test_amtool_accepts_every_stack(configs: dict[str, Path], stack: str) -> None:
    result = amtool("check-config", str(configs[stack]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# (stack, labels, receiver amtool must pick)
ROUTES = [
    *[(s, "alertname=Watchdog severity=none", "heartbeat") for s in STACKS],
    *[(s, "alertname=PaymentsBurn team=nobody severity=page service=x slo=y", "catch-all") for s in STACKS],
    *[(s, "alertname=KubePodCrashLooping severity=warning namespace=shop", "catch-all") for s in STACKS],
    *[(s, "alertname=InfoInhibitor severity=none", "null") for s in STACKS],
    *[(s, f"team={t} severity=page service=x slo=y", f"{t}-page") for s in STACKS
      for t in ("payments", "fulfilment", "search", "platform")],
    *[(s, f"team={t} severity=ticket service=x slo=y", f"{t}-ticket") for s in STACKS
      for t in ("payments", "fulfilment", "search", "platform")],
    *[(s, "team=payments severity=warning", "payments-ticket") for s in STACKS],  # a team's other alerts
    *[(s, "alertname=KubeAPIDown team=platform severity=critical", "platform-page") for s in STACKS],
    # prod: a service with a PagerDuty service of its own (reliability:oncall, servicesPer: service) pages it.
    ("prod", "team=payments severity=page service=checkout-api slo=availability", "payments-page-checkout-api"),
    ("prod", "team=search severity=critical service=search-api", "search-page-search-api"),
    ("prod", "team=platform severity=page service=feature-flags slo=availability", "platform-page-feature-flags"),
    ("prod", "team=payments severity=ticket service=checkout-api slo=availability", "payments-ticket"),
    ("staging", "team=payments severity=page service=checkout-api slo=availability", "payments-page"),
]


@pytest.mark.parametrize(("stack", "labels", "receiver"), ROUTES)
def test_routing_table(configs: dict[str, Path], stack: str, labels: str, receiver: str) -> None:
    result = amtool("config", "routes", "test", f"--config.file={configs[stack]}", f"--verify.receivers={receiver}",
                    *labels.split())
    assert result.returncode == 0, f"{labels} -> {result.stdout.strip()} (expected {receiver})"


def receivers(stack: str) -> dict[str, dict]:
    return {r["name"]: r for r in yaml.safe_load(stack_config(stack))["receivers"]}


def test_local_and_dev_never_page_a_pager() -> None:
    for stack in ("local", "dev"):
        for name, receiver in receivers(stack).items():
            assert "pagerduty_configs" not in receiver and "opsgenie_configs" not in receiver, (stack, name)
    dev = receivers("dev")
    assert dev["payments-page"]["slack_configs"][0]["channel"] == "#payments-dev"
    assert set(receivers("local")["payments-page"]) == {"name"}  # local notifies nobody


def test_prod_pages_pagers_and_credentials_are_files() -> None:
    prod = receivers("prod")
    # prod's pages go to the PagerDuty services reliability:oncall creates; their keys are files too.
    assert prod["payments-page"]["pagerduty_configs"][0]["routing_key_file"] == (
        f"{SECRETS_DIR}/alertmanager-credentials/pagerduty.payments")
    assert prod["platform-page-feature-flags"]["pagerduty_configs"][0]["routing_key_file"] == (
        f"{SECRETS_DIR}/alertmanager-credentials/pagerduty.platform.feature-flags")
    assert prod["payments-page-checkout-api"]["pagerduty_configs"][0]["routing_key_file"] == (
        f"{SECRETS_DIR}/alertmanager-credentials/pagerduty.payments.checkout-api")
    staging = receivers("staging")
    assert staging["search-page"]["opsgenie_configs"][0] == {
        "api_key_file": f"{SECRETS_DIR}/alertmanager-credentials/search-page", "priority": "P1", "send_resolved": True}
    assert prod["payments-ticket"]["slack_configs"][0]["api_url_file"].endswith("/payments-ticket")
    heartbeat = prod["heartbeat"]["webhook_configs"][0]
    assert heartbeat["url"] == "https://api.opsgenie.com/v2/heartbeats/reliability-prod/ping"
    assert heartbeat["http_config"]["authorization"] == {
        "type": "GenieKey", "credentials_file": f"{SECRETS_DIR}/alertmanager-credentials/heartbeat"}
    text = stack_config("prod")
    assert "hooks.slack.com" not in text and not re.search(r"(routing_key|api_key|api_url|url):\s*[a-f0-9]{20}", text)


def test_grouping_and_inhibition_settings() -> None:
    config = yaml.safe_load(stack_config("prod"))
    assert config["inhibit_rules"] == [{"source_matchers": ['severity=~"page|critical"', 'slo=~".+"'],
                                        "target_matchers": ['severity="ticket"', 'slo=~".+"'],
                                        "equal": ["service", "slo"]}]
    team = next(r for r in config["route"]["routes"] if r["matchers"] == ['team="payments"'])
    assert team["group_by"] == ["alertname", "service", "slo"]
    page, ticket = team["routes"]
    assert (page["group_wait"], page["repeat_interval"]) == ("30s", "1h")
    assert (ticket["group_wait"], ticket["repeat_interval"]) == ("5m", "24h")


ROUTING_PROBLEMS = [
    ("dev", {"teams": {"payments": {"page": {"pagerduty": {"routingKey": "k"}}, "ticket": {"slack": {
        "channel": "#p", "webhook": "k"}}}}},
     "reliability:alerting.teams.payments.page.pagerduty: dev must not page anyone: pages go to chat here "
     "(slack or webhook)"),
    ("prod", {"teams": {"payments": {"ticket": {"slack": {"channel": "#p", "webhook": "k"}}}}},
     "reliability:alerting.teams.payments: missing page: prod needs a pager for this team (pagerduty or opsgenie)"),
    ("prod", {"teams": {"payments": {"page": {"pagerduty": {"routingKey": "typo"}}, "ticket": {"slack": {
        "channel": "#p", "webhook": "k"}}}}},
     "reliability:alerting.teams.payments.page.pagerduty.routingKey: no credential 'typo' in alertingCredentials: "
     "set it with `pulumi config set --secret --path alertingCredentials.typo`"),
    ("staging", {"teams": {"payments": {"page": {"pagerduty": {"routingKey": "k"}}, "ticket": {"opsgenie": {
        "apiKey": "k"}}}}},
     "reliability:alerting.teams.payments.ticket.opsgenie: tickets go to chat (slack or webhook), never to a pager"),
    ("prod", {"catchAll": {"webhook": {"url": "https://user:pw@alerts.example.com/x"}}},
     "reliability:alerting.catchAll.webhook.url: the URL must not carry credentials (user, password or query): "
     "put the token in alertingCredentials and name it in credentials"),
    ("prod", {"heartbeat": {"webhook": "heartbeat"}},
     "reliability:alerting.heartbeat.webhook: expected a mapping of settings (a webhook needs url: "
     "Alertmanager 0.25 cannot read a webhook URL from a file)"),
    ("prod", {"catchAll": {"email": {"to": "x"}}},
     "reliability:alerting.catchAll.email: unknown receiver kind (expected pagerduty, opsgenie, slack or webhook)"),
    ("prod", {"teams": {"payments": {"page": {"pagerduty": {"routingKey": "k"}}, "ticket": {"slack": {
        "channel": "payments alerts", "webhook": "k"}}}}},
     "reliability:alerting.teams.payments.ticket.slack.channel: expected a Slack channel such as #payments-alerts"),
    ("prod", {"catchAll": {}},
     "reliability:alerting.catchAll: no receiver: give one of pagerduty, opsgenie, slack or webhook "
     "(an empty receiver only notifies nobody, which only local may do)"),
]


@pytest.mark.parametrize(("env", "alerting", "message"), ROUTING_PROBLEMS)
def test_routing_config_problems(env: str, alerting: dict, message: str) -> None:
    base = {"catchAll": {"webhook": {"url": "https://alerts.example.com/all"}},
            "heartbeat": {"webhook": {"url": "https://heartbeat.example.com/ping"}}}
    _, problems = parse_routing({**base, **alerting}, env, ["k"])
    assert problems == [message]


def test_timing_overrides() -> None:
    base = {"catchAll": {"webhook": {"url": "https://alerts.example.com/all"}},
            "heartbeat": {"webhook": {"url": "https://heartbeat.example.com/ping"}}}
    routing, problems = parse_routing({**base, "timing": {"page": {"groupWait": "1s", "groupInterval": "5s"}}}, "prod")
    assert problems == []
    assert routing.intervals("page") == {"group_wait": "1s", "group_interval": "5s", "repeat_interval": "1h"}
    assert routing.intervals("ticket") == {"group_wait": "5m", "group_interval": "30m", "repeat_interval": "24h"}
    _, problems = parse_routing({**base, "timing": {"page": {"groupWait": "soon"}, "urgent": {}}}, "prod")
    assert problems == [
        "reliability:alerting.timing.page.groupWait: expected groupWait, groupInterval or repeatInterval with a "
        "duration such as 30s or 1h",
        "reliability:alerting.timing.urgent: unknown route kind (expected page, ticket, heartbeat, default)",
    ]


def post(am, labels: dict[str, str], minutes: int = 0) -> None:  # type: ignore[no-untyped-def]
    start = datetime.now(UTC) - timedelta(minutes=minutes)
    am.api("/api/v2/alerts", [{"labels": labels, "annotations": {"summary": "test"},
                               "startsAt": start.isoformat(), "endsAt": (start + timedelta(hours=1)).isoformat()}])


def test_a_firing_page_inhibits_the_ticket_of_the_same_slo(configs: dict[str, Path], tmp_path: Path) -> None:
    # The dev config as generated; only the credential files point into the test's folder.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    text = configs["dev"].read_text().replace(f"{SECRETS_DIR}/alertmanager-credentials", str(secrets))
    for name in re.findall(rf"{re.escape(str(secrets))}/([\w-]+)", text):
        (secrets / name).write_text("http://127.0.0.1:9/unused")
    config = tmp_path / "alertmanager.yaml"
    config.write_text(text)
    common = {"service": "checkout-api", "team": "payments", "alertname": "CheckoutApiAvailabilityBudgetBurn"}
    with alertmanager(config, tmp_path / "am") as am:
        post(am, {**common, "slo": "availability", "severity": "page"})
        post(am, {**common, "slo": "availability", "severity": "ticket"})
        post(am, {**common, "slo": "latency", "severity": "ticket"})  # another SLO: not inhibited
        # A mixin's `critical` pages too, so it holds back the ticket of its SLO...
        post(am, {**common, "slo": "errors", "severity": "critical"})
        post(am, {**common, "slo": "errors", "severity": "ticket"})
        # ...but alerts without service/slo (non-SLO alerts) never inhibit one another: Alertmanager
        # counts two missing labels as equal, so a page of one team would silence another's ticket.
        post(am, {"alertname": "PaymentsDBDown", "team": "payments", "severity": "page"})
        post(am, {"alertname": "SearchIndexLag", "team": "search", "severity": "ticket"})
        deadline = time.monotonic() + 10
        while True:
            state = {(a["labels"].get("slo", a["labels"]["alertname"]), a["labels"]["severity"]): a["status"]
                     for a in am.alerts()}
            if len(state) == 7 and all(state[(slo, "ticket")]["state"] == "suppressed"
                                       for slo in ("availability", "errors")):
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        page = next(a for a in am.alerts(severity="page") if a["labels"].get("slo") == "availability")
        critical = next(a for a in am.alerts(severity="critical"))
        assert state[("availability", "ticket")]["inhibitedBy"] == [page["fingerprint"]]
        assert state[("errors", "ticket")]["inhibitedBy"] == [critical["fingerprint"]]
        assert state[("availability", "page")]["state"] == "active"
        assert state[("latency", "ticket")] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
        assert state[("SearchIndexLag", "ticket")] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}


def test_validate_env_names_the_spec_the_team_and_the_env(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (REPO / "stacks" / "Pulumi.dev.yaml").read_text()
    (stacks / "Pulumi.dev.yaml").write_text(text.replace("      fulfilment:\n", "      fulfillment:\n"))
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", "slo-specs", "--env", "dev",
                           "--stacks-dir", str(stacks)], capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if ": warning: " not in line]
    assert errors == [
        "slo-specs/order-worker.yaml:8: -: team: team 'fulfilment' has no alert routing in environment 'dev': "
        f"add reliability:alerting.teams.fulfilment to {stacks}/Pulumi.dev.yaml (the YAML to add is printed below)",
        f"to route fulfilment in {stacks}/Pulumi.dev.yaml, add to its reliability:alerting teams "
        "(receivers shaped like the file's other teams; adjust them):",
        "config:",
        "  reliability:alerting:",
        "    teams:",
        "      fulfilment:",
        # Shaped like fulfillment (the first team of the file), whose chat credential exists already.
        "        page: {slack: {channel: '#fulfilment-dev', webhook: fulfilment-chat}}",
        "        ticket: {slack: {channel: '#fulfilment-dev', webhook: fulfilment-chat}}",
        "1 problem(s) in 4 file(s)",
    ]
    ok = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", "slo-specs", "--env", "prod"],
                        capture_output=True, text=True, cwd=REPO, check=False)
    assert ok.returncode == 0, ok.stderr


def test_render_fails_on_a_team_without_routing() -> None:
    import json

    import pulumi

    from reliability.platform.render import render

    stack_in = stack_input("dev")
    routing = json.loads(stack_in.values["reliability:alerting"])
    del routing["teams"]["fulfilment"]
    with pytest.raises(pulumi.RunError) as info:
        render("dev", overrides={"reliability:alerting": json.dumps(routing)})
    assert ("  slo-specs/order-worker.yaml:8: -: team: team 'fulfilment' has no alert routing in environment 'dev': "
            "add reliability:alerting.teams.fulfilment to stacks/Pulumi.dev.yaml") in str(info.value)


@pytest.mark.parametrize("stack", STACKS)
def test_render_writes_the_exact_alertmanager_config(stack: str, tmp_path: Path) -> None:
    from reliability.platform.render import render

    files = render(stack)
    assert files["alertmanager/alertmanager.yaml"] == stack_config(stack)


def test_the_program_refuses_a_generated_config_its_check_rejects(monkeypatch: pytest.MonkeyPatch) -> None:
    """A generator bug stops `pulumi up` before the config Secret exists, not in a reloading Alertmanager."""
    import pulumi

    from reliability.alerting import generate
    from reliability.platform.render import render

    real = generate.render_config
    monkeypatch.setattr(generate, "render_config",
                        lambda routing: real(routing).replace("receiver: catch-all", "receiver: nobody", 1))
    with pytest.raises(pulumi.RunError) as info:
        render("dev")
    assert str(info.value).startswith("the generated alertmanager.yaml for 'dev' is invalid:\n")
    assert "route.receiver: undefined receiver 'nobody'" in str(info.value)


def test_opsgenie_receivers_warn_of_the_end_of_support() -> None:
    stack_in = stack_input("staging")
    cfg, _ = parse("staging", stack_in.values, stack_in.secret_keys, defaults())
    routing, problems = parse_routing(cfg.alerting, cfg.environment, cfg.credential_keys)
    assert problems == []
    assert routing_warnings(routing) == [
        "reliability:alerting: receiver search-page uses OpsGenie, which reaches its end of support on 2027-04-05: "
        "move the team to PagerDuty (reliability:oncall creates its service and routing key)"]
    prod = stack_input("prod")
    cfg, _ = parse("prod", prod.values, prod.secret_keys, defaults())
    assert routing_warnings(parse_routing(cfg.alerting, "prod", cfg.credential_keys)[0]) == []


def test_the_render_says_it_too(caplog: pytest.LogCaptureFixture) -> None:
    from reliability.platform.render import render

    with caplog.at_level("WARNING"):
        render("staging")
    assert [r.getMessage() for r in caplog.records if "OpsGenie" in r.getMessage()] == [
        "reliability:alerting: receiver search-page uses OpsGenie, which reaches its end of support on 2027-04-05: "
        "move the team to PagerDuty (reliability:oncall creates its service and routing key)"]
NEW_TEAM_SPEC = spec_header("cart-api", "checkout") + """\
  - name: availability
    objective: 99.9
    sli: {ratio: {errors: 'http_requests_total{job="cart",code=~"5.."}', total: 'http_requests_total{job="cart"}'}}
"""


def test_validate_every_env_prints_the_yaml_and_credential_commands_per_stack(tmp_path: Path) -> None:
    (tmp_path / "cart.yaml").write_text(NEW_TEAM_SPEC)
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", str(tmp_path), "--env", "all"],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    # One problem per stack, all in one run; then the exact YAML per stack file.
    assert [line.split(": add ")[0] for line in lines if ": team: " in line] == [
        f"{tmp_path}/cart.yaml:4: -: team: team 'checkout' has no alert routing in environment '{env}'"
        for env in ("dev", "local", "prod", "staging")]
    prod = lines.index("to route checkout in stacks/Pulumi.prod.yaml, add to its reliability:alerting teams "
                       "(receivers shaped like the file's other teams; adjust them):")
    assert lines[prod + 1:prod + 10] == [
        "config:",
        "  reliability:alerting:",
        "    teams:",
        "      checkout:",
        "        page: {pagerduty: {routingKey: checkout-page}}",
        "        ticket: {slack: {channel: '#checkout-alerts', webhook: checkout-ticket}}",
        "then store each credential encrypted (Pulumi prompts for the value, so it stays out of shell history):",
        "  pulumi config set --secret --path alertingCredentials.checkout-page --stack prod    "
        "# the PagerDuty routing key",
        "  pulumi config set --secret --path alertingCredentials.checkout-ticket --stack prod  "
        "# the Slack webhook URL",
    ]
    local = lines.index("to route checkout in stacks/Pulumi.local.yaml, add to its reliability:alerting teams "
                        "(receivers shaped like the file's other teams; adjust them):")
    assert lines[local + 4:local + 6] == ["      checkout:", "        ticket: {}"]
    assert not lines[local + 6].startswith("then store")  # local notifies nobody: no credential to set
    # The added YAML is what the stack file needs: pasted in, every environment passes.
    stacks = tmp_path / "stacks"
    shutil.copytree(REPO / "stacks", stacks)
    for env in ("dev", "local", "prod", "staging"):
        start = lines.index(f"to route checkout in stacks/Pulumi.{env}.yaml, add to its reliability:alerting teams "
                            "(receivers shaped like the file's other teams; adjust them):")
        block = [line for line in lines[start + 5:start + 7] if line.startswith("        ")]
        path = stacks / f"Pulumi.{env}.yaml"
        text = path.read_text().replace("    teams:\n", "    teams:\n      checkout:\n"
                                        + "".join(f"{b}\n" for b in block), 1)
        # What the printed `pulumi config set --secret --path` commands add to the file.
        for name in re.findall(rf"alertingCredentials\.(\S+) --stack {env} ", proc.stderr):
            text = text.replace("  reliability:alertingCredentials:\n", "  reliability:alertingCredentials:\n"
                                f"    {name}: {{secure: v1:placeholder}}\n", 1)
        path.write_text(text)
    ok = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", str(tmp_path / "cart.yaml"),
                         "--env", "all", "--stacks-dir", str(stacks)], capture_output=True, text=True, cwd=REPO,
                        check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == [f"ok for {env}: 1 SLO(s) in 1 service(s), 1 file(s)"
                                      for env in ("dev", "local", "prod", "staging")]


def test_several_envs_are_all_checked_and_compile_refuses_them(tmp_path: Path) -> None:
    (tmp_path / "cart.yaml").write_text(NEW_TEAM_SPEC)
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", str(tmp_path), "--env", "dev",
                           "--env", "prod"], capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 2
    assert "in environment 'dev'" in proc.stderr and "in environment 'prod'" in proc.stderr
    out = tmp_path / "out"
    compiled = subprocess.run([sys.executable, "-m", "reliability", "slo", "compile", "slo-specs", "--env", "dev",
                               "--env", "prod", "--out", str(out)], capture_output=True, text=True, cwd=REPO,
                              check=False)
    assert compiled.returncode == 2
    assert compiled.stderr == ("sre slo compile: --env names 2 environments (dev, prod): an output folder holds one "
                               "environment's rules; compile once per environment, each to its own --out\n")
    assert not out.exists()


def test_chat_titles_lead_with_the_severity_and_link_the_dashboard() -> None:
    from reliability.alerting.generate import config

    # dev sends a team's pages and tickets to one channel: the title must tell them apart.
    dev = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    routing, problems = parse_routing(dev["reliability:alerting"], "dev")
    assert problems == []
    receivers = {r["name"]: r for r in config(routing)["receivers"]}
    [slack] = receivers["payments-page"]["slack_configs"]
    assert slack["title"] == ("[{{ .Status | toUpper }}]{{ if .CommonLabels.severity }} "
                              "{{ .CommonLabels.severity | toUpper }}{{ end }} {{ .CommonLabels.service }} "
                              "{{ .CommonLabels.slo }}: {{ .CommonLabels.alertname }}")
    assert "{{ if .Annotations.dashboard_url }}Dashboard: {{ .Annotations.dashboard_url }}\n{{ end }}" in slack["text"]
    assert receivers["payments-ticket"]["slack_configs"][0]["title"] == slack["title"]


def test_validate_env_names_the_line_of_a_routing_problem(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (REPO / "stacks" / "Pulumi.dev.yaml").read_text()
    broken = text.replace('        ticket: {slack: {channel: "#payments-dev"', '        tickets: {slack: {channel: "#payments-dev"')
    assert broken != text
    (stacks / "Pulumi.dev.yaml").write_text(broken)
    payments = broken.splitlines().index("      payments:") + 1
    proc = subprocess.run([sys.executable, "-m", "reliability", "slo", "validate", "slo-specs", "--env", "dev",
                           "--stacks-dir", str(stacks)], capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 2
    assert [line for line in proc.stderr.splitlines() if ": warning: " not in line] == [
        f"{stacks}/Pulumi.dev.yaml:{payments}: -: -: reliability:alerting.teams.payments: missing ticket: "
        "where this team's tickets go (slack or webhook)",
        f"{stacks}/Pulumi.dev.yaml:{payments + 2}: -: -: reliability:alerting.teams.payments.tickets: unknown key "
        "(did you mean 'ticket'?)",
        "2 problem(s) in 4 file(s)",
    ]


def _render_with_amtool(template: str, data: dict, tmp_path: Path) -> str:
    """`template` executed by Alertmanager's own template code (amtool, with its default templates) on `data`."""
    (tmp_path / "none.tmpl").write_text("")
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    proc = subprocess.run([tool("amtool"), "template", "render", f"--template.glob={tmp_path}/*.tmpl",
                           f"--template.text={template}", f"--template.data={data_file}"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_page_and_a_ticket_in_one_chat_channel_get_different_titles(tmp_path: Path) -> None:
    from reliability.alerting.generate import config

    from ...unit.slo.helpers import compile_examples, rules_of

    # dev sends payments' pages and tickets to one Slack channel, with the same title template.
    dev = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    routing, problems = parse_routing(dev["reliability:alerting"], "dev")
    assert problems == []
    receivers = {r["name"]: r for r in config(routing)["receivers"]}
    [page_slack], [ticket_slack] = receivers["payments-page"]["slack_configs"], receivers["payments-ticket"]["slack_configs"]
    # The labels the compiled burn-rate alerts fire with, as Alertmanager groups them.
    burns = {r["labels"]["severity"]: r for r in rules_of(compile_examples()) if r.get("alert") ==
             "CheckoutApiAvailabilityBudgetBurn"}
    rendered = {}
    for severity, slack in (("page", page_slack), ("ticket", ticket_slack)):
        labels = {"alertname": burns[severity]["alert"], **burns[severity]["labels"]}
        annotations = {"summary": "checkout-api availability burns its budget", "description": "14.4x",
                       "runbook_url": "https://runbooks.example.com/checkout-api#availability",
                       "dashboard_url": "https://grafana.dev.example.com/d/slo-checkout-api"}
        alert = {"status": "firing", "labels": labels, "annotations": annotations,
                 "startsAt": "2026-12-05T05:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                 "fingerprint": severity}
        data = {"receiver": f"payments-{severity}", "status": "firing", "alerts": [alert],
                "groupLabels": {k: labels[k] for k in ("alertname", "service", "slo")}, "commonLabels": labels,
                "commonAnnotations": annotations, "externalURL": "http://alertmanager:9093"}
        rendered[severity] = (_render_with_amtool(slack["title"], data, tmp_path),
                              _render_with_amtool(slack["text"], data, tmp_path))
    assert rendered["page"][0] == "[FIRING] PAGE checkout-api availability: CheckoutApiAvailabilityBudgetBurn"
    assert rendered["ticket"][0] == "[FIRING] TICKET checkout-api availability: CheckoutApiAvailabilityBudgetBurn"
    assert rendered["page"][1] == ("*checkout-api availability burns its budget*\n14.4x\n"
                                   "Runbook: https://runbooks.example.com/checkout-api#availability\n"
                                   "Dashboard: https://grafana.dev.example.com/d/slo-checkout-api\n")
