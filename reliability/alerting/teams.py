"""`sre slo validate --env ENV`: every spec's owner team must have alert routing in that environment,
and every service `reliability:oncall` gives a PagerDuty service of its own is one of that team's specs.

Reads the routing structure from stacks/Pulumi.<ENV>.yaml (no secrets needed: only
the names of credentials appear in it), so a pull request that adds a spec for a
team nobody routes fails before anything is deployed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..problems import Location, Problems
from .routing import managed_key, managed_teams, parse_routing, unrouted, with_managed_pages


def _stack_config(path: Path, problems: Problems) -> dict[str, Any] | None:
    if not path.exists():
        problems.add(Location(str(path), 1), None, None,
                     "no stack file for this environment: pass --stacks-dir or an --env that has a stack")
        return None
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        problems.add(Location(str(path), 1), None, None, f"YAML error: {exc}")
        return None
    config = data.get("config") if isinstance(data, dict) else None
    return config if isinstance(config, dict) else {}


def check_teams(services: list[Any], env: str, stacks_dir: str, problems: Problems) -> None:
    path = Path(stacks_dir) / f"Pulumi.{env}.yaml"
    config = _stack_config(path, problems)
    if config is None:
        return
    alerting = config.get("reliability:alerting") or {}
    if isinstance(alerting, dict):
        alerting, _ = with_managed_pages(alerting, managed_teams(config.get("reliability:oncall")))
    managed = [managed_key(t, s) for t, services in managed_teams(config.get("reliability:oncall")).items()
               for s in (None, *services)]
    environment = str(config.get("reliability:environment", env))
    credentials = config.get("reliability:alertingCredentials")
    routing, routing_problems = parse_routing(alerting if isinstance(alerting, dict) else {}, environment,
                                              [*credentials, *managed] if isinstance(credentials, dict) else None)
    for message in routing_problems:
        problems.add(Location(str(path), 1), None, None, message)
    for service, message in unrouted(services, routing, str(path)):
        problems.add(service.team_source or service.source, None, "team", message)
    owned: dict[str, set[str]] = {}
    for service in services:
        owned.setdefault(service.team, set()).add(service.name)
    # A warning: the specs validated may be a subset (one folder, one new spec) of what the stack deploys.
    for team, listed in sorted(managed_teams(config.get("reliability:oncall")).items()):
        for name in listed:
            if team in owned and name not in owned[team]:
                theirs = ", ".join(sorted(owned[team]))
                problems.warn(Location(str(path), 1), None, f"reliability:oncall.teams.{team}.services",
                             f"'{name}' is not an SLO'd service of team {team} here (its services: {theirs}): "
                             "its PagerDuty service would never be paged; fix the name or remove it")
