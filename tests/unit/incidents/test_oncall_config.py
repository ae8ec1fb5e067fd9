"""`reliability:oncall`: a good team config, one field broken at a time, the exact problem named."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.program import defaults
from reliability.platform.config import PROJECT, ConfigError, parse

ROUTING = {"catchAll": {"webhook": {"url": "https://alerts.example.com/catch-all"}},
           "heartbeat": {"webhook": {"url": "https://heartbeat.example.com/ping"}},
           "teams": {"payments": {"ticket": {"webhook": {"url": "https://chat.example.com/payments"}}}}}
TEAM: dict[str, Any] = {
    "members": ["ana@acme.example", "bo@acme.example", "cy@acme.example"],
    "services": ["checkout-api"],
    "rotations": {"primary": {"layers": [{"length": "7d", "handoff": "2026-03-30T09:00:00",
                                          "timeZone": "Europe/Berlin",
                                          "members": ["ana@acme.example", "bo@acme.example"]}]}},
    "escalation": {"repeat": 1, "levels": [{"escalateAfter": "15m", "rotations": ["primary"]},
                                           {"escalateAfter": "1h", "users": ["cy@acme.example"]}]},
}


# Not an example account id, so the placeholder check lets it through.
ADMIN = "arn:aws:iam::406215198574:role/platform-admin"


def values(env: str = "prod", oncall: Any = None, alerting: Any = None, **extra: Any) -> dict[str, str]:
    out = {f"{PROJECT}:environment": env, f"{PROJECT}:cluster": json.dumps({"region": "eu-west-1", "adminArns": [ADMIN], "nodeGroups": {
        "system": {"instanceTypes": ["m6i.large"], "minSize": 2, "desiredSize": 2, "maxSize": 4}}}),
        f"{PROJECT}:alerting": json.dumps(ROUTING if alerting is None else alerting)}
    if oncall is not None:
        out[f"{PROJECT}:oncall"] = json.dumps(oncall)
    out.update({f"{PROJECT}:{k}": json.dumps(v) for k, v in extra.items()})
    return out


def oncall(change: Any = None) -> dict[str, Any]:
    team = copy.deepcopy(TEAM)
    if change:
        change(team)
    return {"enabled": True, "teams": {"payments": team}}


def problems(vals: dict[str, str], stack: str = "prod") -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(stack, vals, frozenset({f"{PROJECT}:alertingCredentials"}), defaults())
    return info.value.problems


def test_a_good_team_fills_in_the_page_receivers_and_their_credential_names():
    cfg, _ = parse("prod", values(oncall=oncall()), frozenset(), defaults())
    team = cfg.alerting["teams"]["payments"]
    assert team["pageServices"] == {"checkout-api": {"pagerduty": {"routingKey": "pagerduty.payments.checkout-api"}}}
    # The team-wide service takes the team's pages that name no SLO'd service: they still page.
    assert team["page"] == {"pagerduty": {"routingKey": "pagerduty.payments"}}
    assert cfg.credential_keys == ("pagerduty.payments", "pagerduty.payments.checkout-api")
    assert cfg.pagerduty_services == {"payments": (None, "checkout-api")}
    layer = cfg.oncall.teams["payments"].rotations["primary"].layers[0]
    # 2026-03-30 is after the switch to summer time in Berlin: +02:00, not +01:00.
    assert (layer.start, layer.turn_seconds) == ("2026-03-30T09:00:00+02:00", 604800)
    assert [level.delay_minutes for level in cfg.oncall.teams["payments"].escalation.levels] == [15, 60]


def test_services_per_team_gives_one_routing_key_per_team():
    cfg, _ = parse("prod", values(oncall={**oncall(), "servicesPer": "team"}), frozenset(), defaults())
    assert "pageServices" not in cfg.alerting["teams"]["payments"]
    assert cfg.alerting["teams"]["payments"]["page"] == {"pagerduty": {"routingKey": "pagerduty.payments"}}
    assert cfg.credential_keys == ("pagerduty.payments",)
    assert cfg.pagerduty_services == {"payments": (None,)}


def test_the_specs_decide_the_services_when_the_team_lists_none():
    team = copy.deepcopy(TEAM)
    del team["services"]
    platform = copy.deepcopy(team)
    routing = {**ROUTING, "teams": {**ROUTING["teams"], "platform": ROUTING["teams"]["payments"]}}
    cfg, _ = parse("prod", values(oncall={"enabled": True, "teams": {"payments": team, "platform": platform}},
                                  alerting=routing), frozenset(), defaults())
    # feature-flags is listed nowhere, and pages its own service all the same.
    assert cfg.pagerduty_services == {"payments": (None, "checkout-api"), "platform": (None, "feature-flags")}
    assert cfg.alerting["teams"]["platform"]["pageServices"] == {
        "feature-flags": {"pagerduty": {"routingKey": "pagerduty.platform.feature-flags"}}}
    assert cfg.credential_keys == ("pagerduty.payments", "pagerduty.payments.checkout-api", "pagerduty.platform",
                                   "pagerduty.platform.feature-flags")


def test_a_team_without_slos_has_its_team_wide_service_alone():
    team = copy.deepcopy(TEAM)
    del team["services"]
    routing = {**ROUTING, "teams": {**ROUTING["teams"], "identity": ROUTING["teams"]["payments"]}}
    cfg, _ = parse("prod", values(oncall={"enabled": True, "teams": {"payments": team, "identity": team}},
                                  alerting=routing), frozenset(), defaults())
    assert cfg.pagerduty_services == {"identity": (None,), "payments": (None, "checkout-api")}
    assert "pageServices" not in cfg.alerting["teams"]["identity"]


def test_off_by_default_and_the_alerting_config_untouched():
    cfg, _ = parse("prod", values(alerting={**ROUTING, "teams": {"payments": {
        "page": {"pagerduty": {"routingKey": "payments-page"}},
        "ticket": {"webhook": {"url": "https://chat.example.com/payments"}}}}},
        alertingCredentials={"payments-page": "k"}), frozenset({f"{PROJECT}:alertingCredentials"}), defaults())
    assert cfg.oncall.enabled is False and cfg.credential_keys == ("payments-page",)
    assert cfg.alerting["teams"]["payments"]["page"] == {"pagerduty": {"routingKey": "payments-page"}}


def _set(path: str, value: Any):
    def change(team: dict[str, Any]) -> None:
        node: Any = team
        parts = path.replace("[", ".").replace("]", "").split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return change


P = "reliability:oncall.teams.payments"
CASES = [
    (values(env="dev", oncall=oncall()), "dev",
     "reliability:oncall.enabled: dev never pages anyone: only staging and prod create PagerDuty on-call "
     "(set enabled: false)"),
    (values(oncall={"enabled": True}), "prod",
     "reliability:oncall: enabled with no teams: add reliability:oncall.teams.TEAM or set enabled: false"),
    (values(oncall=oncall(_set("members", ["ana@acme.example", "not-an-email"]))), "prod",
     f"{P}.members: 'not-an-email' is not an email address (PagerDuty users are looked up by email)"),
    (values(oncall=oncall(_set("rotations.primary.layers[0].length", "90m"))), "prod",
     f"{P}.rotations.primary.layers[0].length: a turn is whole hours, at least 1h (e.g. 12h, 1d, 7d)"),
    (values(oncall=oncall(_set("rotations.primary.layers[0].timeZone", "Europe/Atlantis"))), "prod",
     f"{P}.rotations.primary.layers[0].timeZone: 'Europe/Atlantis' is not an IANA time zone such as "
     "Europe/Berlin or UTC"),
    (values(oncall=oncall(_set("rotations.primary.layers[0].handoff", "2026-01-05T09:00:00+01:00"))), "prod",
     f"{P}.rotations.primary.layers[0].handoff: give the handoff without an offset: timeZone says where it is"),
    (values(oncall=oncall(_set("rotations.primary.layers[0].members", ["ana@acme.example", "eve@acme.example"]))),
     "prod", f"{P}: rotations.primary.layers[0].members: eve@acme.example is not in the team's members: add it there"),
    (values(oncall=oncall(_set("escalation.levels.1", {"escalateAfter": "30m", "rotations": ["secondary"]}))),
     "prod", f"{P}: escalation.levels[1].rotations: no rotation 'secondary' (rotations: primary)"),
    (values(oncall=oncall(_set("escalation.levels.0", {"escalateAfter": "30s", "rotations": ["primary"]}))),
     "prod", f"{P}.escalation.levels[0].escalateAfter: whole minutes, at least 1m (PagerDuty's escalation delay)"),
    (values(oncall=oncall(_set("escalation.levels.0", {"escalateAfter": "5m"}))),
     "prod", f"{P}.escalation.levels[0]: pages nobody: give rotations or users"),
    (values(oncall=oncall(_set("services", ["Checkout API"]))), "prod",
     f"{P}.services: 'Checkout API' is not a service name"),
    (values(oncall={**oncall(), "servicesPer": "pod"}), "prod",
     "reliability:oncall.servicesPer: Input should be 'service' or 'team'"),
    (values(oncall=oncall(), alerting={**ROUTING, "teams": {"payments": {
        "page": {"pagerduty": {"routingKey": "payments-page"}},
        "ticket": {"webhook": {"url": "https://chat.example.com/payments"}}}}}), "prod",
     "reliability:alerting.teams.payments.page: remove it: the pages of payments go to the PagerDuty service "
     "the stack creates (reliability:oncall.teams.payments)"),
    # A bad name comes with one that would do, not a bare regex.
    (values(oncall={"enabled": True, "teams": {"Payments": TEAM}}), "prod",
     "reliability:oncall: team name 'Payments' is not valid: lowercase letters, digits, '-' and '_', starting and "
     "ending with a letter or digit; write payments"),
    (values(oncall=oncall(lambda team: team.update(rotations={"Day Shift": team["rotations"]["primary"]}))), "prod",
     f"{P}: rotations.Day Shift: rotation name 'Day Shift' is not valid: lowercase letters, digits, '-' and '_', "
     "starting and ending with a letter or digit; write day-shift"),
    (values(oncall=oncall(), alertingCredentials={"pagerduty.payments": "k"}), "prod",
     "reliability:alertingCredentials.pagerduty.payments: the stack writes this routing key itself "
     "(reliability:oncall): remove it"),
    (values(oncall=oncall(), alertingCredentials={"pagerduty.payments.checkout-api": "k"}), "prod",
     "reliability:alertingCredentials.pagerduty.payments.checkout-api: the stack writes this routing key itself "
     "(reliability:oncall): remove it"),
    (values(oncall=oncall(_set("services", ["checkout-api", "checkout"]))), "prod",
     "reliability:oncall.teams.payments.services: 'checkout' is not an SLO'd service of team payments in "
     "slo-specs (its services: checkout-api): its PagerDuty service would never be paged; fix the name or remove it"),
    (values(oncall=oncall(_set("services", []))), "prod",
     "reliability:oncall.teams.payments.services: 'checkout-api' has SLOs owned by team payments "
     "(slo-specs/checkout-api.yaml:7) but is not listed: add it, or remove the list (the specs name the "
     "team's services)"),
]


@pytest.mark.parametrize("vals,stack,message", CASES, ids=[c[2][:60] for c in CASES])
def test_one_field_broken(vals, stack, message):
    found = problems(vals, stack)
    assert any(p.startswith(message) for p in found), found


def _validate_prod_listing(tmp_path, monkeypatch, members: str, services: str) -> tuple[int, int]:
    """`sre slo validate slo-specs --env prod` on a copy whose team (found by its members line) lists
    `services`; the exit code and the line of that list."""
    import shutil
    from pathlib import Path

    from reliability.cli import main

    repo = Path(__file__).resolve().parents[3]
    shutil.copytree(repo / "slo-specs", tmp_path / "slo-specs")
    shutil.copytree(repo / "stacks", tmp_path / "stacks")
    prod = tmp_path / "stacks" / "Pulumi.prod.yaml"
    team = f"        members: [{members}]\n"
    prod.write_text(prod.read_text().replace(team, f"{team}        services: [{services}]\n"))
    monkeypatch.chdir(tmp_path)
    code = main(["slo", "validate", "slo-specs", "--env", "prod"])
    return code, prod.read_text().splitlines().index(f"        services: [{services}]") + 1


def test_validate_names_an_on_call_service_that_no_spec_of_the_team_has(tmp_path, monkeypatch, capsys):
    code, line = _validate_prod_listing(tmp_path, monkeypatch,
                                        "ana@acme.example, bo@acme.example, cy@acme.example, dee@acme.example",
                                        "checkout-api, checkout")
    assert code == 0  # a warning: the specs validated may be a subset
    assert capsys.readouterr().err.splitlines() == [
        f"stacks/Pulumi.prod.yaml:{line}: -: reliability:oncall.teams.payments.services: warning: 'checkout' is not an SLO'd "
        "service of team payments here (its services: checkout-api): its PagerDuty service would never be "
        "paged; fix the name or remove it"]


def test_validate_refuses_an_slod_service_the_teams_list_leaves_out(tmp_path, monkeypatch, capsys):
    code, line = _validate_prod_listing(tmp_path, monkeypatch, "kai@acme.example, mo@acme.example, sam@acme.example",
                                        "")
    assert code == 2
    assert f"stacks/Pulumi.prod.yaml:{line}: -: reliability:oncall.teams.platform.services: 'feature-flags' has " \
           "SLOs owned by team platform (slo-specs/feature-flags.yaml:8) but is not listed: add it, or remove the " \
           "list (the specs name the team's services)" in capsys.readouterr().err.splitlines()
