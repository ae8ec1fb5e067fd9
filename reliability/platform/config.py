"""The stack config: read once, typed, validated, with per-environment defaults.

Every key the program reads is declared in Pulumi.yaml and modelled here
(tests/unit/platform/test_config.py keeps the two in step). Sections are
deep-merged over the environment's defaults (components/defaults.yaml), then
validated; every problem is collected and reported at once, naming the key,
before a single resource exists.

Secrets (`grafanaAdminPassword`, `alertingCredentials`) are validated as plain
values here and handed on only as secret Outputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from ipaddress import IPv4Network
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..alerting.routing import (
    CREDENTIAL_NAME,
    managed_key,
    managed_teams,
    name_problem,
    parse_routing,
    set_secret_command,
    with_managed_pages,
)
from ..durations import Duration
from ..incidents.oncall import OnCall, environment_problems, slo_owners
from ..problems import did_you_mean
from ..slo import promql
from . import PROJECT_DIR, distributions, placeholders
from .charts import deployed_charts, folder_problems, repository_problems
from .configproblems import ordered, pydantic_problems
from .distributions import Distribution

PROJECT = "reliability"
ENVIRONMENTS = ("local", "dev", "staging", "prod")
CLOUD_ENVIRONMENTS = ("dev", "staging", "prod")
# Receiver names of issue 4's routing: `<team>-page`, `<team>-ticket`; also Secret data keys.
CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
MEMORY = re.compile(r"^\d+(Mi|Gi|Ti)$")
BUCKET_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$")
AWS_PRINCIPAL = re.compile(r"^arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
K8S_VERSION = re.compile(r"^1\.\d{2}$")
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
DEFAULT_GRAFANA_URL = "http://localhost:3000"
# The retentions PutRetentionPolicy accepts (CloudWatch Logs API reference), in days.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)


class Section(BaseModel):
    """A config object: camelCase keys in YAML, unknown keys rejected, no coercion (`true` is not 1)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, strict=True
    )


def _duration(value: str) -> str:
    Duration.parse(value)
    return value


class NodeGroup(Section):
    instance_types: list[str] = Field(min_length=1)
    min_size: int = Field(ge=1)
    desired_size: int = Field(ge=1)
    max_size: int = Field(ge=1)

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroup:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError("need minSize <= desiredSize <= maxSize")
        return self


