"""A small client for Prometheus's HTTP API (stdlib only): instant queries, ranges and raw samples.

The one client of the library: budgets (status, gate, report), incidents (post-mortem evidence)
and the benchmarks read Prometheus through it. The in-cluster SLO gate (reliability/testing/gate.py)
keeps a stdlib-only copy of the instant query because it ships as a standalone script.

Two failures are told apart because the gate treats them differently: `Unreachable`
(no answer: the fail mode decides) and `QueryError` (Prometheus answered and refused the
query: bad input, exit 2). Both are a `PrometheusError`, for callers that treat them alike.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 11_000  # Prometheus refuses range queries with more points per series


class PrometheusError(RuntimeError):
    """Prometheus gave no usable answer; the message says which and why."""


class Unreachable(PrometheusError):
    """No usable answer from Prometheus (connection refused, timeout, not an API)."""


class QueryError(PrometheusError):
    """Prometheus answered and refused the query."""


Labels = tuple[tuple[str, str], ...]


def labels_of(metric: dict[str, str]) -> Labels:
    return tuple(sorted(metric.items()))


@dataclass
class Prometheus:
    url: str
    timeout: float = 30.0

    def _get(self, path: str, params: dict[str, str]) -> Any:
        url = f"{self.url.rstrip('/')}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:  # 400/422: a bad query, the body says why
            try:
                body = json.loads(exc.read() or b"{}")
            except ValueError:
                raise Unreachable(f"{self.url}: HTTP {exc.code} {exc.reason}") from None
            if exc.code >= 500 and body.get("errorType") not in ("execution", "bad_data"):
                raise Unreachable(f"{self.url}: HTTP {exc.code}: {body.get('error', exc.reason)}") from None
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"cannot reach Prometheus at {self.url}: {reason}") from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error", body) if isinstance(body, dict) else body
            raise QueryError(f"Prometheus refused the query: {error}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[tuple[Labels, float]]:
        """An instant vector: (labels, value) per series; NaN samples are kept for the caller."""
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        data = self._get("query", params)
        if data["resultType"] == "scalar":
            return [((), float(data["result"][1]))]
        if data["resultType"] != "vector":
            raise QueryError(f"expected an instant vector from {expr!r}, got a {data['resultType']}")
        return [(labels_of(r["metric"]), float(r["value"][1])) for r in data["result"]]

    def samples(self, selector: str, start: float, end: float,
                chunk: float = 7 * 86400) -> dict[Labels, list[tuple[float, float]]]:
        """Raw samples of `selector` in (start, end], read in chunks so no answer grows unbounded."""
        out: dict[Labels, list[tuple[float, float]]] = {}
        t = start
        while t < end:
            upto = min(end, t + chunk)
            seconds = max(1, math.ceil(upto - t))
            data = self._get("query", {"query": f"{selector}[{seconds}s]", "time": f"{upto:.3f}"})
            for r in data["result"]:
                key = labels_of(r["metric"])
                out.setdefault(key, []).extend(
                    (float(ts), float(v)) for ts, v in r["values"] if float(ts) > t
                )
            t = upto
        for values in out.values():
            values.sort()
        return out

    def query_range(self, expr: str, start: float, end: float,
                    step: float) -> dict[Labels, list[tuple[float, float]]]:
        """A range query split into pieces of at most MAX_POINTS points per series."""
        out: dict[Labels, list[tuple[float, float]]] = {}
        t = start
        span = step * (MAX_POINTS - 1)
        while t <= end:
            upto = min(end, t + span)
            data = self._get("query_range", {"query": expr, "start": f"{t:.3f}", "end": f"{upto:.3f}",
                                             "step": f"{step:g}"})
            for r in data["result"]:
                out.setdefault(labels_of(r["metric"]), []).extend((float(ts), float(v)) for ts, v in r["values"])
            t = upto + step
        return out
