"""PagerDuty on-call under Pulumi's mocks: what is created, how it is wired, and where.

The routing key of every Events API v2 integration must reach the Alertmanager credentials
Secret as a Pulumi secret, and appear in plain text nowhere.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest
import yaml

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


def _services(stack: str = "prod", overrides: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """PagerDuty service name -> (its Events API v2 integration's name, the Alertmanager key it fills)."""
    found = json.loads(render(stack, overrides=overrides)["resources.json"]) if overrides else list(resources(stack))
    services = {r["name"]: r["inputs"]["name"] for r in found if r["type"] == f"{PD}service:Service"}
    return {services[r["name"].replace("-events", "-service")]: (r["name"], r["inputs"]["service"])
            for r in found if r["type"] == f"{PD}serviceIntegration:ServiceIntegration"}


def test_services_per_service_gives_every_slod_service_of_prod_its_own_pagerduty_service():
    # slo-specs/: checkout-api (payments), order-worker (fulfilment), search-api (search) and
    # feature-flags (platform), which the stack file lists nowhere. Each team also keeps its team-wide
    # service for the pages that name none of its SLO'd services (kube-prometheus-stack's, team=platform).
    teams = ("fulfilment", "payments", "platform", "search")
    assert _services() == {
        **{f"{team} (prod)": (f"reliability-oncall-{team}-events", f"reliability-oncall-{team}-service-id")
           for team in teams},
        "checkout-api (prod)": ("reliability-oncall-payments-events-checkout-api",
                                "reliability-oncall-payments-service-checkout-api-id"),
        "feature-flags (prod)": ("reliability-oncall-platform-events-feature-flags",
                                 "reliability-oncall-platform-service-feature-flags-id"),
        "order-worker (prod)": ("reliability-oncall-fulfilment-events-order-worker",
                                "reliability-oncall-fulfilment-service-order-worker-id"),
        "search-api (prod)": ("reliability-oncall-search-events-search-api",
                              "reliability-oncall-search-service-search-api-id"),
    }
    config = yaml.safe_load(_alertmanager_yaml(_capture(stack_input("prod"))))
    keys = {r["name"]: r["pagerduty_configs"][0]["routing_key_file"].rsplit("/", 1)[1]
            for r in config["receivers"] if "pagerduty_configs" in r}
    assert keys == {**{f"{team}-page": f"pagerduty.{team}" for team in teams},
                    "fulfilment-page-order-worker": "pagerduty.fulfilment.order-worker",
                    "payments-page-checkout-api": "pagerduty.payments.checkout-api",
                    "platform-page-feature-flags": "pagerduty.platform.feature-flags",
                    "search-page-search-api": "pagerduty.search.search-api"}


def test_services_per_team_gives_each_team_one_service_whose_key_every_service_of_the_team_pages():
    prod = stack_input("prod").values
    oncall = json.loads(prod["reliability:oncall"]) | {"servicesPer": "team"}
    overrides = {"reliability:oncall": json.dumps(oncall)}
    assert _services(overrides=overrides) == {
        f"{team} (prod)": (f"reliability-oncall-{team}-events", f"reliability-oncall-{team}-service-id")
        for team in ("fulfilment", "payments", "platform", "search")
    }
    seen = _capture(dataclasses.replace(stack_input("prod"), values={**prod, **overrides}))
    credentials = next(inputs for typ, name, inputs in seen if name == "reliability-alerting-credentials")
    data, secret = _unwrap(credentials["stringData"])
    assert sorted(k for k in data if k.startswith("pagerduty.")) == [
        "pagerduty.fulfilment", "pagerduty.payments", "pagerduty.platform", "pagerduty.search"]
    key, secret_key = _unwrap(data["pagerduty.payments"])
    assert key == "mock-routing-key-reliability-oncall-payments-events" and (secret or secret_key)
    config = yaml.safe_load(_alertmanager_yaml(seen))
    # Every service of the team, SLO'd or not, pages the team's one key.
    assert {r["name"]: r["pagerduty_configs"][0]["routing_key_file"].rsplit("/", 1)[1]
            for r in config["receivers"] if "pagerduty_configs" in r} == {
        f"{team}-page": f"pagerduty.{team}" for team in ("fulfilment", "payments", "platform", "search")}
    team = next(r for r in config["route"]["routes"] if r.get("matchers") == ['team="payments"'])
    assert [(r["receiver"], r.get("routes")) for r in team["routes"]] == [
        ("payments-page", None), ("payments-ticket", None)]


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


def _capture(given: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, inputs) of every resource the program registers under the mocks."""
    mocks = _make_mocks()
    seen: list[tuple[str, str, dict[str, Any]]] = []

    class Capture(type(mocks)):  # type: ignore[misc]
        def new_resource(self, args: Any) -> Any:
            seen.append((args.typ, args.name, args.inputs))
            return super().new_resource(args)

    run_program(given, _make_monitor(Capture()))
    return seen


def _alertmanager_yaml(seen: list[tuple[str, str, dict[str, Any]]]) -> str:
    secret = next(inputs for typ, name, inputs in seen if name.endswith("alertmanager-config"))
    data, _ = _unwrap(secret["stringData"])
    return _unwrap(data["alertmanager.yaml"])[0]


def test_routing_keys_reach_the_credentials_secret_as_secrets_and_nowhere_in_plain_text():
    seen = _capture(stack_input("prod"))
    keys = {name: f"mock-routing-key-{name}" for typ, name, _ in seen if typ.endswith("ServiceIntegration")}
    assert len(keys) == 8  # 4 teams, 4 SLO'd services
    credentials = [inputs for typ, name, inputs in seen if name == "reliability-alerting-credentials"]
    assert len(credentials) == 1
    data, secret = _unwrap(credentials[0]["stringData"])
    values = {k: _unwrap(v) for k, v in data.items()} if not secret else {k: (v, True) for k, v in data.items()}
    assert values["pagerduty.platform"] == ("mock-routing-key-reliability-oncall-platform-events", True)
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
    assert types[f"{PD}serviceIntegration:ServiceIntegration"] == 8
