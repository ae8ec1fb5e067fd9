"""The stack config: declared keys, defaults per env, every bad key named at once."""

from __future__ import annotations

import json
import re
import shlex

import pulumi
import pytest
import yaml

from components.program import defaults
from reliability.alerting.routing import set_secret_command
from reliability.platform.config import KEYS, PROJECT, ConfigError, parse
from reliability.platform.render import stack_input

from .conftest import REPO, STACKS

# The least routing a cloud environment accepts: a catch-all and a heartbeat (no credentials needed).
ROUTING = {"catchAll": {"webhook": {"url": "https://alerts.example.com/catch-all"}},
           "heartbeat": {"webhook": {"url": "https://heartbeat.example.com/ping"}}}


# Not an example account id: the placeholder check lets it through.
ADMIN = "arn:aws:iam::406215198574:role/platform-admin"


def good(env: str = "dev", **extra: object) -> dict[str, str]:
    values = {f"{PROJECT}:environment": env}
    if env != "local":
        values[f"{PROJECT}:cluster"] = json.dumps({"region": "eu-west-1", "adminArns": [ADMIN]})
        values[f"{PROJECT}:alerting"] = json.dumps(ROUTING)
    values.update({f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in extra.items()})
    return values


def problems(
    values: dict[str, str], stack: str = "dev", secret_keys: frozenset[str] = frozenset()
) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(stack, values, secret_keys, defaults())
    return info.value.problems


def test_pulumi_yaml_declares_exactly_the_keys_the_program_reads():
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert project["stackConfigDir"] == "stacks"
    assert list(project["config"]) == list(KEYS)
    for key, decl in project["config"].items():
        assert decl["type"] in ("string", "object", "boolean") and decl["description"], key
        assert key == "environment" or "default" in decl, key


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_is_valid(stack):
    stack_in = stack_input(stack)
    cfg, secrets = parse(stack, stack_in.values, stack_in.secret_keys, defaults())
    assert cfg.environment == stack
    assert {"payments", "platform", "search"} <= set(cfg.alerting["teams"])
    if stack != "local":
        assert set(secrets["alertingCredentials"].values()) == {"[secret]"}


def test_stack_values_override_env_defaults_leaf_by_leaf():
    cfg, _ = parse("dev", good(retention={"logs": "3d"}, replicas={"loki": 2}), frozenset(), defaults())
    assert cfg.retention.logs == "3d" and cfg.retention.metrics_raw == "7d"
    assert cfg.replicas.loki == 2 and cfg.replicas.prometheus == 1


def test_several_bad_keys_are_reported_together():
    found = problems(
        good(
            retention={"logs": "forever", "colour": "red"},
            replicas={"prometheus": 0},
            resources={"grafana": {"cpu": "lots"}},
            color="blue",
            alerting={"teams": {"Payments": {"page": {}}}, "pager": {}, **ROUTING},
        )
    )
    # Unknown keys first, with a did-you-mean or the known keys; each value shown with a good example.
    assert found == [
        "reliability:alerting.pager: unknown key (known keys: catchAll, heartbeat, teams, timing)",
        f"reliability:color: unknown key (declared keys: {', '.join(sorted(KEYS))})",
        "reliability:retention.colour: unknown key (known keys: logs, metrics1h, metrics5m, metricsRaw, "
        "prometheus, traces)",
        "reliability:alerting.teams.Payments.page: no receiver: give one of pagerduty, opsgenie, slack or "
        "webhook (an empty receiver only notifies nobody, which only local may do)",
        "reliability:alerting.teams.Payments: missing ticket: where this team's tickets go (slack or webhook)",
        "reliability:alerting.teams.Payments: team name 'Payments' is not valid: lowercase letters, digits, '-' and "
        "'_', starting and ending with a letter or digit; write payments",
        "reliability:replicas.prometheus: must be at least 1, got 0",
        'reliability:resources.grafana.cpu: "lots" is not valid here: write a CPU amount such as 250m or 1',
        "reliability:retention.logs: 'forever' is not a duration like 5m, 1h or 30d",
    ]


