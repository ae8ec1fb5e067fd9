"""The SLO gate, load test verdicts and canary queries against a real Prometheus (Debian's).

One Prometheus holds an hour of backfilled synthetic series and evaluates the compiled
rules of the gate's services:
- gate: `gate-ok` burns 0.5x its budget, `gate-burning` 20x; the gate answers 200 and 503,
  and 503 when Prometheus cannot be reached;
- verdict: two five-minute k6 runs of `shop` as k6's remote write sends them (counters per
  runner, labelled with the service tag), one inside the SLOs and one with too many failures;
- canary: `shop` pods of a stable version, a healthy canary, a bad canary and a canary without
  traffic; each query of the generated AnalysisTemplate, its arguments filled in.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reliability.cli import main
from reliability.testing import gate

from ..alertmanager_proc import free_port, spawn, stop
from ..loopback import serving
from ..prom import Prometheus, running_prometheus
from ..unit.slo.helpers import compile_text, spec_header

STEP = 15  # seconds between backfilled samples
HOUR = 3600

GATE_SPEC = """\
apiVersion: reliability-as-code/v1
kind: ServiceLevelObjectives
service: {name}
team: payments
runbook_url: https://runbooks.example.com/{name}
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{{job="{name}", code=~"5.."}}'
        total: 'http_requests_total{{job="{name}"}}'
