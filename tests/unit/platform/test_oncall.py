"""PagerDuty on-call under Pulumi's mocks: what is created, how it is wired, and where.

The routing key of every Events API v2 integration must reach the Alertmanager credentials
Secret as a Pulumi secret, and appear in plain text nowhere.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from reliability.platform.config import ConfigError
from reliability.platform.render import _make_mocks, _make_monitor, render, run_program, stack_input

from .conftest import STACKS, of_type, one, resources

PD = "pagerduty:index/"
SIG, SECRET = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def test_prod_creates_each_teams_on_call():
    kinds = Counter((r["type"].split(":")[-1], r["name"].split("-")[2]) for r in of_type("prod", PD))
    assert {k: n for k, n in kinds.items() if k[1] == "payments"} == {
        ("Team", "payments"): 1, ("TeamMembership", "payments"): 4, ("Schedule", "payments"): 2,
        ("EscalationPolicy", "payments"): 1, ("Service", "payments"): 2, ("ServiceIntegration", "payments"): 2,
    }
    # platform lists no services of its own: one PagerDuty service for the team.
    assert kinds[("Service", "platform")] == 1 and kinds[("ServiceIntegration", "platform")] == 1


def test_users_are_looked_up_not_created_and_schedules_follow_the_layers():
    assert not [r for r in of_type("prod", PD) if r["type"].endswith("user:User")]
    member = one("prod", f"{PD}teamMembership:TeamMembership", "reliability-oncall-payments-member-cy@acme.example")
    # The mocked getUser answers P + the address's local part: the id came from the lookup.
    assert member["inputs"] == {"role": "responder", "teamId": "reliability-oncall-payments-team-id", "userId": "PCY"}
    schedule = one("prod", f"{PD}schedule:Schedule", "reliability-oncall-platform-primary")["inputs"]
    assert schedule["timeZone"] == "Europe/Dublin" and schedule["teams"] == ["reliability-oncall-platform-team-id"]
    # Two layers: day shift in Dublin, night shift in New York (20:00 EST is -05:00 in January).
    assert [(x["start"], x["rotationTurnLengthSeconds"], x["users"]) for x in schedule["layers"]] == [
        ("2026-01-05T08:00:00+00:00", 43200, ["PKAI", "PMO"]),
        ("2026-01-05T20:00:00-05:00", 43200, ["PSAM"]),
    ]


def test_escalation_policy_and_services_are_wired():
    policy = one("prod", f"{PD}escalationPolicy:EscalationPolicy", "reliability-oncall-payments-escalation")["inputs"]
    assert policy["name"] == "payments" and policy["numLoops"] == 2
    assert policy["teams"] == "reliability-oncall-payments-team-id"
    assert [(r["escalationDelayInMinutes"], r["targets"]) for r in policy["rules"]] == [
        (15, [{"id": "reliability-oncall-payments-primary-id", "type": "schedule_reference"}]),
        (15, [{"id": "reliability-oncall-payments-secondary-id", "type": "schedule_reference"}]),
        (30, [{"id": "PDEE", "type": "user_reference"}]),
    ]
    service = one("prod", f"{PD}service:Service", "reliability-oncall-payments-service-checkout-api")["inputs"]
    assert service["escalationPolicy"] == "reliability-oncall-payments-escalation-id"
    assert service["name"] == "checkout-api (prod)"
    events = one("prod", f"{PD}serviceIntegration:ServiceIntegration",
                 "reliability-oncall-payments-events-checkout-api")["inputs"]
    assert events["type"] == "events_api_v2_inbound_integration"
    assert events["service"] == "reliability-oncall-payments-service-checkout-api-id"


@pytest.mark.parametrize("stack", [s for s in STACKS if s != "prod"])
def test_only_stacks_that_enable_it_create_pagerduty_resources(stack):
    assert of_type(stack, PD) == []


def test_dev_refuses_to_page():
    oncall = json.loads(stack_input("prod").values["reliability:oncall"])
    with pytest.raises(ConfigError) as info:
        render("dev", overrides={"reliability:oncall": json.dumps(oncall)})
    # Located in the stack file: `stacks/Pulumi.dev.yaml:LINE: reliability:oncall...`.
    assert any(": reliability:oncall.enabled: dev never pages anyone" in p for p in info.value.problems)


def _unwrap(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict) and value.get(SIG) == SECRET:
        return value["value"], True
    return value, False


def test_routing_keys_reach_the_credentials_secret_as_secrets_and_nowhere_in_plain_text():
    mocks = _make_mocks()
    seen: list[tuple[str, str, dict[str, Any]]] = []

    class Capture(type(mocks)):  # type: ignore[misc]
        def new_resource(self, args: Any) -> Any:
            seen.append((args.typ, args.name, args.inputs))
            return super().new_resource(args)

    run_program(stack_input("prod"), _make_monitor(Capture()))
    keys = {name: f"mock-routing-key-{name}" for typ, name, _ in seen if typ.endswith("ServiceIntegration")}
    assert len(keys) == 7  # 4 teams, 3 services of their own
    credentials = [inputs for typ, name, inputs in seen if name == "reliability-alerting-credentials"]
    assert len(credentials) == 1
    data, secret = _unwrap(credentials[0]["stringData"])
    values = {k: _unwrap(v) for k, v in data.items()} if not secret else {k: (v, True) for k, v in data.items()}
    assert values["pagerduty.payments"] == ("mock-routing-key-reliability-oncall-payments-events", True)
    assert values["pagerduty.payments.checkout-api"] == (
        "mock-routing-key-reliability-oncall-payments-events-checkout-api", True)
    # Everything else the program registered, with secrets left out: no key anywhere.
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return None if value.get(SIG) == SECRET else {k: plain(v) for k, v in value.items()}
        return [plain(v) for v in value] if isinstance(value, list) else value
    text = json.dumps([plain(inputs) for _, _, inputs in seen], default=str)
    assert not [key for key in keys.values() if key in text]
    assert "mock-routing-key" not in resources_text()


def resources_text() -> str:
    return json.dumps(resources("prod"))


def test_staging_can_turn_it_on():
    prod = stack_input("prod").values
    # prod's teams page through PagerDuty only: a hand-written page receiver would be refused.
    files = render("staging", overrides={key: prod[key] for key in ("reliability:oncall", "reliability:alerting")})
    types = Counter(r["type"] for r in json.loads(files["resources.json"]) if r["type"].startswith(PD))
    assert types[f"{PD}serviceIntegration:ServiceIntegration"] == 7