@pytest.mark.parametrize(
    ("values", "stack", "message"),
    [
        (
            {f"{PROJECT}:environment": "qa"},
            "qa",
            "reliability:environment: 'qa' is not one of local, dev, staging, prod",
        ),
        (good("dev"), "prod", "reliability:environment: 'dev' on stack 'prod'"),
        (
            good("local", cluster={"region": "eu-west-1"}),
            "local",
            "reliability:cluster: local uses the current kube",
        ),
        ({f"{PROJECT}:environment": "prod"}, "prod", "reliability:cluster.region: required for prod"),
        (good("dev", kubeContext="kind-kind"), "dev", "reliability:kubeContext: only used by local"),
        (
            good("dev", cluster={"region": "eu-west-1", "adminArns": [ADMIN], "publicAccessCidrs": ["0.0.0.0/0"]}),
            "dev",
            "reliability:cluster.publicAccessCidrs: 0.0.0.0/0 opens the Kubernetes API",
        ),
        (
            good(
                "dev",
                cluster={"region": "eu-west-1", "adminArns": [ADMIN], "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
            ),
            "dev",
            "reliability:cluster.publicAccessCidrs: 0.0.0.0/1 opens the Kubernetes API to a large part of the "
            "internet; list your networks (/8 or narrower)",
        ),
        (
            good("dev", alertingCredentials={"payments-page": "key"}),
            "dev",
            "reliability:alertingCredentials: must be encrypted",
        ),
        (
            good("dev", alertingCredentials={"payments-page": "key", "search.page": "key"}),
            "dev",
            "reliability:alertingCredentials: must be encrypted: set it with `pulumi config set --secret --path "
            "alertingCredentials.payments-page` and `pulumi config set --secret --path "
            "'alertingCredentials[\"search.page\"]'`",
        ),
        # A string, not a map: no --path (it used to print the malformed --path 'grafanaAdminPassword...').
        (
            good("dev", grafanaAdminPassword="hunter2"),
            "dev",
            "reliability:grafanaAdminPassword: must be encrypted: set it with "
            "`pulumi config set --secret grafanaAdminPassword`",
        ),
        (good("dev", deployEvents="rate(deploys_total[5m])"), "dev",
         'reliability:deployEvents: "rate(deploys_total[5m])" is not a series selector: write a counter such as '
         'deploys_total{env="prod"}'),
        (good("dev", retention="30d"), "dev", "reliability:retention: expected a mapping, got \"30d\": write each "
         "signal's duration, such as {prometheus: 15d, logs: 30d}"),
        (good("dev", retention={"prometheus": 30}), "dev", "reliability:retention.prometheus: expected a duration "
         "with its unit, got 30: write a duration such as 30d"),
        (good("dev", alertng={}), "dev", "reliability:alertng: unknown key (did you mean 'alerting'?)"),
        # A credential pasted as the whole key: refused without repeating it.
        (good("dev", alertingCredentials="hooks.slack.com/T0/B0/XXXX"), "dev", "reliability:alertingCredentials: "
         "expected a mapping, (value not shown): write NAME: secret entries, each set with "
         "`pulumi config set --secret --path alertingCredentials.NAME`"),
        (good("dev", grafanaUrl="grafana.example.com"), "dev", "reliability:grafanaUrl: expected an http(s) URL "
         "such as https://grafana.example.com, got \"grafana.example.com\""),
        (good("dev", canary=True), "dev", "reliability:canary: expected a mapping, got true: write "
         "{argoRollouts: true} or {argoRollouts: false}"),
        (good("dev", canary={"argoRollouts": "true"}), "dev", "reliability:canary.argoRollouts: expected true or "
         "false, got \"true\""),
        (good("dev", canary={"argoRollout": True}), "dev", "reliability:canary.argoRollout: unknown key (did you "
         "mean 'argoRollouts'?)"),
        # No coercion: YAML `true` or a quoted "2" is a mistake, not a replica count.
        (good("dev", replicas={"prometheus": True}), "dev", "reliability:replicas.prometheus: expected a whole "
         "number such as 2, got true"),
        (good("dev", replicas={"loki": "2"}), "dev", "reliability:replicas.loki: expected a whole number such as 2, "
         "got \"2\""),
    ],
)
def test_one_field_broken(values, stack, message):
    assert any(p.startswith(message) for p in problems(values, stack)), problems(values, stack)


def test_encrypted_credentials_are_accepted():
    values = good("dev", alertingCredentials={"payments-page": "s3cr3t-routing"})
    cfg, secrets = parse("dev", values, frozenset({f"{PROJECT}:alertingCredentials"}), defaults())
    assert cfg.credential_keys == ("payments-page",)
    assert secrets["alertingCredentials"] == {"payments-page": "s3cr3t-routing"}
    assert "s3cr3t" not in cfg.model_dump_json()


def test_the_program_raises_run_error_before_creating_anything(tmp_path, monkeypatch):
    # What `pulumi up` prints: each problem at the line of the stack file it is about.
    from reliability.platform import config
    from reliability.platform.render import StackInput, _make_mocks, _make_monitor, run_program

    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  reliability:environment: dev\n"
        "  reliability:replicas:\n"
        "    loki: 0\n"
        "  reliability:volumes:\n"
        "    loki: ten\n"
    )
    monkeypatch.setattr(config, "PROJECT_DIR", tmp_path)
    monitor = _make_monitor(_make_mocks())
    values = good(replicas={"loki": 0}, volumes={"loki": "ten"})
    with pytest.raises(pulumi.RunError) as info:
        run_program(StackInput("dev", values), monitor)
    assert str(info.value) == (
        "invalid config for stack 'dev' (2 problem(s)):\n"
        "  stacks/Pulumi.dev.yaml:4: reliability:replicas.loki: must be at least 1, got 0\n"
        '  stacks/Pulumi.dev.yaml:6: reliability:volumes.loki: "ten" is not valid here: '
        "write a size such as 512Mi or 10Gi"
    )
    assert monitor.registered == []


