"""On-call as stack config: `reliability:oncall`, typed and validated, and the PagerDuty shapes it becomes.

```yaml
reliability:oncall:
  enabled: true                 # staging and prod only: local and dev never page
  servicesPer: service          # or team: one PagerDuty service for all of a team's services
  teams:
    payments:
      members: [ana@acme.example, bo@acme.example, cy@acme.example]   # existing PagerDuty users
      services: [checkout-api]  # optional: the team's SLO'd services (the specs decide; a list must agree)
      rotations:
        primary:
          layers:
            - {length: 7d, handoff: "2026-01-05T09:00:00", timeZone: Europe/Berlin, members: [ana@..., bo@...]}
      escalation:
        repeat: 2               # times the whole policy repeats when nobody acknowledges
        levels:
          - {escalateAfter: 30m, rotations: [primary]}
          - {escalateAfter: 30m, users: [cy@acme.example]}
```
components/oncall.py creates the PagerDuty team, memberships (users looked up by email, never
created), one schedule per rotation, the escalation policy and the services with an Events API v2
integration; the routing keys go straight into the Alertmanager credentials Secret under the names
of `reliability.alerting.routing.managed_key`. Nothing here imports Pulumi.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..alerting.routing import SERVICE_NAME, name_problem, pagerduty_services
from ..durations import Duration
from ..slo.load import load

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HOUR_MS = 3_600_000
PAGING_ENVIRONMENTS = ("staging", "prod")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, strict=True)


def _emails(value: list[str]) -> list[str]:
    for email in value:
        if not EMAIL.match(email):
            raise ValueError(f"'{email}' is not an email address (PagerDuty users are looked up by email)")
    if len(set(value)) != len(value):
        raise ValueError("lists a person twice")
    return value


class Layer(_Section):
    """One rotation layer: members take turns of `length`, the first turn starting at `handoff` in `time_zone`."""

    length: str
    handoff: str
    time_zone: str
    members: list[str] = Field(min_length=1)

    @field_validator("length")
    @classmethod
    def _length(cls, value: str) -> str:
        ms = Duration.parse(value).ms
        if ms < HOUR_MS or ms % HOUR_MS:
            raise ValueError("a turn is whole hours, at least 1h (e.g. 12h, 1d, 7d)")
        return value

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("expected the first handoff as a local date and time, e.g. 2026-01-05T09:00:00") from None
        if parsed.tzinfo is not None:
            raise ValueError("give the handoff without an offset: timeZone says where it is")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/Berlin or UTC") from None
        if value not in available_timezones() and value != "UTC":
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/Berlin or UTC")
        return value

    @field_validator("members")
    @classmethod
    def _members(cls, value: list[str]) -> list[str]:
        return _emails(value)

    @property
    def turn_seconds(self) -> int:
        return Duration.parse(self.length).ms // 1000

    @property
    def start(self) -> str:
        """The first handoff as RFC 3339 with the zone's offset on that day (what PagerDuty takes)."""
        return datetime.fromisoformat(self.handoff).replace(tzinfo=ZoneInfo(self.time_zone)).isoformat()


class Rotation(_Section):
    layers: list[Layer] = Field(min_length=1)

    @property
    def people(self) -> tuple[str, ...]:
        return tuple(sorted({m for layer in self.layers for m in layer.members}))

    @property
    def time_zone(self) -> str:
        return self.layers[0].time_zone


class Level(_Section):
    """Who is paged at this level, and how long they have to acknowledge before the next level is."""

    escalate_after: str = "30m"
    rotations: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)

    @field_validator("escalate_after")
    @classmethod
    def _delay(cls, value: str) -> str:
        ms = Duration.parse(value).ms
        if ms < 60_000 or ms % 60_000:
            raise ValueError("whole minutes, at least 1m (PagerDuty's escalation delay)")
        return value

    @field_validator("users")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        return _emails(value)

    @model_validator(mode="after")
    def _someone(self) -> Level:
        if not self.rotations and not self.users:
            raise ValueError("pages nobody: give rotations or users")
        return self

    @property
    def delay_minutes(self) -> int:
        return Duration.parse(self.escalate_after).ms // 60_000


class Escalation(_Section):
    repeat: int = Field(default=0, ge=0, le=9)
    levels: list[Level] = Field(min_length=1)


