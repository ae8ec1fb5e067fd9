"""The processes of the end-to-end alert pipeline, besides Alertmanager (tests/alertmanager_proc.py)
and Prometheus (tests/prom.py).

- `SyntheticService`: the service under watch. A prometheus-client registry served on
  127.0.0.1 (in a thread, port chosen by the OS) with `http_requests_total{code}`
  counters that follow the error ratio the test sets. The counters are the integral of
  a constant request rate over time, computed at scrape time: exact, and no traffic
  thread to keep up on a busy CI machine.
- `WebhookSink`: http.server in a thread, recording every notification Alertmanager
  POSTs (path, receiver, group status, the alerts' labels and times, and the monotonic
  time it arrived); tests wait on it with a condition variable, never a sleep.

Every one of them is stopped by its context manager, so a failing test cleans up too;
the binaries go through `spawn` (setpriv --pdeathsig KILL, killed at exit).
Prometheus itself runs through tests/prom.py, shared with the dashboard query test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, Metric

T = TypeVar("T")


class SyntheticService:
    """`http_requests_total{code="200"|"500"}` at `rate` requests per second, `error_ratio` of them 500s."""

    def __init__(self, rate: float = 50.0):
        self.rate = rate
        self._lock = threading.Lock()
        self._start = self._since = time.monotonic()
        self._ratio = 0.0
        self._errors_before = 0.0
        registry = CollectorRegistry()
        registry.register(self)
        self._server, self._thread = start_http_server(0, addr="127.0.0.1", registry=registry)
        self.port = int(self._server.server_port)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        with self._lock:
            total = self.rate * (now - self._start)
            errors = self._errors_before + self._ratio * self.rate * (now - self._since)
        family = CounterMetricFamily("http_requests", "Requests answered, by status code.", labels=["code"])
        family.add_metric(["200"], total - errors)
        family.add_metric(["500"], errors)  # present from the start at 0, so rate() sees the first errors
        yield family

    def set_error_ratio(self, ratio: float) -> float:
        """From now on `ratio` of the requests fail; returns the monotonic time of the change."""
        now = time.monotonic()
        with self._lock:
            self._errors_before += self._ratio * self.rate * (now - self._since)
            self._since, self._ratio = now, ratio
        return now

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class Notification:
    at: float  # time.monotonic() when it arrived
    wall: float  # time.time() when it arrived, to compare with the alerts' own timestamps
    path: str  # the webhook URL's path: one per receiver in the test routing
    receiver: str
    status: str  # of the group: firing or resolved
    alerts: tuple[dict[str, Any], ...]  # labels, status, startsAt, endsAt, fingerprint of each alert
    sender: str = ""  # the sending Alertmanager's externalURL: tells a duplicate from a re-notification

    @property
    def starts(self) -> tuple[str, ...]:
        return tuple(a["startsAt"] for a in self.alerts)

    def __str__(self) -> str:
        names = ",".join(f"{a['labels'].get('alertname')}/{a['labels'].get('severity')}" for a in self.alerts)
        return f"{self.path} {self.status} [{names}]"


class WebhookSink:
    """Records every POST; `url(path)` is what a webhook receiver in the test routing points at."""

    def __init__(self) -> None:
        self._notifications: list[Notification] = []
        self._changed = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                self.send_response(200)
                self.end_headers()
                sink._record(Notification(
                    time.monotonic(), time.time(), self.path, body.get("receiver", ""), body.get("status", ""),
                    tuple({k: a.get(k) for k in ("labels", "status", "startsAt", "endsAt", "fingerprint")}
                          for a in body.get("alerts", [])), body.get("externalURL", "")))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{path}"

    def _record(self, notification: Notification) -> None:
        with self._changed:
            self._notifications.append(notification)
            self._changed.notify_all()

    @property
    def notifications(self) -> list[Notification]:
        with self._changed:
            return list(self._notifications)

    def select(self, receiver: str | None = None, status: str | None = None) -> list[Notification]:
        return [n for n in self.notifications
                if (receiver is None or n.receiver == receiver) and (status is None or n.status == status)]

    def wait_for(self, receiver: str, status: str, timeout: float, count: int = 1) -> Notification:
        """The `count`-th notification to `receiver` with `status`, as soon as it arrives."""
        def found() -> bool:
            return len([n for n in self._notifications if n.receiver == receiver and n.status == status]) >= count

        with self._changed:
            if not self._changed.wait_for(found, timeout):
                raise AssertionError(f"no {status} notification #{count} to {receiver} within {timeout:.0f}s; "
                                     f"received: {[str(n) for n in self._notifications]}")
        return self.select(receiver, status)[count - 1]

    def history(self) -> str:
        """Every notification with its arrival time (from the first), sender and alert times: for failures."""
        notes = self.notifications
        start = notes[0].at if notes else 0.0
        return "\n".join(f"  +{n.at - start:6.1f}s {n} from {n.sender or '?'} "
                         f"(startsAt {n.starts}, endsAt {tuple(a.get('endsAt') for a in n.alerts)})" for n in notes)

    def quiet(self, seconds: float) -> list[Notification]:
        """Wait `seconds` and return what arrived meanwhile: how a test shows that nothing more comes.

        Showing an absence needs a window; the callers size it from the Alertmanager
        timing that would produce the unwanted notification (group interval, peer timeout).
        """
        with self._changed:
            before = len(self._notifications)
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return self._notifications[before:]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait_until(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll `check` until it returns something truthy; fail with `what` and the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except OSError as exc:  # a process restarting
            last = exc
        if last:
            return last  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(interval)