def test_no_problem_repeats_a_secret():
    found = problems(good("dev", alertingCredentials="hooks.slack.com/T0/B0/XXXX", grafanaAdminPassword="hunter2"))
    assert found and not [p for p in found if "XXXX" in p or "hunter2" in p]


SECRET_COMMAND = re.compile(r"pulumi config set --secret[^`\n]*")


@pytest.mark.parametrize("path", [*sorted((REPO / "stacks").glob("Pulumi.*.yaml")),
                                  *sorted((REPO / "docs").glob("*.md"))],
                         ids=lambda p: p.name)
def test_secret_commands_shown_leave_the_value_to_the_prompt(path):
    # A value on the command line lands in shell history; `pulumi config set --secret KEY` prompts for it.
    commands = [m.group(0).rstrip(" ,;)") for m in SECRET_COMMAND.finditer(path.read_text())]
    for command in commands:
        words = shlex.split(command)[4:]  # after `pulumi config set --secret`: [--path] KEY [--stack NAME]
        words = words[1:] if words[:1] == ["--path"] else words
        rest = words[1:]  # none at all: the text names the command, not a key
        assert rest == [] or (len(rest) == 2 and rest[0] in ("--stack", "-s")), f"{path.name}: {command}"
    if path.parent.name == "stacks":  # the stack files show exactly what the CLI's hints print
        stack = path.name.split(".")[1]
        for command in commands:
            words = shlex.split(command)
            key, entry = (words[5].split(".", 1) if words[4] == "--path" else (words[4], None))
            assert command == set_secret_command(key, entry, stack)
