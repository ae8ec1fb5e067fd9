"""The SLO gate: healthy while an SLO's short-window burn rate stays below a threshold.

Chaos Mesh's StatusCheck judges only HTTP status codes (chaos-mesh#4749), so a game
day asks this gate: 200 while the burn rate is below `max_burn`, 503 above it, and
503 when Prometheus cannot be reached or has no data (a blind experiment stops too).

The burn rate is `slo:sli_error:ratio_rate<window> / slo:error_budget:ratio` of the
compiled recording rules. This file uses the standard library only: the cluster runs
it as-is from a ConfigMap in a pinned upstream Python image (`python gate.py serve`).
`sre gate check` and `sre gate serve` are the same code.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXIT_HEALTHY, EXIT_BURNING, EXIT_INPUT, EXIT_NO_DATA = 0, 1, 2, 3
TIMEOUT_SECONDS = 5.0
_WINDOW = re.compile(r"^[0-9]+[smhd]$")
_LABEL_VALUE = re.compile(r'^[^"\\\n]+$')


class GateInputError(ValueError):
    """A request the gate cannot answer (bad service, SLO, threshold or window)."""


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    burn_rate: float | None  # None: no data or Prometheus unreachable
    reason: str

    @property
    def exit_code(self) -> int:
        if self.burn_rate is None:
            return EXIT_NO_DATA
        return EXIT_HEALTHY if self.healthy else EXIT_BURNING

    def as_json(self) -> dict[str, object]:
        return {"healthy": self.healthy, "burn_rate": self.burn_rate, "reason": self.reason}


def burn_rate_query(service: str, slo: str, window: str) -> str:
    for name, value in (("service", service), ("slo", slo)):
        if not _LABEL_VALUE.match(value):
            raise GateInputError(f"{name} {value!r} is not a label value")
    if not _WINDOW.match(window):
        raise GateInputError(f"window {window!r} is not a duration such as 5m")
    sel = f'{{service="{service}", slo="{slo}"}}'
    return f"max(slo:sli_error:ratio_rate{window}{sel}) / max(slo:error_budget:ratio{sel})"


# The library reads Prometheus through reliability/prometheus.py; this file keeps its own instant query
# because it ships standalone (stdlib only, mounted from a ConfigMap): it can import nothing of the package.
def instant_query(prometheus: str, query: str, at: float | None = None,
                  timeout: float = TIMEOUT_SECONDS) -> list[float]:
    """Values of an instant query's vector (or scalar) result; raises OSError when unreachable or refused."""
    params = {"query": query, **({"time": f"{at:.3f}"} if at is not None else {})}
    url = f"{prometheus.rstrip('/')}/api/v1/query?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        raise OSError(f"Prometheus answered {exc.code} to {url}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise OSError(f"cannot query Prometheus at {prometheus}: {exc}") from None
    if body.get("status") != "success":
        raise OSError(f"Prometheus refused the query: {body.get('error', body)}")
    data = body["data"]
    if data["resultType"] == "scalar":
        return [float(data["result"][1])]
    return [float(item["value"][1]) for item in data["result"]]


def check(prometheus: str, service: str, slo: str, max_burn: float, window: str = "5m") -> Verdict:
    if not max_burn > 0:
        raise GateInputError(f"max_burn must be a number above 0, got {max_burn}")
    query = burn_rate_query(service, slo, window)
    try:
        values = instant_query(prometheus, query)
    except OSError as exc:
        return Verdict(False, None, str(exc))
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return Verdict(False, None, f"no data for {service}/{slo} over {window}: are its rules loaded?")
    burn = values[0]
    if burn < max_burn:
        return Verdict(True, burn, f"{service}/{slo} burns {burn:.3g}x its budget over {window}, below {max_burn:g}x")
    return Verdict(False, burn, f"{service}/{slo} burns {burn:.3g}x its budget over {window}, "
                                f"at or above {max_burn:g}x")


def _params(query: str) -> tuple[str, str, float, str]:
    params = urllib.parse.parse_qs(query)

    def one(name: str, default: str | None = None) -> str:
        values = params.get(name)
        if not values:
            if default is None:
                raise GateInputError(f"missing query parameter {name!r}")
            return default
        return values[0]

    try:
        max_burn = float(one("max_burn"))
    except ValueError:
        raise GateInputError("max_burn must be a number") from None
    return one("service"), one("slo"), max_burn, one("window", "5m")


def make_handler(prometheus: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/healthz":
                self._send(200, {"ok": True})
                return
            if url.path != "/gate":
                self._send(404, {"error": "not found: GET /gate?service=S&slo=N&max_burn=F[&window=5m]"})
                return
            try:
                verdict = check(prometheus, *_params(url.query))
            except GateInputError as exc:
                self._send(400, {"error": str(exc)})
                return
            self._send(200 if verdict.healthy else 503, verdict.as_json())

        def _send(self, status: int, body: dict[str, object]) -> None:
            data = (json.dumps(body, sort_keys=True) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"gate: {self.address_string()} {format % args}\n")

    return Handler


def server(prometheus: str, host: str, port: int) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(prometheus))


def main(argv: list[str] | None = None) -> int:
    """`python gate.py serve --prometheus URL [--port 8080]`: the in-cluster entry point."""
    parser = argparse.ArgumentParser(prog="gate.py", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("mode", choices=["serve"])
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    httpd = server(args.prometheus, args.host, args.port)
    print(f"gate: serving on {args.host}:{httpd.server_address[1]}, reading {args.prometheus}", file=sys.stderr)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