class Team(_Section):
    description: str = ""
    members: list[str] = Field(min_length=1)
    services: list[str] = Field(default_factory=list)
    rotations: dict[str, Rotation] = Field(min_length=1)
    escalation: Escalation

    @field_validator("members")
    @classmethod
    def _members(cls, value: list[str]) -> list[str]:
        return _emails(value)

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        for service in value:
            if not SERVICE_NAME.match(service):
                raise ValueError(f"'{service}' is not a service name (must match {SERVICE_NAME.pattern})")
        return value

    @model_validator(mode="after")
    def _references(self) -> Team:
        members = set(self.members)
        problems = []
        for name, rotation in sorted(self.rotations.items()):
            if name_problem("rotation", name):
                problems.append(f"rotations.{name}: {name_problem('rotation', name)}")
            for i, layer in enumerate(rotation.layers):
                problems += [f"rotations.{name}.layers[{i}].members: {m} is not in the team's members: add it there"
                             for m in layer.members if m not in members]
        for i, level in enumerate(self.escalation.levels):
            problems += [f"escalation.levels[{i}].rotations: no rotation '{r}' (rotations: "
                         f"{', '.join(sorted(self.rotations))})" for r in level.rotations if r not in self.rotations]
            problems += [f"escalation.levels[{i}].users: {u} is not in the team's members: add it there"
                         for u in level.users if u not in members]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class OnCall(_Section):
    """`reliability:oncall`: off unless a stack turns it on."""

    enabled: bool = False
    services_per: Literal["service", "team"] = "service"
    teams: dict[str, Team] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _teams(self) -> OnCall:
        bad = [problem for t in sorted(self.teams) if (problem := name_problem("team", t))]
        if bad:
            raise ValueError("; ".join(bad))
        if self.enabled and not self.teams:
            raise ValueError("enabled with no teams: add reliability:oncall.teams.TEAM or set enabled: false")
        return self

    def pagerduty_services(self, team: str, slo_services: Iterable[str]) -> tuple[str | None, ...]:
        """What of the team gets a PagerDuty service (None: the team-wide one), given its SLO'd services."""
        return pagerduty_services(self.services_per == "service", slo_services)

    def managed(self, owned: Mapping[str, Iterable[str]]) -> dict[str, tuple[str | None, ...]]:
        """What `with_managed_pages` needs: team -> what has a PagerDuty service, from the specs' owners."""
        if not self.enabled:
            return {}
        return {team: self.pagerduty_services(team, owned.get(team, ())) for team in sorted(self.teams)}

    def list_problems(self, owned: Mapping[str, Mapping[str, str]], specs: str) -> list[str]:
        """Where a team's `services` list disagrees with the specs (`owned`: team -> service -> spec file).

        The list is optional (the specs decide); given, it names exactly the team's SLO'd services.
        """
        problems = []
        for team, spec in sorted(self.teams.items()):
            if "services" not in spec.model_fields_set:
                continue
            theirs = owned.get(team, {})
            where = f"reliability:oncall.teams.{team}.services"
            for service in sorted(set(spec.services) - set(theirs)):
                listed = ", ".join(sorted(theirs)) or "none"
                problems.append(f"{where}: '{service}' is not an SLO'd service of team {team} in {specs} "
                                f"(its services: {listed}): its PagerDuty service would never be paged; "
                                "fix the name or remove it")
            for service in sorted(set(theirs) - set(spec.services)):
                problems.append(f"{where}: '{service}' has SLOs owned by team {team} ({theirs[service]}) but is "
                                "not listed: add it, or remove the list (the specs name the team's services)")
        return problems


def slo_owners(specs: str, env: str | None) -> dict[str, dict[str, str]]:
    """Team -> SLO'd service -> where its spec names the team (FILE:LINE), as the specs read (a spec
    with errors counts as far as it reads: `sre slo validate` and the program report the errors)."""
    owned: dict[str, dict[str, str]] = {}
    for service in load([specs], env=env).services:
        if service.team != "unowned" and service.slos:
            owned.setdefault(service.team, {})[service.name] = str(service.team_source or service.source)
    return owned


def environment_problems(oncall: OnCall, environment: str) -> list[str]:
    if oncall.enabled and environment not in PAGING_ENVIRONMENTS:
        return [f"reliability:oncall.enabled: {environment} never pages anyone: only staging and prod "
                "create PagerDuty on-call (set enabled: false)"]
    return []
