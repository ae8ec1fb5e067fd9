"""A real Prometheus on loopback for tests: history backfilled with promtool, rules evaluated every second.

    with running_prometheus(tmp_path, rules={"x.yaml": text}, openmetrics=samples) as prom:
        prom.wait_until('count(up) > 0')
        prom.query('up')

- Listens on 127.0.0.1 on a free port, stores its TSDB in the given folder.
- `openmetrics` text is turned into TSDB blocks with `promtool tsdb create-blocks-from
  openmetrics` before the server starts, so range selectors over the past hours have
  samples from the first rule evaluation on. Since 2.39 Prometheus always accepts
  blocks that overlap each other or the head (`--storage.tsdb.allow-overlapping-blocks`
  is gone from Debian's 2.42 `--help`), so no extra flag is needed.
- The process is always stopped (SIGTERM, then SIGKILL after 10 s), also when the
  body raises. A failure inside the `with` block, or inside `prom.logs_on_failure()`
  (for fixtures that outlive one test), gets the tail of Prometheus's log attached
  as an exception note.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .conftest import tool

READY_TIMEOUT = 20.0
LOG_TAIL = 4000


class PrometheusError(RuntimeError):
    """Prometheus did not start, or answered a query with an error."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL:]

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:  # 400/422: a bad query; the body says why
            body = json.loads(exc.read() or b"{}")
        if body.get("status") != "success":
            raise PrometheusError(f"{body.get('errorType', 'error')}: {body.get('error', body)}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; the result vector (a scalar comes back as one unlabelled sample)."""
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return list(self._get("/api/v1/query_range", params)["result"])

    def wait_until(self, expr: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll an instant query until it returns something; fail with the log tail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result:
                return result
            if time.monotonic() > deadline:
                raise PrometheusError(f"no result for {expr} after {timeout:.0f}s\n{self.log_tail()}")
            time.sleep(0.2)

    @contextlib.contextmanager
    def logs_on_failure(self) -> Iterator[None]:
        """Attach the tail of Prometheus's log to any exception raised inside."""
        try:
            yield
        except BaseException as exc:
            exc.add_note(f"Prometheus log ({self.log}), last {LOG_TAIL} characters:\n{self.log_tail()}")
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def backfill(openmetrics: str, storage: Path, workdir: Path) -> None:
    """Write `openmetrics` (ending in `# EOF`) as TSDB blocks into `storage`."""
    source = workdir / "backfill.om"
    source.write_text(openmetrics)
    proc = subprocess.run(
        [tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(storage)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise PrometheusError(f"promtool could not backfill {source}:\n{proc.stdout}{proc.stderr}")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start(workdir: Path, rules: Mapping[str, str], evaluation_interval: str = "1s") -> Prometheus:
    """Start Prometheus with `rules` (file name -> rule file text) in `workdir`; return once it is ready."""
    rule_dir = workdir / "rules"
    rule_dir.mkdir(exist_ok=True)
    for name, text in rules.items():
        (rule_dir / name).write_text(text)
    config = {"global": {"evaluation_interval": evaluation_interval, "scrape_interval": "15s"},
              "rule_files": [str(rule_dir / "*")]}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    storage = workdir / "data"
    storage.mkdir(exist_ok=True)
    log = workdir / "prometheus.log"
    last = ""
    for _attempt in range(3):  # another process may take the free port between probe and bind
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [tool("prometheus"), f"--config.file={workdir / 'prometheus.yml'}",
                 f"--storage.tsdb.path={storage}", f"--web.listen-address=127.0.0.1:{port}",
                 "--log.level=info"],
                stdout=out, stderr=subprocess.STDOUT,
            )
        prom = Prometheus(url, process, log)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _ready(url):
                return prom
            time.sleep(0.1)
        prom.stop()
        last = prom.log_tail()
        if "address already in use" not in last:
            break
    raise PrometheusError(f"Prometheus did not become ready within {READY_TIMEOUT:.0f}s:\n{last}")


@contextlib.contextmanager
def running_prometheus(workdir: Path, rules: Mapping[str, str], openmetrics: str = "",
                       evaluation_interval: str = "1s") -> Iterator[Prometheus]:
    """Backfill, start, yield, and always stop; failures in the body carry Prometheus's log."""
    workdir.mkdir(parents=True, exist_ok=True)
    if openmetrics:
        (workdir / "data").mkdir(exist_ok=True)
        backfill(openmetrics, workdir / "data", workdir)
    prom = start(workdir, rules, evaluation_interval)
    try:
        with prom.logs_on_failure():
            yield prom
    finally:
        prom.stop()
