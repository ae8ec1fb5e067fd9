"""The verdict of a whole load test run, from the metrics its runners remote-wrote.

The k6 operator judges thresholds per runner (k6-operator#392): with several
runners, each sees a slice. Every generated run remote-writes counters that add
up across runners instead, `k6_http_reqs_total` (with `expected_response`) and
`k6_slo_slow_requests_total` (requests slower than a latency SLO's threshold), all
labelled with the `service` tag, and this module judges the same thresholds over
the whole run with PromQL:

- ratio SLO (`http_req_failed: rate<budget`): failed requests / requests < budget;
- latency SLO (`http_req_duration: p(objective)<threshold`): requests slower than
  the threshold / requests < budget, which is the same statement about the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..prometheus import Prometheus
from ..slo.generators.loadtests import SLOW_COUNTER, Threshold, thresholds
from ..slo.model import Service
from ..times import parse_instant
from ..yamlio import format_decimal

REQUESTS = "k6_http_reqs_total"
SLOW = f"k6_{SLOW_COUNTER}_total"


class NoData(Exception):
    """Prometheus holds no requests of this service in the time range."""


@dataclass(frozen=True)
class Measured:
    threshold: Threshold
    value: float  # share of bad requests over the run
    bad: float
    requests: float

    @property
    def passed(self) -> bool:
        return Decimal(repr(self.value)) < self.threshold.budget

    def __str__(self) -> str:
        t = self.threshold
        word = "pass" if self.passed else "FAIL"
        what = "failed" if t.threshold_ms is None else f"slower than {format_decimal(t.threshold_ms)}ms"
        return (f"{word}  {t.slo}: {t.metric} {t.expression}: {self.value:.6g} of requests {what} "
                f"({self.bad:.0f} of {self.requests:.0f}), limit {format_decimal(t.budget)}")


def parse_time(text: str) -> float:
    """RFC 3339 (`2026-12-04T03:00:00Z`) or Unix seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_instant(text).timestamp()
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use RFC 3339 (2026-12-04T03:00:00Z) or Unix seconds") from None


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def queries(service: str, threshold: Threshold, seconds: int) -> tuple[str, str]:
    """(bad requests, all requests) over the run, summed over every runner."""
    sel = f'service="{_quote(service)}"'
    total = f"sum(increase({REQUESTS}{{{sel}}}[{seconds}s]))"
    if threshold.threshold_ms is None:
        bad = f'sum(increase({REQUESTS}{{{sel}, expected_response="false"}}[{seconds}s]))'
    else:
        bad = f'sum(increase({SLOW}{{{sel}, slo="{_quote(threshold.slo)}"}}[{seconds}s]))'
    return bad, total


def judge(prometheus: str, service: Service, start: float, end: float) -> list[Measured]:
    """Each SLO threshold measured over [start, end]; NoData without requests,
    reliability.prometheus.PrometheusError when Prometheus is unreachable or refuses a query."""
    if end <= start:
        raise ValueError("--to must be later than --from")
    seconds = max(1, round(end - start))
    client = Prometheus(prometheus)
    out = []
    for threshold in thresholds(service):
        bad_q, total_q = queries(service.name, threshold, seconds)
        total = sum(value for _, value in client.query(total_q, at=end))
        if not total > 0:
            raise NoData(f"no k6 requests of service {service.name!r} between {start:.0f} and {end:.0f}: "
                         "did the run remote-write to this Prometheus (K6_PROMETHEUS_RW_SERVER_URL)?")
        bad = sum(value for _, value in client.query(bad_q, at=end))
        out.append(Measured(threshold, bad / total, bad, total))
    return out
