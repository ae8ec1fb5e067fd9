"""A real Prometheus (Debian's) on loopback for tests.

    with running_prometheus(tmp_path, rules={"x.yaml": text}, openmetrics=samples) as prom:
        prom.wait_until('count(up) > 0')
        prom.query('up')

    prom = Prometheus(config_file, workdir, "--rules.alert.resend-delay=5s")   # a config of your own
    prom.restart(crash=True)                                                   # same TSDB and port

- Listens on 127.0.0.1 on a free port (retried if another process takes it first), keeps
  its TSDB and log in the given folder; `restart()` keeps the TSDB, as a pod restart with
  a volume does.
- `openmetrics` text is turned into TSDB blocks with `promtool tsdb create-blocks-from
  openmetrics` before the server starts, so range selectors over the past hours have
  samples from the first rule evaluation on. Since 2.39 Prometheus accepts blocks that
  overlap each other or the head, so no extra flag is needed.
- The process goes through `spawn` (killed with pytest, even by SIGKILL) and is always
  stopped, also when the body raises; a failure inside `running_prometheus` or
  `prom.logs_on_failure()` gets the tail of Prometheus's log attached.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from .alertmanager_proc import address_in_use, free_port, kill, spawn, stop
from .conftest import tool

READY_TIMEOUT = 30.0
LOG_TAIL = 4000


class PrometheusError(RuntimeError):
    """Prometheus did not start, or answered a query with an error."""


class Prometheus:
    """Debian's prometheus on 127.0.0.1 with the given config file."""

    def __init__(self, config: Path, workdir: Path, *flags: str):
        self.config, self.workdir, self.flags = config, workdir, flags
        self.tsdb = workdir / "data"
        self.log = workdir / "prometheus.log"
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _start(self) -> Any:
        for _attempt in range(3):  # another process may take the free port between probe and bind
            process = spawn([tool("prometheus"), f"--config.file={self.config}",
                             f"--storage.tsdb.path={self.tsdb}", f"--web.listen-address=127.0.0.1:{self.port}",
                             "--log.level=info", *self.flags], self.log)
            deadline = time.monotonic() + READY_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if self._ready():
                    return process
                time.sleep(0.1)
            stop(process)
            if not address_in_use(self.log):
                break
            self.port = free_port()
        raise PrometheusError(f"Prometheus did not become ready within {READY_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL:]

    def api(self, path: str, **params: str) -> Any:
        """`/api/v1/<path>`; the `data` of a success, else PrometheusError with the reason."""
        url = f"{self.url}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
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
        data = self.api("query", **params)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")
        return list(data["result"])

    def alerts(self, **labels: str) -> list[dict[str, Any]]:
        """Active alerts (pending or firing) whose labels include `labels`."""
        return [a for a in self.api("alerts")["alerts"] if labels.items() <= a["labels"].items()]

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

    def restart(self, crash: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL when `crash`) and start again on the same TSDB and port."""
        if crash:
            kill(self.process)
        else:
            stop(self.process, grace=10)
        self.process = self._start()

    def stop(self) -> None:
        stop(self.process, grace=10)

    close = stop


def backfill(openmetrics: str, storage: Path, workdir: Path) -> None:
    """Write `openmetrics` (ending in `# EOF`) as TSDB blocks into `storage`."""
    import subprocess

    source = workdir / "backfill.om"
    source.write_text(openmetrics)
    proc = subprocess.run(
        [tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(storage)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise PrometheusError(f"promtool could not backfill {source}:\n{proc.stdout}{proc.stderr}")


def rules_config(workdir: Path, rules: Mapping[str, str], evaluation_interval: str = "1s") -> Path:
    """A prometheus.yml that only evaluates `rules` (file name -> rule file text)."""
    rule_dir = workdir / "rules"
    rule_dir.mkdir(parents=True, exist_ok=True)
    for name, text in rules.items():
        (rule_dir / name).write_text(text)
    config = {"global": {"evaluation_interval": evaluation_interval, "scrape_interval": "15s"},
              "rule_files": [str(rule_dir / "*")]}
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.contextmanager
def running_prometheus(workdir: Path, rules: Mapping[str, str], openmetrics: str = "",
                       evaluation_interval: str = "1s") -> Iterator[Prometheus]:
    """Backfill, start, yield, and always stop; failures in the body carry Prometheus's log."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = rules_config(workdir, rules, evaluation_interval)
    if openmetrics:
        (workdir / "data").mkdir(exist_ok=True)
        backfill(openmetrics, workdir / "data", workdir)
    prom = Prometheus(config, workdir)
    try:
        with prom.logs_on_failure():
            yield prom
    finally:
        prom.stop()