class Cluster(Section):
    """EKS settings (dev, staging, prod); must stay empty for local."""

    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
    region: str | None = Field(default=None, pattern=REGION.pattern)
    version: str | None = Field(default=None, pattern=K8S_VERSION.pattern)
    availability_zones: int = Field(default=2, ge=2, le=6)
    vpc_cidr: str = "10.0.0.0/16"
    node_groups: dict[str, NodeGroup] = Field(default_factory=dict)
    # Every principal given cluster admin, the roles that run `pulumi up` included: the cluster
    # has no implicit entry for its creator (docs/platform.md, "Who can reach the cluster").
    admin_arns: list[str] = Field(default_factory=list)
    public_access_cidrs: list[str] = Field(default_factory=list)
    # Days CloudWatch keeps the control plane's api/audit/authenticator logs (the stack's log group).
    log_retention_days: int = 90

    @field_validator("log_retention_days")
    @classmethod
    def _log_days(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a retention CloudWatch Logs offers: use one of "
                             f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc(cls, value: str) -> str:
        net = IPv4Network(value)
        if not 16 <= net.prefixlen <= 20:
            raise ValueError("use a /16 to /20 network: it is cut into 16 subnet blocks")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            # Wider than a /8 is no one's network: 0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0 again.
            if IPv4Network(cidr).prefixlen < 8:
                what = "the internet" if IPv4Network(cidr).prefixlen == 0 else "a large part of the internet"
                raise ValueError(f"{cidr} opens the Kubernetes API to {what}; list your networks (/8 or narrower)")
        return value

    @field_validator("admin_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not AWS_PRINCIPAL.match(arn):
                raise ValueError(f"'{arn}' is not an IAM role or user ARN")
        if len(set(value)) != len(value):
            raise ValueError("lists a principal twice: each gets one access entry")
        return value


class Storage(Section):
    storage_class: str = Field(min_length=1)
    bucket_prefix: str = Field(default="reliability", pattern=BUCKET_PREFIX.pattern)


class Retention(Section):
    """How long each signal is kept; Prometheus keeps `prometheus` locally, Thanos the rest."""

    DURATIONS: ClassVar[bool] = True  # every field is a duration (for the wording of problems)
    prometheus: str
    metrics_raw: str
    metrics_5m: str = Field(alias="metrics5m")
    metrics_1h: str = Field(alias="metrics1h")
    logs: str
    traces: str

    @field_validator("*")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value)

    def days(self, field: str) -> int:
        """Whole days (rounded up) of one retention, for S3 lifecycle rules."""
        ms = Duration.parse(getattr(self, field)).ms
        return -(-ms // 86_400_000)


class Replicas(Section):
    prometheus: int = Field(ge=1)
    alertmanager: int = Field(ge=1)
    thanos_query: int = Field(ge=1)
    thanos_store: int = Field(ge=1)
    loki: int = Field(ge=1)


class Volumes(Section):
    prometheus: str = Field(pattern=MEMORY.pattern)
    alertmanager: str = Field(pattern=MEMORY.pattern)
    loki: str = Field(pattern=MEMORY.pattern)
    tempo: str = Field(pattern=MEMORY.pattern)
    thanos_store: str = Field(pattern=MEMORY.pattern)
    thanos_compact: str = Field(pattern=MEMORY.pattern)
    grafana: str = Field(pattern=MEMORY.pattern)


class Resource(Section):
    cpu: str = Field(pattern=CPU.pattern)
    memory: str = Field(pattern=MEMORY.pattern)
    memory_limit: str = Field(pattern=MEMORY.pattern)

    def as_k8s(self) -> dict[str, dict[str, str]]:
        return {"requests": {"cpu": self.cpu, "memory": self.memory}, "limits": {"memory": self.memory_limit}}


class Resources(Section):
    prometheus: Resource
    thanos_sidecar: Resource
    alertmanager: Resource
    prometheus_operator: Resource
    config_reloader: Resource
    webhook_job: Resource
    kube_state_metrics: Resource
    node_exporter: Resource
    thanos_query: Resource
    thanos_store: Resource
    thanos_compact: Resource
    loki: Resource
    tempo: Resource
    collector: Resource
    grafana: Resource
    grafana_sidecar: Resource
    chaos_controller: Resource
    chaos_daemon: Resource
    chaos_dashboard: Resource
    k6_operator: Resource


class Toggle(Section):
    enabled: bool


class Canary(Section):
    """Whether the cluster runs Argo Rollouts: then each service's canary AnalysisTemplate is deployed."""

    argo_rollouts: bool


class Charts(Section):
    """Where the pinned charts come from (reliability/platform/charts.py); nothing set: upstream."""

    folder: str | None = Field(default=None, min_length=1)
    repository: str | None = Field(default=None, pattern=r"^(https?|oci)://[^\s]+$")

    @model_validator(mode="after")
    def _one_source(self) -> Charts:
        if self.folder and self.repository:
            raise ValueError("set folder (unpacked charts) or repository (a mirror), not both")
        return self


# Sections merged over components/defaults.yaml, in declaration order.
SECTIONS: dict[str, type[Section]] = {
    "cluster": Cluster,
    "storage": Storage,
    "retention": Retention,
    "replicas": Replicas,
    "volumes": Volumes,
    "resources": Resources,
    "chaos": Toggle,
    "loadtest": Toggle,
    "canary": Canary,
    "charts": Charts,
}
# Every top-level key of the `reliability:` namespace (Pulumi.yaml declares the same).
KEYS = (
    "environment",
    "example",
    "kubeContext",
    "kubeDistribution",
    "sloSpecs",
    "grafanaUrl",
    "deployEvents",
    *SECTIONS,
    "alerting",
    "alertingCredentials",
    "oncall",
    "grafanaAdminPassword",
)
SECRET_KEYS = ("alertingCredentials", "grafanaAdminPassword")
# Set by the offline render (mocks): an example stack may be rendered, never deployed.
OFFLINE: ContextVar[bool] = ContextVar("reliability_offline", default=False)


class StackConfig(BaseModel):
    """The validated config of one stack; the only thing components read."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    stack: str
    environment: Literal["local", "dev", "staging", "prod"]
    # A stack that documents a layout (placeholder networks and accounts): rendered, never deployed.
    example: bool = False
    kube_context: str = ""
    # local only: which kind of local cluster (storage class, runtime socket, node mounts).
    distribution: Distribution | None = None
    slo_specs: str = "slo-specs"
    grafana_url: str = DEFAULT_GRAFANA_URL  # alerts' dashboard_url links point here
    deploy_events: str = ""  # the deploy counter `sre report` reads for the change failure rate
    cluster: Cluster
    storage: Storage
    retention: Retention
    replicas: Replicas
    volumes: Volumes
    resources: Resources
    chaos: Toggle
    loadtest: Toggle
    canary: Canary
    charts: Charts = Charts()
    # Alert routing: {teams: {<team>: {page, ticket}}, catchAll, heartbeat}, see reliability/alerting/routing.py.
    alerting: dict[str, Any] = Field(default_factory=dict)
    # PagerDuty on-call the stack creates (reliability/incidents/oncall.py); its teams' pages are in `alerting`.
    oncall: OnCall = Field(default_factory=OnCall)
    # Secret Outputs (pulumi.Output[dict[str, str]] / Output[str] | None); never plain text.
    alerting_credentials: Any = Field(default=None, exclude=True)
    grafana_admin_password: Any = Field(default=None, exclude=True)
    credential_keys: tuple[str, ...] = ()  # alertingCredentials and the routing keys of `oncall`
    # Team -> what of it has a PagerDuty service the stack creates (None: the team-wide one), from the specs.
    pagerduty_services: dict[str, tuple[str | None, ...]] = Field(default_factory=dict)

    @property
    def is_cloud(self) -> bool:
        return self.environment in CLOUD_ENVIRONMENTS

    @property
    def protect_data(self) -> bool:
        """Stateful cloud storage is protected and retained on delete in staging and prod."""
        return self.environment in ("staging", "prod")

    @property
    def cluster_name(self) -> str:
        return self.cluster.name or f"{PROJECT}-{self.stack}"


class ConfigError(Exception):
    """Bad stack config; `problems` holds one `key: message` line per problem."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid config for stack '{stack}' ({len(problems)} problem(s)):\n{lines}")


def deep_merge(base: Any, override: Any) -> Any:
    """Maps merge key by key (override wins); anything else is replaced."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = dict(base)
        for key, value in override.items():
            out[key] = deep_merge(base.get(key), value) if key in base else value
        return out
    return override


# A good value per object key, for the message when a key is given a plain value.
_EXAMPLES = {
    "retention": ": write each signal's duration, such as {prometheus: 15d, logs: 30d}",
    "replicas": ": write a count per component, such as {prometheus: 2, alertmanager: 3}",
    "chaos": ": write {enabled: true} or {enabled: false}",
    "loadtest": ": write {enabled: true} or {enabled: false}",
    "canary": ": write {argoRollouts: true} or {argoRollouts: false}",
    "alerting": ": write {teams: {...}, catchAll: {...}, heartbeat: {...}}",
    "alertingCredentials": ": write NAME: secret entries, each set with "
                           "`pulumi config set --secret --path alertingCredentials.NAME`",
}


def _decode(key: str, raw: Any, want: type, problems: list[str]) -> Any:
    """Config arrives as strings (objects as JSON text); decode to the declared type."""
    if want is str:
        return raw if isinstance(raw, str) else json.dumps(raw)
    # A secret key's value is never repeated: it may be the credential itself.
    got = "(value not shown)" if key in SECRET_KEYS else f"got {json.dumps(raw)}"
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            problems.append(f"{PROJECT}:{key}: expected a mapping, {got}{_EXAMPLES.get(key, '')}")
            return None
    if not isinstance(raw, dict):
        got = "(value not shown)" if key in SECRET_KEYS else f"got {json.dumps(raw)}"
        problems.append(f"{PROJECT}:{key}: expected a mapping, {got}{_EXAMPLES.get(key, '')}")
        return None
    return raw


def check_alerting(value: Mapping[str, Any], environment: str, credential_keys: tuple[str, ...]) -> list[str]:
    """The `alerting` key: routing for this environment (see reliability/alerting/routing.py)."""
    known = ("teams", "catchAll", "heartbeat", "timing")
    problems = [f"{PROJECT}:alerting.{key}: unknown key{did_you_mean(key, known)}"
                for key in sorted(set(value) - set(known))]
    teams = value.get("teams", {})
    if isinstance(teams, Mapping):
        problems += [f"{PROJECT}:alerting.teams.{team}: {name_problem('team', team)}"
                     for team in sorted(teams) if name_problem("team", team)]
    _, routing_problems = parse_routing(value, environment, credential_keys)
    return problems + routing_problems


def check_credentials(value: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, secret in sorted(value.items()):
        if not CREDENTIAL_NAME.match(key):
            problems.append(
                f"{PROJECT}:alertingCredentials.{key}: key must match {CREDENTIAL_NAME.pattern} "
                "(it becomes a file name in the Secret)"
            )
        if not isinstance(secret, str) or not secret:
            problems.append(f"{PROJECT}:alertingCredentials.{key}: expected a non-empty secret string")
    return problems


def _flag(key: str, raw: Any, problems: list[str]) -> bool:
    """A boolean key: Pulumi hands `true` in a stack file over as the text "true"."""
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "false"):
        return raw == "true"
    problems.append(f"{PROJECT}:{key}: expected true or false, got {json.dumps(raw)}")
    return False


def parse(
    stack: str,
    values: Mapping[str, Any],
    secret_keys: set[str] | frozenset[str],
    defaults: Mapping[str, Any],
    current_context: Callable[[], distributions.CurrentContext] | None = None,
) -> tuple[StackConfig, dict[str, Any]]:
    """Validate raw config (`{"reliability:key": text}`) into a StackConfig.

    Returns the config and the plaintext secrets (`{key: value}`) for the caller
    to wrap as secret Outputs. Raises ConfigError naming every bad key.
    `current_context` reads the kubeconfig's current context, for a local stack without
    `kubeContext` that deploys to it; None (offline) builds such a stack for kind.
    """
    problems: list[str] = []
    ours = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{PROJECT}:")}
    for key in sorted(set(ours) - set(KEYS)):
        problems.append(f"{PROJECT}:{key}: unknown key{did_you_mean(key, KEYS, 'declared keys')}")

    env = ours.get("environment")
    if env not in ENVIRONMENTS:
        what = "missing" if env is None else f"'{env}' is not one of {', '.join(ENVIRONMENTS)}"
        problems.append(f"{PROJECT}:environment: {what}")
        env = None
    elif stack in ENVIRONMENTS and stack != env:
        problems.append(
            f"{PROJECT}:environment: '{env}' on stack '{stack}' (a stack named after an "
            "environment must deploy that environment)"
        )

    fields: dict[str, Any] = {"stack": stack, "environment": env}
    for key, attr in (("kubeContext", "kube_context"), ("sloSpecs", "slo_specs"), ("grafanaUrl", "grafana_url"),
                      ("deployEvents", "deploy_events")):
        if key in ours:
            fields[attr] = _decode(key, ours[key], str, problems)
    fields["example"] = _flag("example", ours.get("example", False), problems)
    events = fields.get("deploy_events") or ""
    if events and promql.plain_selector(events) is None:
        problems.append(f"{PROJECT}:deployEvents: {json.dumps(events)} is not a series selector: write a counter "
                        'such as deploys_total{env="prod"}')
        fields.pop("deploy_events")
    if not URL.match(str(fields.get("grafana_url", DEFAULT_GRAFANA_URL))):
        problems.append(f"{PROJECT}:grafanaUrl: expected an http(s) URL such as https://grafana.example.com, "
                        f"got {json.dumps(fields['grafana_url'])}")
        fields.pop("grafana_url")
    env_defaults = defaults.get(env or "local", {})
    setting = _decode("kubeDistribution", ours["kubeDistribution"], str, problems) if "kubeDistribution" in ours else ""
    if env == "local":
        found = distributions.resolve(setting, fields.get("kube_context") or "", current_context)
        if isinstance(found, str):
            problems.append(f"{PROJECT}:kubeDistribution: {found}")
        else:
            fields["distribution"] = found
            # The distribution's class sits between the environment's defaults and the stack file.
            env_defaults = deep_merge(env_defaults, {"storage": {"storageClass": found.storage_class}})
    elif setting not in ("", distributions.AUTO):
        problems.append(f"{PROJECT}:kubeDistribution: only used by local; {env} runs on EKS")
    for key, model in SECTIONS.items():
        given = _decode(key, ours[key], dict, problems) if key in ours else {}
        merged = deep_merge(env_defaults.get(key, {}), given or {})
        try:
            fields[key] = model.model_validate(merged)
        except ValidationError as exc:
            problems.extend(pydantic_problems(key, model, exc))

    secrets: dict[str, Any] = {}
    creds = (
        _decode("alertingCredentials", ours["alertingCredentials"], dict, problems)
        if "alertingCredentials" in ours
        else {}
    )
    if creds:
        problems.extend(check_credentials(creds))
        secrets["alertingCredentials"] = creds
        fields["credential_keys"] = tuple(sorted(creds))

    oncall = _decode("oncall", ours["oncall"], dict, problems) if "oncall" in ours else {}
    managed: dict[str, tuple[str | None, ...]] = {}
    owned: dict[str, dict[str, str]] = {}
    if isinstance(oncall, Mapping) and oncall.get("enabled") is True:
        # servicesPer: service gives every SLO'd service of a team its own PagerDuty service: the specs decide.
        specs = str(fields.get("slo_specs") or "slo-specs")
        owned = {team: {name: where.replace(f"{PROJECT_DIR}/", "") for name, where in services.items()}
                 for team, services in slo_owners(str(PROJECT_DIR / specs), env).items()}
    try:
        fields["oncall"] = OnCall.model_validate(oncall or {})
        managed = fields["oncall"].managed(owned)
        problems.extend(environment_problems(fields["oncall"], env) if env else [])
        if fields["oncall"].enabled:
            problems.extend(fields["oncall"].list_problems(owned, str(fields.get("slo_specs") or "slo-specs")))
    except ValidationError as exc:
        problems.extend(pydantic_problems("oncall", OnCall, exc))
        managed = managed_teams(oncall, owned)  # as far as it reads: no second "missing page" for the same mistake
    fields["pagerduty_services"] = managed
    managed_keys = [managed_key(team, service) for team, services in managed.items() for service in services]
    problems += [f"{PROJECT}:alertingCredentials.{key}: the stack writes this routing key itself "
                 "(reliability:oncall): remove it" for key in managed_keys if key in (creds or {})]
    fields["credential_keys"] = tuple(sorted({*(creds or {}), *managed_keys}))

    alerting = _decode("alerting", ours["alerting"], dict, problems) if "alerting" in ours else {}
    if alerting is not None and env is not None:
        alerting, managed_problems = with_managed_pages(alerting, managed)
        problems.extend(managed_problems)
        problems.extend(check_alerting(alerting, env, fields["credential_keys"]))
        fields["alerting"] = alerting
    password = ours.get("grafanaAdminPassword") or ""
    if password:
        secrets["grafanaAdminPassword"] = password
    for key in SECRET_KEYS:
        if key in secrets and f"{PROJECT}:{key}" not in secret_keys:
            # grafanaAdminPassword is one string; alertingCredentials a map set entry by entry.
            how = (set_secret_command(key) if key == "grafanaAdminPassword"
                   else "` and `".join(set_secret_command(key, name) for name in sorted(secrets[key])))
            problems.append(f"{PROJECT}:{key}: must be encrypted: set it with `{how}`")

    cluster = fields.get("cluster")
    if env == "local" and ours.get("cluster") not in (None, "{}", {}):
        problems.append(
            f"{PROJECT}:cluster: local uses the current kube context; remove the cluster settings"
        )
    if env in CLOUD_ENVIRONMENTS and isinstance(cluster, Cluster):
        if not cluster.region:
            problems.append(f"{PROJECT}:cluster.region: required for {env} (an AWS region, e.g. eu-west-1)")
        if not cluster.node_groups:
            problems.append(f"{PROJECT}:cluster.nodeGroups: at least one managed node group is required")
        if fields.get("kube_context"):
            problems.append(
                f"{PROJECT}:kubeContext: only used by local; {env} reaches its EKS cluster itself"
            )
        if not cluster.admin_arns:
            problems.append(
                f"{PROJECT}:cluster.adminArns: required for {env}: list the IAM roles that administer the "
                "cluster, the role `pulumi up` runs as (CI's deploy role) included; nobody else can reach it"
            )
        if not fields["example"]:
            problems.extend(
                placeholders.problems(cluster.public_access_cidrs, cluster.admin_arns, f"{PROJECT}:cluster")
            )

    charts = fields.get("charts")
    if isinstance(charts, Charts) and charts.folder:
        wanted = deployed_charts(lambda section: _enabled(fields.get(section)))
        problems.extend(folder_problems(charts.folder, wanted, PROJECT_DIR, f"stacks/Pulumi.{stack}.yaml"))

    if problems:
        raise ConfigError(stack, ordered(problems))
    return StackConfig(**fields), secrets


def deploy_refusal(cfg: StackConfig, offline: bool) -> str | None:
    """Why the engine must not deploy this stack (an example in a cloud environment), or None."""
    if not cfg.example or not cfg.is_cloud or offline:
        return None
    return (
        f"stack '{cfg.stack}' is an example (reliability:example: true): its cluster settings are "
        "placeholders nobody can use, so it is neither previewed nor deployed. Put your networks and admin roles in "
        f"stacks/Pulumi.{cfg.stack}.yaml and remove `reliability:example` to deploy it; "
        "`sre render` shows what it would create meanwhile"
    )


def _located(error: ConfigError) -> ConfigError:
    """The problems with the stack file's name and lines, where that file can be read."""
    from .configproblems import locate
    from .stackfiles import read_stack_file

    path = PROJECT_DIR / "stacks" / f"Pulumi.{error.stack}.yaml"
    data = read_stack_file(path, "")[0] if path.is_file() else None
    if data is None:
        return error
    return ConfigError(error.stack, locate(error.problems, data, str(path.relative_to(PROJECT_DIR))))


def _enabled(toggle: Any) -> bool:
    return isinstance(toggle, Toggle) and toggle.enabled


def mirror_problems(cfg: StackConfig, offline: bool) -> list[str]:
    """A `charts.repository` mirror that lacks a pinned chart version (read from its index.yaml):
    checked before the engine creates anything, never offline (`sre render` reaches no network)."""
    if offline or not cfg.charts.repository:
        return []
    wanted = deployed_charts(lambda section: bool(getattr(cfg, section).enabled))
    return repository_problems(cfg.charts.repository, wanted, f"stacks/Pulumi.{cfg.stack}.yaml")


def from_pulumi(defaults: Mapping[str, Any]) -> StackConfig:
    """Read the running stack's config; a bad key raises pulumi.RunError (no resource is created yet)."""
    import pulumi
    from pulumi.runtime import config as rc

    values = {**rc.get_config_env(), **rc.CONFIG.get()}
    secret_keys = set(rc.get_config_secret_keys_env()) | set(rc._SECRET_KEYS.get())
    try:
        # Deploying, a local stack without kubeContext goes to the kubeconfig's current context.
        current = None if OFFLINE.get() else distributions.current_context
        cfg, secrets = parse(pulumi.get_stack(), values, secret_keys, defaults, current)
    except ConfigError as exc:
        raise pulumi.RunError(str(_located(exc))) from None
    refusal = deploy_refusal(cfg, OFFLINE.get())
    if refusal:
        raise pulumi.RunError(refusal)
    mirror = mirror_problems(cfg, OFFLINE.get())
    if mirror:
        raise pulumi.RunError(str(ConfigError(cfg.stack, mirror)))
    creds = secrets.get("alertingCredentials", {})
    password = secrets.get("grafanaAdminPassword")
    return cfg.model_copy(
        update={
            "alerting_credentials": pulumi.Output.secret(dict(sorted(creds.items()))),
            "grafana_admin_password": pulumi.Output.secret(password) if password else None,
        }
    )