"""

SHOP_SPEC = spec_header("shop") + """\
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{job="shop", code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
  - name: latency
    objective: 99.5
    sli:
      latency: {histogram: 'http_request_duration_seconds{job="shop"}', threshold: 300ms}
loadtest:
  target: http://shop.shop.svc:8080/api/orders
  rate: 50
  duration: 5m
canary:
  namespace: shop
"""

# pod template hash -> (requests/s, error share, share slower than 300ms)
PODS = {
    "5f6d7c8b9": (100.0, 0.0005, 0.001),  # stable version
    "6a7b8c9d0": (10.0, 0.0005, 0.001),   # healthy canary
    "7c8d9e0f1": (10.0, 0.05, 0.2),       # bad canary: 5 % errors, 20 % slow
}
QUIET = "8d9e0f1a2"  # a canary that has not served a request yet

# k6 runs: (minutes ago the run started, requests, failed, slower than 300ms)
GOOD_RUN, BAD_RUN = (50, 15_000, 6, 30), (30, 15_000, 60, 30)
RUN_SECONDS = 300


def _counter(lines: list[str], name: str, labels: str, start: int, end: int, per_second: float) -> None:
    for t in range(start, end + 1, STEP):
        lines.append(f"{name}{{{labels}}} {per_second * (t - start):.3f} {t}")


def openmetrics(now: int) -> str:
    start = now - HOUR
    requests: list[str] = []
    for service, errors in (("gate-ok", 0.0005), ("gate-burning", 0.02)):
        _counter(requests, "http_requests_total", f'job="{service}",code="200"', start, now, 100 * (1 - errors))
        _counter(requests, "http_requests_total", f'job="{service}",code="500"', start, now, 100 * errors)
    buckets: list[str] = []
    counts: list[str] = []
    for pod_hash, (rate, errors, slow) in PODS.items():
        pod = f'job="shop",pod="shop-{pod_hash}-x1y2z"'
        _counter(requests, "http_requests_total", f'{pod},code="200"', start, now, rate * (1 - errors))
        _counter(requests, "http_requests_total", f'{pod},code="500"', start, now, rate * errors)
        _counter(buckets, "http_request_duration_seconds_bucket", f'{pod},le="0.3"', start, now, rate * (1 - slow))
        _counter(buckets, "http_request_duration_seconds_bucket", f'{pod},le="+Inf"', start, now, rate)
        _counter(counts, "http_request_duration_seconds_count", pod, start, now, rate)
    k6_reqs: list[str] = []
    k6_slow: list[str] = []
    for ago, total, failed, slow in (GOOD_RUN, BAD_RUN):
        run_start = now - ago * 60
        run_end = run_start + RUN_SECONDS
        # Two runners, each with half of the traffic: the verdict must add them up.
        for runner in ("0", "1"):
            labels = f'service="shop",instance_id="{runner}"'
            _counter(k6_reqs, "k6_http_reqs_total", f'{labels},expected_response="true"', run_start, run_end,
                     (total - failed) / 2 / RUN_SECONDS)
            _counter(k6_reqs, "k6_http_reqs_total", f'{labels},expected_response="false"', run_start, run_end,
                     failed / 2 / RUN_SECONDS)
            _counter(k6_slow, "k6_slo_slow_requests_total", f'{labels},slo="latency"', run_start, run_end,
                     slow / 2 / RUN_SECONDS)
    families = [
        ("http_requests", requests), ("http_request_duration_seconds", buckets + counts),
        ("k6_http_reqs", k6_reqs), ("k6_slo_slow_requests", k6_slow),
    ]
    out = []
    for family, lines in families:
        kind = "histogram" if family == "http_request_duration_seconds" else "counter"
        out.append(f"# TYPE {family} {kind}")
        out.extend(lines)
    return "\n".join(out) + "\n# EOF\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, Path, int]]:
    workdir = tmp_path_factory.mktemp("verdicts")
    spec = "---\n".join([GATE_SPEC.format(name="gate-ok"), GATE_SPEC.format(name="gate-burning"), SHOP_SPEC])
    output = compile_text(workdir, spec)
    rules = {name.split("/")[1]: text for name, text in output.files.items()
             if name.startswith("rules/") and name.split("/")[1].startswith("gate-")}
    now = int(time.time()) - 1
    with running_prometheus(workdir / "prom", rules, openmetrics(now)) as prom:
        for service in ("gate-ok", "gate-burning"):
            prom.wait_until(f'slo:sli_error:ratio_rate5m{{service="{service}"}}')
            prom.wait_until(f'slo:error_budget:ratio{{service="{service}"}}', timeout=150)  # a 1m group
        yield prom, workdir, now


@pytest.fixture(scope="module")
def gate_url(world: tuple[Prometheus, Path, int]) -> Iterator[str]:
    with serving(gate.server(world[0].url, "127.0.0.1", 0)) as url:
        yield url


GATE_SCRIPT = Path(gate.__file__)


@pytest.fixture(scope="module", params=["gate.py", "sre gate serve"])
def served_gate(world: tuple[Prometheus, Path, int], request: pytest.FixtureRequest) -> Iterator[str]:
    """The gate as a process of its own, as the cluster runs it (gate.py alone, `python -I`: no site
    packages, no repository on the path) and as `sre gate serve`; always stopped, even when a test fails."""
    port = free_port()
    serve = ["serve", "--prometheus", world[0].url, "--host", "127.0.0.1", "--port", str(port)]
    args = ([sys.executable, "-I", str(GATE_SCRIPT), *serve] if request.param == "gate.py"
            else [sys.executable, "-m", "reliability", "gate", *serve])
    log = world[1] / f"gate-{port}.log"
    process = spawn(args, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{request.param} did not answer on port {port}:\n{log.read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
    assert process.returncode is not None


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_gate_answers_200_while_healthy_and_503_during_a_burn(gate_url: str) -> None:
    status, body = get(f"{gate_url}/gate?service=gate-ok&slo=availability&max_burn=6")
    assert status == 200 and body["healthy"] is True
    assert body["burn_rate"] == pytest.approx(0.5, rel=0.05)
    status, body = get(f"{gate_url}/gate?service=gate-burning&slo=availability&max_burn=6")
    assert status == 503 and body["healthy"] is False
    assert body["burn_rate"] == pytest.approx(20, rel=0.05)


def test_the_gate_process_answers_200_while_healthy_and_503_during_a_burn(served_gate: str) -> None:
    status, body = get(f"{served_gate}/gate?service=gate-ok&slo=availability&max_burn=6")
    assert status == 200 and body["healthy"] is True
    status, body = get(f"{served_gate}/gate?service=gate-burning&slo=availability&max_burn=6")
    assert status == 503 and body["healthy"] is False and body["burn_rate"] == pytest.approx(20, rel=0.05)
    status, body = get(f"{served_gate}/gate?service=gate-gone&slo=availability&max_burn=6")
    assert status == 503 and body["burn_rate"] is None


def test_gate_without_data_is_unhealthy(gate_url: str) -> None:
    status, body = get(f"{gate_url}/gate?service=gate-gone&slo=availability&max_burn=6")
    assert status == 503 and body["burn_rate"] is None and "no data" in body["reason"]


def test_gate_refuses_a_bad_request(gate_url: str) -> None:
    assert get(f"{gate_url}/gate?service=gate-ok&slo=availability&max_burn=lots")[0] == 400
    assert get(f"{gate_url}/gate?service=gate-ok&max_burn=6")[0] == 400


def test_gate_answers_503_when_prometheus_is_unreachable() -> None:
    httpd = gate.server(f"http://127.0.0.1:{free_port()}", "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        status, body = get(f"http://127.0.0.1:{httpd.server_address[1]}/gate?service=a&slo=b&max_burn=1")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert status == 503 and body["healthy"] is False and "cannot query Prometheus" in body["reason"]


def test_gate_check_exit_codes(world: tuple[Prometheus, Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    url = world[0].url
    base = ["gate", "check", "--prometheus", url, "--slo", "availability", "--max-burn", "6"]
    assert main([*base, "--service", "gate-ok"]) == 0
    assert main(["gate", *base[2:], "--service", "gate-burning"]) == 1  # `sre gate --prometheus ...` is check
    assert main([*base, "--service", "gate-burning"]) == 1
    assert main([*base, "--service", "gate-gone"]) == 3
    assert main([*base[:3], f"http://127.0.0.1:{free_port()}", *base[4:], "--service", "gate-ok"]) == 3
    out = capsys.readouterr().out
    assert "healthy: gate-ok/availability burns 0.5" in out


def _verdict(world: tuple[Prometheus, Path, int], started_ago: int, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    prom, workdir, now = world
    start = now - started_ago * 60
    code = main(["loadtest", "verdict", "--prometheus", prom.url, "--service", "shop", "--from", str(start),
                 "--to", str(start + RUN_SECONDS), "--specs", str(workdir / "spec.yaml")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_verdict_passes_a_good_run(world: tuple[Prometheus, Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verdict(world, GOOD_RUN[0], capsys)
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[0].startswith("pass  availability: http_req_failed rate<0.001: 0.0004 of requests failed"), out
    assert lines[1].startswith("pass  latency: http_req_duration p(99.5)<300: 0.002 of requests slower than "
                               "300ms"), out


def test_verdict_fails_a_bad_run(world: tuple[Prometheus, Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verdict(world, BAD_RUN[0], capsys)
    assert code == 1, out
    assert out.startswith("FAIL  availability: http_req_failed rate<0.001: 0.004 of requests failed"), out
    assert "pass  latency" in out


def test_verdict_without_data_exits_3(world: tuple[Prometheus, Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _verdict(world, 20, capsys)  # a window after both runs
    assert code == 3 and "no k6 requests of service 'shop'" in out


def _canary_metrics(world: tuple[Prometheus, Path, int]) -> list[dict]:
    output = compile_text(world[1] / "canary", SHOP_SPEC)
    return yaml.safe_load(output.files["canary/shop.yaml"])["spec"]["metrics"]


def _measure(prom: Prometheus, metric: dict, pod_hash: str, now: int) -> list[float]:
    query = metric["provider"]["prometheus"]["query"].replace("{{args.canary-hash}}", pod_hash)
    return [float(s["value"][1]) for s in prom.query(query, at=now)]


def _limit(metric: dict) -> float:
    found = re.search(r"result\[0\] < ([0-9.]+)$", metric["successCondition"])
    assert found, metric["successCondition"]
    return float(found.group(1))


def test_canary_queries_pass_a_healthy_canary_and_fail_a_bad_one(world: tuple[Prometheus, Path, int]) -> None:
    (world[1] / "canary").mkdir(exist_ok=True)
    metrics = _canary_metrics(world)
    assert [m["name"] for m in metrics] == ["availability", "latency"]
    prom, _, now = world
    for metric in metrics:
        limit = _limit(metric)
        healthy = _measure(prom, metric, "6a7b8c9d0", now)
        bad = _measure(prom, metric, "7c8d9e0f1", now)
        assert len(healthy) == 1 and healthy[0] < limit, (metric["name"], healthy, limit)
        assert len(bad) == 1 and bad[0] >= limit, (metric["name"], bad, limit)
        expected_bad = {"availability": 0.05, "latency": 0.2}[metric["name"]]
        assert bad[0] == pytest.approx(expected_bad, rel=0.05), "the stable pods must not dilute the canary"


def test_a_canary_without_traffic_is_an_empty_result_not_an_error(world: tuple[Prometheus, Path, int]) -> None:
    (world[1] / "canary").mkdir(exist_ok=True)
    prom, _, now = world
    for metric in _canary_metrics(world):
        assert _measure(prom, metric, QUIET, now) == []  # neither condition holds: Argo says Inconclusive
