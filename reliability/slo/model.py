"""The one SLO model every spec format maps to and every generator reads.

Objectives are `Decimal` ratios (0.999), never floats, so no generated file
says 0.9990000000000001. SLI queries are templates with a `{{window}}`
placeholder; the importers normalise every other spelling to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..durations import Duration
from ..problems import Location

WINDOW = "{{window}}"


@dataclass(frozen=True)
class Query:
    """A PromQL template; `render("5m")` fills in the window."""

    template: str

    def render(self, window: Duration | str) -> str:
        return self.template.replace(WINDOW, str(window))


@dataclass(frozen=True)
class RatioSLI:
    """Events: errors (or good) over total, each a rate-like query per window."""

    total: Query
    errors: Query | None = None
    good: Query | None = None
    kind: str = "ratio"  # "ratio", or "latency" when built from a histogram threshold
    threshold_seconds: Decimal | None = None  # latency SLIs only, for dashboards and docs
    # Latency SLIs whose spec declares the histogram's layout: its `le` values as /metrics shows them.
    buckets: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawSLI:
    """An error ratio computed by the user's query; long windows average it over time."""

    error_ratio: Query
    kind: str = "raw"


SLI = RatioSLI | RawSLI


@dataclass(frozen=True)
class AlertSpec:
    enabled: bool = True
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Alerting:
    name: str
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    page: AlertSpec = field(default_factory=AlertSpec)
    ticket: AlertSpec = field(default_factory=AlertSpec)
    no_data: AlertSpec = field(default_factory=AlertSpec)


@dataclass(frozen=True)
class BudgetPolicy:
    """What releases may do when the error budget runs low (`sre budget gate`)."""

    freeze_below: Decimal = Decimal(0)  # remaining budget ratio at or under which releases stop
    exempt: tuple[str, ...] = ()  # change labels that ship anyway (security, rollback)
    fail_mode: str = "closed"  # no answer (Prometheus down, no data yet): "closed" stops, "open" ships


@dataclass(frozen=True)
class SLO:
    service: str
    name: str
    description: str
    objective: Decimal  # ratio, e.g. Decimal("0.999")
    period: Duration
    sli: SLI
    team: str
    tier: str
    labels: tuple[tuple[str, str], ...]  # the spec's own labels, sorted
    alerting: Alerting
    runbook_url: str
    source: Location
    spec_format: str
    budget_policy: BudgetPolicy = field(default_factory=BudgetPolicy)

    @property
    def error_budget(self) -> Decimal:
        return 1 - self.objective

    @property
    def objective_percent(self) -> Decimal:
        return self.objective * 100

    @property
    def identity(self) -> tuple[tuple[str, str], ...]:
        """Labels every series and alert of this SLO carries."""
        return (("service", self.service), ("slo", self.name))


@dataclass(frozen=True)
class LoadTest:
    """A constant-arrival-rate k6 run against `target`, judged by the service's SLOs."""

    target: str
    method: str
    rate: int  # requests per second
    duration: Duration
    schedule: str | None  # cron; None: run once when deployed
    environments: tuple[str, ...]
    source: Location


@dataclass(frozen=True)
class Abort:
    """Stop the experiment while this SLO's short-window burn rate is above `burn_rate`."""

    slo: str
    burn_rate: Decimal


@dataclass(frozen=True)
class GameDay:
    """A Chaos Mesh experiment (`kind` and its `spec`) with the SLO as its hypothesis."""

    name: str
    kind: str
    spec_json: str  # the chaos spec as canonical JSON: the model stays hashable and immutable
    duration: Duration
    schedule: str | None
    abort: Abort | None
    environments: tuple[str, ...]
    source: Location
    description: str = ""


@dataclass(frozen=True)
class Canary:
    """The SLOs whose SLIs judge a canary (Argo Rollouts analysis)."""

    slos: tuple[str, ...]
    source: Location
    namespace: str | None = None  # the Rollouts' namespace; None: a ClusterAnalysisTemplate


# Where a load test or game day runs when its spec names no environments: never prod.
DEFAULT_TEST_ENVIRONMENTS_EXCLUDE = ("prod",)


def runs_in(environments: tuple[str, ...], env: str | None) -> bool:
    """Whether a test naming `environments` (empty: every one but prod) is deployed in `env`."""
    if env is None:
        return True
    return env in environments if environments else env not in DEFAULT_TEST_ENVIRONMENTS_EXCLUDE


@dataclass(frozen=True)
class Service:
    name: str
    team: str
    tier: str
    description: str
    labels: tuple[tuple[str, str], ...]
    slos: tuple[SLO, ...]
    source: Location
    spec_format: str
    # Links used by dashboards: where this service's logs and traces are found.
    log_selector: str = ""
    trace_service: str = ""
    team_source: Location | None = None  # where the spec names its team, for routing problems
    # Reliability tests judged by the SLOs (our native format only).
    loadtest: LoadTest | None = None
    gamedays: tuple[GameDay, ...] = ()
    canary: Canary | None = None

    def slo(self, name: str) -> SLO | None:
        return next((s for s in self.slos if s.name == name), None)
