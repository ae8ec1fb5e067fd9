"""A real Alertmanager (Debian's prometheus-alertmanager) on loopback, for tests.

Always on 127.0.0.1 with free ports, storage in a temp dir, stopped at the end
even when the test fails; its log is shown when it does not come up.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .conftest import tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Alertmanager:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path):
        self.url, self.process, self.log = url, process, log

    def api(self, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            text = response.read().decode()
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"filter={k}%3D%22{v}%22" for k, v in filters.items())
        return self.api(f"/api/v2/alerts?{query}")  # type: ignore[no-any-return]


@contextmanager
def alertmanager(config: Path, workdir: Path, peers: tuple[str, ...] = (), cluster_port: int | None = None,
                 ) -> Iterator[Alertmanager]:
    port = free_port()
    args = [tool("prometheus-alertmanager"), f"--config.file={config}", f"--storage.path={workdir}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=debug"]
    if cluster_port is None:
        args.append("--cluster.listen-address=")
    else:
        args += [f"--cluster.listen-address=127.0.0.1:{cluster_port}", "--cluster.advertise-address="
                 f"127.0.0.1:{cluster_port}", "--cluster.gossip-interval=50ms", "--cluster.pushpull-interval=2s",
                 *(f"--cluster.peer={p}" for p in peers)]
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "alertmanager.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    am = Alertmanager(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                am.api("/-/ready")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"alertmanager did not come up:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.1)
        yield am
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)  # a clustered instance waits for its peers before leaving
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
