"""`sre slo validate --env ENV`: every spec's owner team must have alert routing in that environment,
and a team's `reliability:oncall` services list agrees with its specs (an SLO'd service missing from it
is an error; a listed service none of the specs validated has is a warning: they may be a subset).

Reads the routing structure from stacks/Pulumi.<ENV>.yaml (no secrets needed: only
the names of credentials appear in it), so a pull request that adds a spec for a
team nobody routes fails before anything is deployed. For each stack file that lacks
a team, `route_teams_hint` writes the YAML to add and the command for each credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..problems import Location, Problems
from ..yamlio import line_at, load_documents
from .routing import (
    CHAT_ONLY_ENVIRONMENTS,
    managed_key,
    managed_teams,
    parse_routing,
    set_secret_command,
    unrouted,
    with_managed_pages,
)

# What each credential setting holds, for the comment after its `pulumi config set` line.
_CREDENTIAL_SETTINGS = {("pagerduty", "routingKey"): "the PagerDuty routing key",
                        ("opsgenie", "apiKey"): "the Opsgenie API key",
                        ("slack", "webhook"): "the Slack webhook URL",
                        ("webhook", "credentials"): "the webhook's token"}


@dataclass
class MissingTeams:
    """Teams a stack file does not route, and what that file already holds, for the hint."""

    stack: str
    path: str
    config: dict[str, Any]
    teams: list[str] = field(default_factory=list)


def _stack_config(path: Path, problems: Problems) -> tuple[Any, dict[str, Any]] | None:
    """The stack file (with its lines) and its `config:` mapping."""
    if not path.exists():
        problems.add(Location(str(path), 1), None, None,
                     "no stack file for this environment: pass --stacks-dir or an --env that has a stack")
        return None
    found = Problems()
    docs = load_documents(path.read_text(encoding="utf-8"), str(path), found)
    if found:
        problems.extend(found.items)
        return None
    data = docs[0].data if docs else {}
    config = data.get("config") if isinstance(data, dict) else None
    return data, config if isinstance(config, dict) else {}


def _line(data: Any, problem: str) -> int:
    """The line of the key a `reliability:alerting.PATH: message` problem is about (its deepest existing part)."""
    path = problem.split(": ", 1)[0].removeprefix("reliability:").split(".")
    return line_at(data, ("config", f"reliability:{path[0]}", *path[1:]))


def check_teams(services: list[Any], env: str, stacks_dir: str, problems: Problems) -> MissingTeams | None:
    """Add a problem per spec whose team this stack does not route; return those teams for the hint."""
    path = Path(stacks_dir) / f"Pulumi.{env}.yaml"
    loaded = _stack_config(path, problems)
    if loaded is None:
        return None
    data, config = loaded
    oncall = config.get("reliability:oncall")
    owned: dict[str, set[str]] = {}
    for service in services:
        if service.slos:
            owned.setdefault(service.team, set()).add(service.name)
    pagerduty = managed_teams(oncall, owned)
    alerting = config.get("reliability:alerting") or {}
    if isinstance(alerting, dict):
        alerting, _ = with_managed_pages(alerting, pagerduty)
    managed = [managed_key(t, s) for t, services in pagerduty.items() for s in services]
    environment = str(config.get("reliability:environment", env))
    credentials = config.get("reliability:alertingCredentials")
    routing, routing_problems = parse_routing(alerting if isinstance(alerting, dict) else {}, environment,
                                              [*credentials, *managed] if isinstance(credentials, dict) else None)
    for message in routing_problems:
        problems.add(Location(str(path), _line(data, message)), None, None, message)
    missing = MissingTeams(env, str(path), config)
    for service, message in unrouted(services, routing, str(path)):
        problems.add(service.team_source or service.source, None, "team",
                     f"{message} (the YAML to add is printed below)")
        if service.team not in missing.teams:
            missing.teams.append(service.team)
    missing.teams.sort()
    for team, listed in sorted(_listed_services(oncall, pagerduty).items()):
        line = line_at(data, ("config", "reliability:oncall", "teams", team, "services"))
        where = Location(str(path), line)
        # A warning: the specs validated may be a subset (one folder, one new spec) of what the stack deploys.
        for name in sorted(set(listed) - owned.get(team, set())):
            if team in owned:
                theirs = ", ".join(sorted(owned[team]))
                problems.warn(where, None, f"reliability:oncall.teams.{team}.services",
                              f"'{name}' is not an SLO'd service of team {team} here (its services: {theirs}): "
                              "its PagerDuty service would never be paged; fix the name or remove it")
        # An error: this spec is here, and the stack would refuse it (reliability/incidents/oncall.py).
        for service in services:
            if service.team == team and service.slos and service.name not in listed:
                problems.add(where, None, f"reliability:oncall.teams.{team}.services",
                             f"'{service.name}' has SLOs owned by team {team} "
                             f"({service.team_source or service.source}) but is not listed: add it, or remove "
                             "the list (the specs name the team's services)")
    return missing if missing.teams else None


def _listed_services(oncall: Any, pagerduty: Mapping[str, Any]) -> dict[str, list[str]]:
    """Team -> its `services` list, for the stack-managed teams that give one."""
    teams = oncall.get("teams") if isinstance(oncall, Mapping) else None
    out = {}
    for team in pagerduty:
        spec = teams.get(team) if isinstance(teams, Mapping) else None
        if isinstance(spec, Mapping) and isinstance(spec.get("services"), list):
            out[team] = [s for s in spec["services"] if isinstance(s, str)]
    return out


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    return value.replace(old, new) if isinstance(value, str) else value


def _default_routes(team: str, environment: str) -> dict[str, Any]:
    if environment == "local":
        return {"ticket": {}}
    chat = {"slack": {"channel": f"#{team}-{environment}", "webhook": f"{team}-chat"}}
    if environment in CHAT_ONLY_ENVIRONMENTS:
        return {"page": chat, "ticket": chat}
    return {"page": {"pagerduty": {"routingKey": f"{team}-page"}},
            "ticket": {"slack": {"channel": f"#{team}-alerts", "webhook": f"{team}-ticket"}}}


def suggested_routes(team: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Routes for `team` shaped like the stack's first routed team (its name swapped), else per-env defaults."""
    alerting = config.get("reliability:alerting")
    teams = alerting.get("teams") if isinstance(alerting, Mapping) else None
    teams = teams if isinstance(teams, Mapping) else {}
    environment = str(config.get("reliability:environment", ""))
    defaults = _default_routes(team, environment)
    for known in sorted(teams):
        if isinstance(teams[known], Mapping):
            routes = _renamed(teams[known], known, team)
            # A team whose pages reliability:oncall writes has no `page` here: a new team needs its own.
            return {"page": defaults["page"], **routes} if "page" in defaults and "page" not in routes else routes
    return defaults


