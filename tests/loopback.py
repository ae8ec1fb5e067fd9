"""An HTTP server of the tests' own, on a free 127.0.0.1 port, in a thread, closed on exit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import BaseServer


@contextmanager
def serving(httpd: BaseServer) -> Iterator[str]:
    """`http://127.0.0.1:PORT` of `httpd` (bound to port 0), served until the context ends."""
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[index]
    finally:
        httpd.shutdown()
        httpd.server_close()
