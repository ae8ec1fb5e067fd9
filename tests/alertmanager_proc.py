"""A real Alertmanager (Debian's prometheus-alertmanager) on loopback, for tests, alone or clustered.

Always on 127.0.0.1 with free ports, storage in a temp dir, stopped at the end
even when the test fails; its log is shown when it does not come up.

The process plumbing here is shared with the end-to-end tests (tests/e2e/processes.py):
`spawn` starts a binary with its output in a log file, through `setpriv --pdeathsig KILL`
where util-linux has it, so the process dies with the pytest worker even when that worker
is killed; anything still running at interpreter exit is killed too. `stop` sends SIGTERM,
waits a grace period and then kills.
"""

from __future__ import annotations

import atexit
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .conftest import tool

_LIVE: set[subprocess.Popen[bytes]] = set()


def _kill_stragglers() -> None:
    for process in list(_LIVE):
        if process.poll() is None:
            process.kill()


atexit.register(_kill_stragglers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start `args` with stdout and stderr appended to `log`; killed with its parent."""
    setpriv = shutil.which("setpriv")
    prefix = [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []
    with open(log, "ab") as out:
        process = subprocess.Popen([*prefix, *args], stdout=out, stderr=subprocess.STDOUT)
    _LIVE.add(process)
    return process


def stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; returns once the process is gone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _LIVE.discard(process)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: a crash, no shutdown of any kind."""
    if process.poll() is None:
        process.kill()
    process.wait()
    _LIVE.discard(process)


def address_in_use(log: Path) -> bool:
    return "address already in use" in log.read_text(errors="replace")


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

    def cluster(self) -> dict[str, Any]:
        """`/api/v2/status` .cluster: name (this peer), status (settling|ready|disabled), peers."""
        return self.api("/api/v2/status")["cluster"]  # type: ignore[no-any-return]

    def metric(self, name: str) -> float | None:
        """One unlabelled sample of Alertmanager's own /metrics (e.g. alertmanager_config_hash)."""
        for line in str(self.api("/metrics")).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def kill(self) -> None:
        kill(self.process)


def _start(config: Path, workdir: Path, port: int, cluster_port: int | None, peers: tuple[str, ...],
           peer_timeout: str | None) -> Alertmanager:
    args = [tool("prometheus-alertmanager"), f"--config.file={config}", f"--storage.path={workdir}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=debug"]
    if cluster_port is None:
        args.append("--cluster.listen-address=")
    else:
        args += [f"--cluster.listen-address=127.0.0.1:{cluster_port}", "--cluster.advertise-address="
                 f"127.0.0.1:{cluster_port}", "--cluster.gossip-interval=50ms", "--cluster.pushpull-interval=2s",
                 *(f"--cluster.peer={p}" for p in peers)]
        if peer_timeout:
            args.append(f"--cluster.peer-timeout={peer_timeout}")
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "alertmanager.log"
    return Alertmanager(f"http://127.0.0.1:{port}", spawn(args, log), log)


def _wait_ready(am: Alertmanager, timeout: float = 20) -> bool:
    """True once /-/ready answers; False if the process died (the caller reads its log)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            am.api("/-/ready")
            return True
        except OSError:
            if am.process.poll() is not None:
                return False
            if time.monotonic() > deadline:
                raise RuntimeError(f"alertmanager did not come up:\n{am.log.read_text()[-3000:]}") from None
            time.sleep(0.1)


def _up(config: Path, workdir: Path, cluster_port: int | None, peers: tuple[str, ...],
        peer_timeout: str | None) -> Alertmanager:
    """Start and wait for /-/ready, with a new web port when another test took the one picked."""
    for _ in range(3):
        am = _start(config, workdir, free_port(), cluster_port, peers, peer_timeout)
        if _wait_ready(am):
            return am
        stop(am.process)
        if not address_in_use(am.log):
            break
    raise RuntimeError(f"alertmanager did not come up:\n{am.log.read_text()[-3000:]}")


@contextmanager
def alertmanager(config: Path, workdir: Path, peers: tuple[str, ...] = (), cluster_port: int | None = None,
                 peer_timeout: str | None = None) -> Iterator[Alertmanager]:
    am = _up(config, workdir, cluster_port, peers, peer_timeout)
    try:
        yield am
    finally:
        stop(am.process)  # a clustered instance waits for its peers before leaving


@contextmanager
def alertmanager_cluster(config: Path, workdir: Path, size: int = 2, peer_timeout: str | None = None,
                         settle_timeout: float = 30) -> Iterator[list[Alertmanager]]:
    """`size` Alertmanagers gossiping over loopback, each told about all the others.

    Yields once every instance reports the cluster `ready` with all `size` peers, so a
    notification sent from then on is deduplicated through the shared notification log.
    """
    cluster_ports = [free_port() for _ in range(size)]
    members: list[Alertmanager] = []
    try:
        for i, port in enumerate(cluster_ports):
            peers = tuple(f"127.0.0.1:{p}" for p in cluster_ports if p != port)
            members.append(_up(config, workdir / f"am{i}", port, peers, peer_timeout))
        deadline = time.monotonic() + settle_timeout
        while True:
            states = [am.cluster() for am in members]
            if all(s["status"] == "ready" and len(s.get("peers") or []) == size for s in states):
                break
            if time.monotonic() > deadline:
                logs = "\n".join(am.log.read_text()[-1500:] for am in members)
                raise RuntimeError(f"alertmanager cluster did not settle: {states}\n{logs}")
            time.sleep(0.2)
        yield members
    finally:
        # All at once, with one shared grace period: a clustered instance waits for its peers
        # before leaving (about 20s on SIGTERM with 0.25), which a test need not sit through.
        for am in members:
            if am.process.poll() is None:
                am.process.terminate()
        deadline = time.monotonic() + 2
        for am in members:
            stop(am.process, grace=max(0.0, deadline - time.monotonic()))


def position(am: Alertmanager) -> int:
    """This instance's place in the cluster: Alertmanager sorts the members it knows by name, and
    the instance at position n waits n x --cluster.peer-timeout before it notifies (cluster/cluster.go
    `Position`, cmd/alertmanager/main.go `clusterWait`), so position 0 sends first and the others
    find its entry in the gossiped notification log and stay quiet."""
    cluster = am.cluster()
    return sorted(p["name"] for p in cluster["peers"]).index(cluster["name"])
