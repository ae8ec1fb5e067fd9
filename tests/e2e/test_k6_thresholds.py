"""Each generated k6 script, run by a real k6 for a few seconds against a server of our own on 127.0.0.1.

The server answers with a chosen error rate and latency (every Nth request, so a short run
is deterministic): the SLO-derived thresholds pass while it is inside the SLOs and fail
(k6 exits 99) when it is outside, naming the threshold that was crossed.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from ..conftest import tool
from ..loopback import serving
from ..unit.slo.helpers import compile_text, spec_header

THRESHOLDS_CROSSED = 99  # k6's exit code when a threshold fails

SPEC = spec_header("shop-api") + """\
  - name: availability
    objective: 99
    sli:
      ratio:
        errors: 'http_requests_total{{job="shop",code=~"5.."}}'
        total: 'http_requests_total{{job="shop"}}'
  - name: latency
    objective: 95
    sli:
      latency: {{histogram: 'http_request_duration_seconds{{job="shop"}}', threshold: 200ms}}
loadtest:
  target: {target}
  rate: 40
  duration: 4s
"""


@contextmanager
def server(fail_every: int = 0, slow_every: int = 0, slow_seconds: float = 0.3) -> Iterator[str]:
    """An HTTP server whose every `fail_every`-th answer is a 500 and every `slow_every`-th is slow."""
    count = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                count[0] += 1
                n = count[0]
            if slow_every and n % slow_every == 0:
                time.sleep(slow_seconds)
            status = 500 if fail_every and n % fail_every == 0 else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield f"{url}/api/orders"


def run_k6(tmp_path: Path, target: str) -> subprocess.CompletedProcess[str]:
    output = compile_text(tmp_path, SPEC.format(target=target))
    configmap = next(yaml.safe_load_all(output.files["loadtests/shop-api.yaml"]))
    script = tmp_path / "script.js"
    script.write_text(configmap["data"]["script.js"])
    env = {**os.environ, "K6_NO_USAGE_REPORT": "true", "K6_NO_COLOR": "true"}
    return subprocess.run([tool("k6"), "run", "--quiet", str(script)], capture_output=True, text=True,
                          env=env, timeout=120, check=False, cwd=tmp_path)


@pytest.mark.parametrize(("behaviour", "crossed"), [
    ({}, None),
    ({"fail_every": 150, "slow_every": 50}, None),            # ~0.7 % errors, 2 % slow: inside 99 % and 95 %
    ({"fail_every": 10}, "http_req_failed"),                    # 10 % errors: outside the 99 % availability SLO
    ({"slow_every": 5}, "http_req_duration"),                   # 20 % over 200ms: outside the 95 % latency SLO
], ids=["healthy", "inside-the-slos", "errors", "slow"])
def test_slo_thresholds_pass_inside_and_fail_outside(tmp_path: Path, behaviour: dict, crossed: str | None) -> None:
    with server(**behaviour) as target:
        proc = run_k6(tmp_path, target)
    log = proc.stdout + proc.stderr
    if crossed is None:
        assert proc.returncode == 0, log
    else:
        assert proc.returncode == THRESHOLDS_CROSSED, log
        assert f"thresholds on metrics '{crossed}' have been crossed" in log, log
