"""Alert routing: the stack's `alerting` config in, one `Routing` model out.

generate.py turns a `Routing` into `alertmanager.yaml`; checks.py keeps a broken config
away from a running Alertmanager; teams.py checks every spec's team is routed.

Routing, per environment:
  - `alertname="Watchdog"` (kube-prometheus-stack's always-firing alert) goes to
    the `heartbeat` receiver, a dead man's switch, in every environment;
  - alerts with `team="<team>"` go to `<team>-page` when `severity` is `page` (or
    `critical`, as the monitoring mixins say it) and to `<team>-ticket` otherwise;
    in local and dev pages go to chat, never to a pager;
  - everything else, including alerts for a team nobody configured, reaches the
    `catch-all` receiver at the root: nothing is dropped;
  - a firing page (or `critical`) inhibits the ticket of the same SLO (`equal: [service, slo]`,
    both sides carrying an `slo` label).
Groups are per service and SLO (and alert name, for a team's non-SLO alerts);
pages wait 30s and repeat hourly, tickets wait 5m and repeat daily
(`alerting.timing` overrides the intervals per route kind).

Credentials are never in this file: they are keys of the `alertmanager-credentials`
Secret, mounted at /etc/alertmanager/secrets/alertmanager-credentials/<key>, and
referenced with `*_file` settings. Alertmanager 0.25 (Debian's, which the tests
run) has `routing_key_file`, `api_key_file`, `api_url_file` and
`http_config.authorization.credentials_file`, but no webhook `url_file` (0.26), so
a webhook takes a plain URL plus an optional credentials file for its
Authorization header (e.g. Opsgenie heartbeats: `GenieKey`).

Receiver spec in the stack config (exactly one kind, or `{}`):
  pagerduty: {routingKey: CRED}            opsgenie: {apiKey: CRED, priority: P1}
  slack: {webhook: CRED, channel: "#x"}    webhook: {url: URL, credentials: CRED, authorization: Bearer}
  {}: no notification, visible in the Alertmanager and Grafana UIs only (local only)
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..problems import did_you_mean

# What a team of `alerting.teams` may hold (`pageServices` is written by `reliability:oncall`).
TEAM_KEYS = ("page", "pageServices", "ticket")
CONFIG_SECRET = "alertmanager-config"
CONFIG_KEY = "alertmanager.yaml"
CREDENTIALS_SECRET = "alertmanager-credentials"
# prometheus-operator mounts each Secret of `alertmanagerSpec.secrets` here (Alertmanager CRD, `secrets`).
SECRETS_DIR = "/etc/alertmanager/secrets"

PAGERS = ("pagerduty", "opsgenie")
CHATS = ("slack", "webhook")
CHAT_ONLY_ENVIRONMENTS = ("local", "dev")
CATCH_ALL = "catch-all"
HEARTBEAT = "heartbeat"
NULL = "null"
OPSGENIE_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

# Group and repeat intervals per kind of route; `alerting.timing` in the stack config overrides them.
TIMING = {
    "page": {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "1h"},
    "ticket": {"group_wait": "5m", "group_interval": "30m", "repeat_interval": "24h"},
    "heartbeat": {"group_wait": "0s", "group_interval": "1m", "repeat_interval": "1m"},
    "default": {"group_wait": "1m", "group_interval": "5m", "repeat_interval": "12h"},
}
_TIMING_KEYS = {"groupWait": "group_wait", "groupInterval": "group_interval", "repeatInterval": "repeat_interval"}
_DURATION = re.compile(r"^([0-9]+(ms|[smhdwy]))+$")

SERVICE_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
# Team names: the specs' `team` label routes on them, and receivers and PagerDuty services are named after them.
TEAM_NAME = SERVICE_NAME


def name_problem(kind: str, name: str) -> str | None:
    """Why `name` cannot be a team (or rotation) name, with one that can; None if it can."""
    if TEAM_NAME.match(name):
        return None
    fixed = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    example = f"write {fixed}" if fixed and TEAM_NAME.match(fixed) else "such as payments or search-infra"
    return (f"{kind} name {name!r} is not valid: lowercase letters, digits, '-' and '_', starting and ending "
            f"with a letter or digit; {example}")
_CHANNEL = re.compile(r"^[#@]?[a-z0-9][a-z0-9._-]{0,79}$")
_AUTH_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


# Names of alertingCredentials entries: each becomes a file name in the credentials Secret.
CREDENTIAL_NAME = re.compile(r"^[-._a-zA-Z0-9]+$")


def set_secret_command(key: str, entry: str | None = None, stack: str | None = None) -> str:
    """The `pulumi config set --secret` line for a secret key, or one entry of a secret map, quoted for a shell.

    No value on the line: Pulumi prompts for it, which keeps the secret out of shell history.
    An entry name with a '.' is written `["name"]`, which --path would otherwise split.
    """
    if entry is None:
        command = f"pulumi config set --secret {shlex.quote(key)}"
    else:
        path = f"{key}.{entry}" if re.fullmatch(r"[A-Za-z0-9_-]+", entry) else f'{key}["{entry}"]'
        command = f"pulumi config set --secret --path {shlex.quote(path)}"
    return command + (f" --stack {shlex.quote(stack)}" if stack else "")


def credential_file(key: str) -> str:
    """Path of one `alertingCredentials` entry inside the Alertmanager pods."""
    return f"{SECRETS_DIR}/{CREDENTIALS_SECRET}/{key}"


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: str | None  # pagerduty, opsgenie, slack, webhook, or None (no notification)
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def pages(self) -> bool:
        return self.kind in PAGERS

    def get(self, key: str) -> str:
        return dict(self.settings).get(key, "")


@dataclass(frozen=True)
class Routing:
    environment: str
    teams: tuple[tuple[str, Receiver, Receiver], ...]  # (team, page receiver, ticket receiver)
    catch_all: Receiver
    heartbeat: Receiver
    timing: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # route kind -> Alertmanager intervals
    # (team, service, receiver): pages of one service go to that service's own pager (`pageServices`).
    service_pages: tuple[tuple[str, str, Receiver], ...] = ()

    def intervals(self, kind: str) -> dict[str, str]:
        return dict(dict(self.timing).get(kind, ())) or dict(TIMING[kind])

    @property
    def team_names(self) -> tuple[str, ...]:
        return tuple(t for t, _, _ in self.teams)

    def pages_of(self, team: str) -> tuple[tuple[str, Receiver], ...]:
        """(service, receiver) of the team's services that page a pager of their own."""
        return tuple((s, r) for t, s, r in self.service_pages if t == team)


