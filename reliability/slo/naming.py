"""The contract names: recorded series, rule groups, files and objects.

Dashboards, reports and users' own queries rely on these; they change only
with a major version.
"""

from __future__ import annotations

import hashlib
import re

from ..durations import Duration

# Series every SLO records (labels `service` and `slo` identify the SLO).
ERROR_RATIO = "slo:sli_error:ratio_rate{window}"  # for every alert window and the period
# Ratio SLIs, windows up to 1h (those read from raw samples): bad and all events per second.
ERRORS_RATE = "slo:sli_errors:rate{window}"
REQUESTS_RATE = "slo:sli_requests:rate{window}"
BUDGET_REMAINING = "slo:error_budget_remaining:ratio"  # 1 untouched, <= 0 exhausted
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
PERIOD_SECONDS = "slo:period:seconds"
INFO = "slo:info"


def error_ratio(window: Duration) -> str:
    return ERROR_RATIO.format(window=window)


def errors_rate(window: Duration) -> str:
    return ERRORS_RATE.format(window=window)


def requests_rate(window: Duration) -> str:
    return REQUESTS_RATE.format(window=window)


def slug(name: str) -> str:
    """A file and Kubernetes-name friendly form: lowercase, [a-z0-9-]."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not text:
        text = "x" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return text


def k8s_name(*parts: str, limit: int = 63) -> str:
    """A DNS-1123 name; long names keep a hash suffix so they stay unique and stable."""
    text = "-".join(slug(p) for p in parts if p)
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9].rstrip('-')}-{digest}"


def group_name(service: str, slo: str, part: str) -> str:
    return f"slo:{service}:{slo}:{part}"
