"""A test server served from a thread of the test process, on 127.0.0.1."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

WAIT = 10  # seconds: the server's thread is waited for at most this long after its shutdown


@contextmanager
def running(server: socketserver.BaseServer) -> Iterator[None]:
    """Serve ``server`` from a thread for the duration of the block; then shut it down, close
    its socket and wait for the thread (bounded)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)