@dataclass
class _Checker:
    environment: str
    credentials: frozenset[str] | None
    problems: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"reliability:alerting.{where}: {message}")

    def credential(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            self.add(where, "expected the name of an alertingCredentials entry")
            return ""
        if not CREDENTIAL_NAME.match(value):
            # Most likely the credential itself (a webhook URL, a key): never repeat it in a log.
            self.add(where, "expected the name of an alertingCredentials entry, not the credential itself "
                            f"(value not shown): store it with `{set_secret_command('alertingCredentials', 'NAME')}` "
                            "and put NAME here")
            return ""
        if self.credentials is not None and value not in self.credentials:
            self.add(where, f"no credential '{value}' in alertingCredentials: set it with "
                            f"`{set_secret_command('alertingCredentials', value)}`")
        return value

    def receiver(self, name: str, spec: Any, where: str, *, allow_none: bool) -> Receiver:
        if not isinstance(spec, Mapping):
            self.add(where, "expected a mapping with one of pagerduty, opsgenie, slack, webhook")
            return Receiver(name, None)
        kinds = [k for k in spec if k in PAGERS + CHATS]
        unknown = sorted(set(spec) - set(PAGERS + CHATS))
        for key in unknown:
            self.add(f"{where}.{key}", "unknown receiver kind (expected pagerduty, opsgenie, slack or webhook)")
        if not kinds:
            if not allow_none and not unknown:
                self.add(where, "no receiver: give one of pagerduty, opsgenie, slack or webhook "
                                "(an empty receiver only notifies nobody, which only local may do)")
            return Receiver(name, None)
        if len(kinds) > 1:
            self.add(where, f"give exactly one receiver kind, not {' and '.join(kinds)}")
        kind = kinds[0]
        body = spec[kind]
        here = f"{where}.{kind}"
        if not isinstance(body, Mapping):
            self.add(here, "expected a mapping of settings" + (
                " (a webhook needs url: Alertmanager 0.25 cannot read a webhook URL from a file)"
                if kind == "webhook" else ""))
            return Receiver(name, kind)
        allowed = {"pagerduty": {"routingKey"}, "opsgenie": {"apiKey", "priority"},
                   "slack": {"webhook", "channel"}, "webhook": {"url", "credentials", "authorization"}}[kind]
        for key in sorted(set(body) - allowed):
            self.add(f"{here}.{key}", f"unknown setting (expected {', '.join(sorted(allowed))})")
        settings: dict[str, str] = {}
        if kind == "pagerduty":
            settings["routingKey"] = self.credential(body.get("routingKey"), f"{here}.routingKey")
        elif kind == "opsgenie":
            settings["apiKey"] = self.credential(body.get("apiKey"), f"{here}.apiKey")
            priority = str(body.get("priority", "P1" if name.endswith("-page") else "P3"))
            if priority not in OPSGENIE_PRIORITIES:
                self.add(f"{here}.priority", f"expected one of {', '.join(OPSGENIE_PRIORITIES)}")
            settings["priority"] = priority
        elif kind == "slack":
            settings["webhook"] = self.credential(body.get("webhook"), f"{here}.webhook")
            channel = body.get("channel")
            if not isinstance(channel, str) or not _CHANNEL.match(channel):
                self.add(f"{here}.channel", "expected a Slack channel such as #payments-alerts")
            settings["channel"] = str(channel)
        else:
            settings.update(self._webhook(body, here))
        return Receiver(name, kind, tuple(sorted(settings.items())))

    def _webhook(self, body: Mapping[str, Any], here: str) -> dict[str, str]:
        settings: dict[str, str] = {}
        url = body.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            self.add(f"{here}.url", "expected an http(s) URL")
        elif parts.username or parts.password or parts.query:
            self.add(f"{here}.url", "the URL must not carry credentials (user, password or query): "
                                    "put the token in alertingCredentials and name it in credentials")
        settings["url"] = str(url)
        if "credentials" in body:
            settings["credentials"] = self.credential(body["credentials"], f"{here}.credentials")
            auth = body.get("authorization", "Bearer")
            if not isinstance(auth, str) or not _AUTH_TYPE.match(auth):
                self.add(f"{here}.authorization", "expected an Authorization scheme such as Bearer or GenieKey")
            settings["authorization"] = str(auth)
        elif "authorization" in body:
            self.add(f"{here}.authorization", "needs credentials: the name of the token in alertingCredentials")
        return settings


def parse_routing(alerting: Mapping[str, Any], environment: str,
                  credentials: Iterable[str] | None = None) -> tuple[Routing, list[str]]:
    """The routing of a stack and the problems with its config (`reliability:alerting.<path>: message`).

    `credentials` are the keys of `alertingCredentials`; None skips that check (for
    `sre slo validate --env`, which reads only the routing structure).
    """
    check = _Checker(environment, frozenset(credentials) if credentials is not None else None)
    local = environment == "local"
    teams = alerting.get("teams") or {}
    parsed: list[tuple[str, Receiver, Receiver]] = []
    service_pages: list[tuple[str, str, Receiver]] = []
    if not isinstance(teams, Mapping):
        check.add("teams", "expected a mapping of team name to {page, ticket}")
        teams = {}
    for team in sorted(teams):
        routes = teams[team] if isinstance(teams[team], Mapping) else {}
        for key in sorted(set(routes) - set(TEAM_KEYS)):
            check.add(f"teams.{team}.{key}", f"unknown key{did_you_mean(str(key), TEAM_KEYS)}")
        ticket = check.receiver(f"{team}-ticket", routes.get("ticket"), f"teams.{team}.ticket", allow_none=local) \
            if "ticket" in routes else None
        if ticket is None:
            check.add(f"teams.{team}", "missing ticket: where this team's tickets go (slack or webhook)")
            ticket = Receiver(f"{team}-ticket", None)
        if "page" in routes:
            page = check.receiver(f"{team}-page", routes["page"], f"teams.{team}.page", allow_none=local)
        elif environment in CHAT_ONLY_ENVIRONMENTS:
            page = Receiver(f"{team}-page", ticket.kind, ticket.settings)  # pages go to the team's chat
        else:
            check.add(f"teams.{team}", f"missing page: {environment} needs a pager for this team "
                                       "(pagerduty or opsgenie)")
            page = Receiver(f"{team}-page", None)
        if environment in CHAT_ONLY_ENVIRONMENTS and page.pages:
            check.add(f"teams.{team}.page.{page.kind}",
                      f"{environment} must not page anyone: pages go to chat here (slack or webhook)")
        if ticket.pages:
            check.add(f"teams.{team}.ticket.{ticket.kind}", "tickets go to chat (slack or webhook), never to a pager")
        services = routes.get("pageServices", {})
        if not isinstance(services, Mapping):
            check.add(f"teams.{team}.pageServices", "expected a mapping of service name to a pager receiver")
            services = {}
        for service in sorted(services):
            where = f"teams.{team}.pageServices.{service}"
            if not SERVICE_NAME.match(service):
                check.add(where, f"service name must match {SERVICE_NAME.pattern}")
                continue
            receiver = check.receiver(f"{team}-page-{service}", services[service], where, allow_none=False)
            if receiver.kind is not None and not receiver.pages:
                check.add(where, "a service's own page receiver is a pager (pagerduty or opsgenie)")
            if environment in CHAT_ONLY_ENVIRONMENTS:
                check.add(where, f"{environment} must not page anyone: pages go to chat here (slack or webhook)")
            service_pages.append((team, service, receiver))
        parsed.append((team, page, ticket))
    timing = _timing(alerting.get("timing", {}), check)
    catch_all, heartbeat = Receiver(CATCH_ALL, None), Receiver(HEARTBEAT, None)
    if "catchAll" in alerting:
        catch_all = check.receiver(CATCH_ALL, alerting["catchAll"], "catchAll", allow_none=local)
    elif not local:
        check.add("catchAll", "missing: where alerts without a known team go (nothing may be dropped)")
    if "heartbeat" in alerting:
        heartbeat = check.receiver(HEARTBEAT, alerting["heartbeat"], "heartbeat", allow_none=local)
    elif not local:
        check.add("heartbeat", "missing: the dead man's switch that receives the always-firing Watchdog alert")
    if heartbeat.kind not in (None, "webhook"):
        check.add("heartbeat", "the heartbeat is a dead man's switch webhook: use webhook")
    routing = Routing(environment, tuple(parsed), catch_all, heartbeat, timing, tuple(service_pages))
    return routing, sorted(set(check.problems))


def _timing(value: Any, check: _Checker) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """`timing: {page: {groupWait, groupInterval, repeatInterval}, ticket, heartbeat, default}`."""
    if not isinstance(value, Mapping):
        check.add("timing", "expected a mapping of page, ticket, heartbeat, default")
        return ()
    out = []
    for kind in sorted(value):
        if kind not in TIMING:
            check.add(f"timing.{kind}", f"unknown route kind (expected {', '.join(TIMING)})")
            continue
        given = value[kind] if isinstance(value[kind], Mapping) else {}
        merged = dict(TIMING[kind])
        for key, raw in given.items():
            if key not in _TIMING_KEYS or not isinstance(raw, str) or not _DURATION.match(raw):
                check.add(f"timing.{kind}.{key}", "expected groupWait, groupInterval or repeatInterval "
                                                  "with a duration such as 30s or 1h")
                continue
            merged[_TIMING_KEYS[key]] = raw
        out.append((kind, tuple(merged.items())))
    return tuple(out)


# OpsGenie's end of support (Atlassian): existing receivers keep working, new stacks use PagerDuty.
OPSGENIE_END_OF_SUPPORT = "2027-04-05"


def routing_warnings(routing: Routing) -> list[str]:
    """Suspicious-but-legal routing: receivers of a pager that reaches its end of support."""
    receivers = [r for _, page, ticket in routing.teams for r in (page, ticket)]
    receivers += [r for _, _, r in routing.service_pages] + [routing.catch_all, routing.heartbeat]
    return [
        f"reliability:alerting: receiver {r.name} uses OpsGenie, which reaches its end of support on "
        f"{OPSGENIE_END_OF_SUPPORT}: move the team to PagerDuty (reliability:oncall creates its service "
        "and routing key)"
        for r in sorted(receivers, key=lambda r: r.name) if r.kind == "opsgenie"
    ]


def managed_key(team: str, service: str | None = None) -> str:
    """The alertingCredentials name under which the stack stores a PagerDuty integration's routing key."""
    return f"pagerduty.{team}" + (f".{service}" if service else "")


def pagerduty_services(per_service: bool, slo_services: Iterable[str]) -> tuple[str | None, ...]:
    """What of a stack-managed team gets a PagerDuty service: None for the team-wide one, then services.

    `servicesPer: team`: the team-wide service alone. `servicesPer: service`: also one per SLO'd service
    of the team (from the specs). The team-wide service stays in both: the team's page route sends it
    every page that names none of those services (kube-prometheus-stack's own rules page `platform`
    that way; so does any rule a team writes with its team label), and in prod such a route must end
    at a pager (the `pages-reach-pager` policy), not in chat.
    """
    return (None, *sorted(set(slo_services))) if per_service else (None,)


def managed_teams(oncall: Any, owned: Mapping[str, Iterable[str]]) -> dict[str, tuple[str | None, ...]]:
    """Team -> what has a PagerDuty service (`pagerduty_services`), from a raw `reliability:oncall` value
    (`{enabled, servicesPer, teams}`) and the SLO'd services of each team (`owned`, from the specs);
    nothing when it is off or malformed (reliability/incidents/oncall.py validates it and names the bad field)."""
    if not isinstance(oncall, Mapping) or oncall.get("enabled") is not True:
        return {}
    teams = oncall.get("teams")
    per_service = oncall.get("servicesPer", "service") == "service"
    return {str(team): pagerduty_services(per_service, owned.get(str(team), ()))
            for team in (teams if isinstance(teams, Mapping) else ())}


def with_managed_pages(
    alerting: Mapping[str, Any], teams: Mapping[str, tuple[str | None, ...]]
) -> tuple[dict[str, Any], list[str]]:
    """`alerting` with the pages of stack-managed PagerDuty teams filled in, and the problems found.

    `teams` maps each team whose PagerDuty services the stack creates to what has one (None: the
    team-wide service, which takes the team's pages that no service of its own takes). Those page
    receivers are PagerDuty receivers whose routing keys the stack writes into the credentials Secret
    itself, so a hand-written `page` for that team is refused.
    """
    out = dict(alerting)
    given = alerting.get("teams")
    given = given if isinstance(given, Mapping) else {}
    merged: dict[str, Any] = {team: dict(routes) if isinstance(routes, Mapping) else routes
                              for team, routes in given.items()}
    problems = []
    for team, services in sorted(teams.items()):
        routes = merged.setdefault(team, {})
        if not isinstance(routes, dict):
            continue
        for key in ("page", "pageServices"):
            if key in routes:
                problems.append(f"reliability:alerting.teams.{team}.{key}: remove it: the pages of {team} go to "
                                f"the PagerDuty service the stack creates (reliability:oncall.teams.{team})")
        routes["page"] = {"pagerduty": {"routingKey": managed_key(team)}}
        own = [s for s in services if s is not None]
        if own:
            routes["pageServices"] = {s: {"pagerduty": {"routingKey": managed_key(team, s)}} for s in own}
        else:
            routes.pop("pageServices", None)
    if merged:
        out["teams"] = merged
    return out, problems


def unrouted(services: Iterable[Any], routing: Routing, stack_file: str) -> list[tuple[Any, str]]:
    """(service, message) for each spec whose owner team has no routing in this environment.

    Imported specs without an owner (team "unowned") are left out: the catch-all receives them.
    """
    known = set(routing.team_names)
    return [
        (service, f"team '{service.team}' has no alert routing in environment '{routing.environment}': "
                  f"add reliability:alerting.teams.{service.team} to {stack_file}")
        for service in services
        if service.team not in known and service.team != "unowned"
    ]

