"""`sre bench report`: `sre report` over a month for N SLOs against a local Prometheus.

Generates N ratio SLOs (4 per service on 2 SLIs, as teams write them: a 99.9 and a 99.99
objective on the requests, a 30d and a 7d period on the jobs; `--slos 1000` asks Prometheus
what 500 SLOs on 500 distinct SLIs would), a month of their counters scraped every minute
(`--scrape`) with an outage and a page for one SLO in ten, backfills it with `promtool tsdb
create-blocks-from openmetrics`, starts Debian's `prometheus` on a free loopback port, and
times what the user waits for: every query, the summary and the three files. Prometheus is always stopped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from ..budgets import render, report, summary
from ..prometheus import Prometheus
from ..slo.build import default_alert_name
from ..slo.load import load
from ..yamlio import dump

DAY = 86400
SCRAPE = 60  # a common scrape interval; fewer samples would flatter the whole-interval queries
START = 1_790_812_800  # 2026-10-01T00:00:00Z
END = START + 30 * DAY
SLOS_PER_SERVICE = 4


class BenchError(RuntimeError):
    """A tool is missing or Prometheus did not start."""


def spec_for(index: int) -> dict:  # type: ignore[type-arg]
    service = f"service-{index:04d}"
    job = f'job="{service}"'
    http = {"errors": f'http_requests_total{{{job},code="500"}}', "total": f"http_requests_total{{{job}}}"}
    jobs = {"good": f'sum(rate(jobs_processed_total{{{job},status="ok"}}[{{{{window}}}}]))',
            "total": f"sum(rate(jobs_processed_total{{{job}}}[{{{{window}}}}]))"}
    return {
        "apiVersion": "reliability-as-code/v1", "kind": "ServiceLevelObjectives", "service": service,
        "team": f"team-{index % 25:02d}", "runbook_url": f"https://runbooks.example.com/{service}",
        "slos": [{"name": "availability", "objective": 99.9, "sli": {"ratio": http}},
                 {"name": "availability-strict", "objective": 99.99, "sli": {"ratio": http}},
                 {"name": "jobs", "objective": 99, "sli": {"ratio": jobs}},
                 {"name": "jobs-weekly", "objective": 99.5, "period": "7d", "sli": {"ratio": jobs}}],
    }


def openmetrics(services: int, scrape: int = SCRAPE) -> Iterator[str]:
    """A month of counters per service scraped every `scrape` seconds, as OpenMetrics lines (streamed:
    at 60 s, 500 SLOs are 22 million samples); every tenth service has a 2-hour outage that pages."""
    yield "# TYPE http_requests_total unknown"
    times = range(START - scrape, END + scrape, scrape)
    for index in range(services):
        job = f"service-{index:04d}"
        outage = (START + (index % 29) * DAY, START + (index % 29) * DAY + 7200) if index % 10 == 0 else (0, 0)
        ok = err = 0.0
        for t in times:
            bad = 5.0 * scrape if outage[0] < t <= outage[1] else 0.0
            ok, err = ok + 10.0 * scrape - bad, err + bad
            yield f'http_requests_total{{job="{job}",code="200"}} {ok} {t}'
            yield f'http_requests_total{{job="{job}",code="500"}} {err} {t}'
    yield "# TYPE jobs_processed_total unknown"
    for index in range(services):
        job = f"service-{index:04d}"
        for i, t in enumerate(times):  # one job a second, one in a thousand failed
            yield f'jobs_processed_total{{job="{job}",status="ok"}} {i * scrape} {t}'
            yield f'jobs_processed_total{{job="{job}",status="failed"}} {i * scrape / 1000:g} {t}'
    yield "# TYPE ALERTS unknown"
    for index in range(0, services, 10):
        begin = START + (index % 29) * DAY + 120
        service = f"service-{index:04d}"
        page = default_alert_name(service, "availability")  # the report counts only the compiler's page alert
        for t in range(begin, begin + 7200, 60):
            yield (f'ALERTS{{alertname="{page}",alertstate="firing",service="{service}",'
                   f'severity="page",slo="availability"}} 1 {t}')
    yield "# EOF"


@dataclass
class Result:
    slos: int
    services: int
    scrape: int
    samples: int
    seconds: float
    incidents: int
    html_bytes: int


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BenchError(f"{name} not found on PATH: install Debian's prometheus package (make debian-tools)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"Prometheus at {url} did not become ready")


def bench(slos: int, scrape: int = SCRAPE) -> Result:
    services = max(1, -(-slos // SLOS_PER_SERVICE))
    with tempfile.TemporaryDirectory(prefix="sre-bench-report-") as tmp:
        specs = os.path.join(tmp, "specs")
        os.makedirs(specs)
        count = 0
        for index in range(services):
            spec = spec_for(index)
            spec["slos"] = spec["slos"][: min(SLOS_PER_SERVICE, slos - count)]
            count += len(spec["slos"])
            with open(os.path.join(specs, f"service-{index:04d}.yaml"), "w", encoding="utf-8") as handle:
                handle.write(dump(spec))
        source, data = os.path.join(tmp, "data.om"), os.path.join(tmp, "data")
        with open(source, "w", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in openmetrics(services, scrape))
        subprocess.run([_tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                        "--max-block-duration=744h", source, data], check=True, capture_output=True)
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("global: {scrape_interval: 15s}\n")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with open(os.path.join(tmp, "prometheus.log"), "wb") as log:
            process = subprocess.Popen(
                [_tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={data}",
                 f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"],
                stdout=log, stderr=subprocess.STDOUT)
        try:
            _ready(url, process)
            result = load([specs])
            if result.problems:
                raise BenchError("generated specs are invalid: " + "; ".join(map(str, result.problems.errors)))
            began = time.perf_counter()
            opts = report.Options(start=START, end=END)
            data_ = summary.summarise(report.build(Prometheus(url), result.services, opts))
            page = render.html(data_)
            render.markdown(data_)
            render.as_json(data_)
            seconds = time.perf_counter() - began
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    samples = services * 4 * len(range(START - scrape, END + scrape, scrape))
    return Result(count, services, scrape, samples, seconds, int(data_["overall"]["incidents"]), len(page.encode()))