def _credentials(routes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(credential name, what it holds) named by these routes, page before ticket, each once."""
    out: list[tuple[str, str]] = []
    for route in ("page", "ticket"):
        receiver = routes.get(route)
        for kind, body in (receiver.items() if isinstance(receiver, Mapping) else ()):
            for (k, setting), what in _CREDENTIAL_SETTINGS.items():
                name = body.get(setting) if k == kind and isinstance(body, Mapping) else None
                if isinstance(name, str) and name not in [n for n, _ in out]:
                    out.append((name, what))
    return out


def route_teams_hint(missing: MissingTeams) -> str:
    """The YAML to add to one stack file, then the command that stores each new credential."""
    routes = {team: suggested_routes(team, missing.config) for team in missing.teams}
    lines = [f"to route {', '.join(missing.teams)} in {missing.path}, add to its reliability:alerting teams "
             "(receivers shaped like the file's other teams; adjust them):",
             "config:", "  reliability:alerting:", "    teams:"]
    for team, team_routes in routes.items():
        lines.append(f"      {team}:")
        for route, receiver in team_routes.items():
            flow = yaml.safe_dump(receiver, default_flow_style=True, width=1000, sort_keys=False).strip()
            lines.append(f"        {route}: {flow}")
    existing = missing.config.get("reliability:alertingCredentials")
    known = set(existing) if isinstance(existing, Mapping) else set()
    new = [(name, what) for team_routes in routes.values() for name, what in _credentials(team_routes)
           if name not in known]
    if new:
        lines.append("then store each credential encrypted (Pulumi prompts for the value, so it stays out of "
                     "shell history):")
        width = max(len(set_secret_command("alertingCredentials", n, missing.stack)) for n, _ in new)
        lines += [f"  {set_secret_command('alertingCredentials', name, missing.stack):<{width}}  # {what}"
                  for name, what in dict(new).items()]
    return "\n".join(lines)
