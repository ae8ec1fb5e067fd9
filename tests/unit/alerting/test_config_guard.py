"""The guard in front of a running Alertmanager: check_config refuses, apply_config never writes or reloads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reliability.alerting.checks import ConfigRejected, ReloadFailed, apply_config, check_config
from reliability.alerting.generate import render_config
from reliability.alerting.routing import parse_routing

from ...alertmanager_proc import alertmanager, free_port
from ...conftest import tool

ROUTING = {
    "teams": {"payments": {"page": {"webhook": {"url": "http://127.0.0.1:9/payments-page"}},
                           "ticket": {"webhook": {"url": "http://127.0.0.1:9/payments-ticket"}}}},
    "catchAll": {"webhook": {"url": "http://127.0.0.1:9/catch-all"}},
    "heartbeat": {"webhook": {"url": "http://127.0.0.1:9/heartbeat"}},
}


def generated(**timing: dict[str, str]) -> str:
    routing, problems = parse_routing({**ROUTING, "timing": timing}, "prod")
    assert problems == []
    return render_config(routing)


def without_receiver(text: str, name: str) -> str:
    data = yaml.safe_load(text)
    data["receivers"] = [r for r in data["receivers"] if r["name"] != name]
    return yaml.safe_dump(data)


GOOD = generated()

# (what went wrong, the broken text, the problems check_config reports)
BROKEN = [
    ("half-written file", GOOD[: GOOD.index("receivers:")], [
        "receivers: expected a non-empty list",
        "route.receiver: undefined receiver 'catch-all'",
        "route.routes[0].receiver: undefined receiver 'heartbeat'",
        "route.routes[1].receiver: undefined receiver 'null'",
        "route.routes[2].receiver: undefined receiver 'payments-ticket'",
        "route.routes[2].routes[0].receiver: undefined receiver 'payments-page'",
        "route.routes[2].routes[1].receiver: undefined receiver 'payments-ticket'",
        "amtool check-config: undefined receiver \"heartbeat\" used in route",
    ]),
    ("a receiver the routes still name", without_receiver(GOOD, "payments-page"), [
        "route.routes[2].routes[0].receiver: undefined receiver 'payments-page'",
        "amtool check-config: undefined receiver \"payments-page\" used in route",
    ]),
    ("a bad duration", GOOD.replace("group_wait: 30s", "group_wait: soon", 1), [
        "route.routes[2].routes[0].group_wait: 'soon' is not a duration such as 30s or 1h",
        "amtool check-config: not a valid duration string: \"soon\"",
    ]),
    ("a misspelt field only Alertmanager knows", GOOD.replace("group_by:", "grup_by:", 1), [
        "amtool check-config: yaml: unmarshal errors: line 6: field grup_by not found in type config.plain",
    ]),
    ("not YAML", GOOD.replace("route:", "route: [", 1), [
        "not YAML at line 6, column 11: expected ',' or ']', but got ':'",
    ]),
    ("an empty file", "", ["expected a mapping with route and receivers",
                           "amtool check-config: no route provided in config"]),
]


def test_every_generated_config_passes() -> None:
    tool("amtool")
    assert check_config(GOOD) == []
    assert check_config(generated(page={"groupWait": "1s", "groupInterval": "2s"})) == []


@pytest.mark.parametrize(("what", "text", "problems"), BROKEN, ids=[b[0] for b in BROKEN])
def test_check_config_names_every_problem(what: str, text: str, problems: list[str]) -> None:
    tool("amtool")
    assert check_config(text) == problems
    # The structural checks alone (what the Pulumi program runs) refuse all but the typo only amtool knows.
    structural = [p for p in problems if not p.startswith("amtool")]
    assert check_config(text, amtool=False) == structural


def test_apply_config_refuses_before_writing_or_reloading(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yaml"
    config.write_text(GOOD)
    with alertmanager(config, tmp_path / "am") as am:
        hash_before = am.metric("alertmanager_config_hash")
        reloaded_before = am.metric("alertmanager_config_last_reload_success_timestamp_seconds")
        for _, text, problems in BROKEN:
            with pytest.raises(ConfigRejected) as info:
                apply_config(text, config, [am.url])
            assert info.value.problems == problems
            assert config.read_text() == GOOD
        assert am.metric("alertmanager_config_hash") == hash_before
        assert am.metric("alertmanager_config_last_reload_success_timestamp_seconds") == reloaded_before
        assert am.metric("alertmanager_config_last_reload_successful") == 1

        changed = generated(page={"repeatInterval": "2h"})
        apply_config(changed, config, [am.url])
        assert config.read_text() == changed
        assert am.metric("alertmanager_config_hash") != hash_before
        assert am.metric("alertmanager_config_last_reload_successful") == 1


def test_a_failed_reload_puts_the_previous_file_back(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yaml"
    config.write_text(GOOD)
    with alertmanager(config, tmp_path / "am") as am:
        hash_before = am.metric("alertmanager_config_hash")
        gone = f"http://127.0.0.1:{free_port()}"  # an instance that is down
        with pytest.raises(ReloadFailed) as info:
            apply_config(generated(page={"repeatInterval": "2h"}), config, [am.url, gone])
        assert len(info.value.failures) == 1 and info.value.failures[0].startswith(f"{gone}: ")
        assert config.read_text() == GOOD
        assert am.metric("alertmanager_config_hash") == hash_before  # reloaded with the previous file again
