"""Each generated k6 script, run by a real k6 for a few seconds against a server of our own on 127.0.0.1.

The scripts are those compiled from the example specs in slo-specs/ (every service with a
`loadtest`) and one compiled here with looser SLOs, so that "inside the SLOs" can include
some errors and slow answers. Each runs unchanged but for what a trial run may set: its
target, rate and duration (`k6 run -e LOADTEST_TARGET=... -e LOADTEST_RATE=... -e
LOADTEST_DURATION=...`, read by the script itself). The server answers with a chosen error
rate and latency (every Nth request, so a short run is deterministic): the SLO-derived
thresholds pass while it is inside the SLOs and fail (k6 exits 99) when it is outside,
naming the threshold that was crossed.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from reliability.slo.compile import Output
from reliability.slo.generators.loadtests import ENV_DURATION, ENV_RATE, ENV_TARGET, Threshold, thresholds

from ..conftest import tool
from ..loopback import serving
from ..unit.slo.helpers import compile_examples, compile_text, spec_header

THRESHOLDS_CROSSED = 99  # k6's exit code when a threshold fails

SPEC = spec_header("shop-api") + """\
  - name: availability
    objective: 99
    sli:
      ratio:
        errors: 'http_requests_total{job="shop",code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
  - name: latency
    objective: 95
    sli:
      latency: {histogram: 'http_request_duration_seconds{job="shop"}', threshold: 200ms}
loadtest:
  target: http://shop-api.shop.svc:8080/api/orders
  rate: 40
  duration: 4s
"""
# A trial run of every script: 40 requests a second for 4 seconds.
TRIAL = {ENV_RATE: "40", ENV_DURATION: "4s"}


@dataclass(frozen=True)
class Script:
    text: str
    thresholds: tuple[Threshold, ...]

    @property
    def latency_ms(self) -> float | None:
        """The highest latency threshold: answers slower than it are slow for every latency SLO."""
        limits = [float(t.threshold_ms) for t in self.thresholds if t.threshold_ms is not None]
        return max(limits) if limits else None


def scripts(output: Output) -> dict[str, Script]:
    """service -> its compiled k6 script and the thresholds it was compiled with."""
    out = {}
    for service in output.services:
        name = f"loadtests/{service.name}.yaml"
        if name in output.files:
            configmap = next(yaml.safe_load_all(output.files[name]))
            out[service.name] = Script(configmap["data"]["script.js"], tuple(thresholds(service)))
    return out


@cache
def example_scripts() -> dict[str, Script]:
    return scripts(compile_examples())


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


def run_k6(tmp_path: Path, script: Script, target: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.js"
    path.write_text(script.text)
    env = {**os.environ, "K6_NO_USAGE_REPORT": "true", "K6_NO_COLOR": "true"}
    trial = [arg for name, value in {**TRIAL, ENV_TARGET: target}.items() for arg in ("-e", f"{name}={value}")]
    return subprocess.run([tool("k6"), "run", "--quiet", *trial, str(path)], capture_output=True, text=True,
                          env=env, timeout=120, check=False, cwd=tmp_path)


def judged(tmp_path: Path, script: Script, crossed: str | None, **behaviour: Any) -> None:
    """Run `script` against a server behaving so; it passes, or fails on the `crossed` threshold."""
    with server(**behaviour) as target:
        proc = run_k6(tmp_path, script, target)
    log = proc.stdout + proc.stderr
    if crossed is None:
        assert proc.returncode == 0, log
    else:
        assert proc.returncode == THRESHOLDS_CROSSED, log
        assert f"thresholds on metrics '{crossed}' have been crossed" in log, log


@pytest.mark.parametrize(("behaviour", "crossed"), [
    ({}, None),
    ({"fail_every": 150, "slow_every": 50}, None),            # ~0.7 % errors, 2 % slow: inside 99 % and 95 %
    ({"fail_every": 10}, "http_req_failed"),                    # 10 % errors: outside the 99 % availability SLO
    ({"slow_every": 5}, "http_req_duration"),                   # 20 % over 200ms: outside the 95 % latency SLO
], ids=["healthy", "inside-the-slos", "errors", "slow"])
def test_slo_thresholds_pass_inside_and_fail_outside(tmp_path: Path, behaviour: dict, crossed: str | None) -> None:
    script = scripts(compile_text(tmp_path, SPEC))["shop-api"]
    judged(tmp_path, script, crossed, **behaviour)


def test_the_examples_have_load_tests() -> None:
    """The cases below run every example script; an example without one would leave them nothing to run."""
    assert sorted(example_scripts()) == ["checkout-api"]


@pytest.mark.parametrize("service", sorted(example_scripts()))
@pytest.mark.parametrize("case", ["healthy", "errors", "slow"])
def test_each_example_script_passes_inside_its_slos_and_fails_outside(tmp_path: Path, service: str,
                                                                      case: str) -> None:
    """Healthy passes; one answer in ten failing, or one in five slower than the latency SLO, fails.

    The example SLOs are tight (99.9 %): a 160-request trial has no room for a single error
    inside them, so "inside" is the healthy server here and partial degradation is tested above.
    """
    script = example_scripts()[service]
    if case == "healthy":
        judged(tmp_path, script, None)
    elif case == "errors":
        judged(tmp_path, script, "http_req_failed", fail_every=10)
    else:
        if script.latency_ms is None:
            pytest.fail(f"{service} has no latency SLO: its load test has no duration threshold to cross")
        judged(tmp_path, script, "http_req_duration", slow_every=5, slow_seconds=script.latency_ms / 1000 + 0.2)
