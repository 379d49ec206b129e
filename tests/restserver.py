"""A small REST server on 127.0.0.1 for the ``http`` provider's tests, with fault injection.

- ``/api/now/table/<table>``: a ServiceNow-style Table API (``sys_id`` ids, ``result``
  envelopes, ``sysparm_query=name=X``, ``sysparm_offset``/``sysparm_limit``);
- ``/v1/<collection>``: a plain JSON API (bare lists and records, ``id`` ids, ``?name=X``,
  ``page``/``limit``, ``offset``/``limit`` and a ``Link: rel="next"`` header).

Faults are queued per method (``"*"`` for any) and used up one per request: ``500``, ``429``
(with Retry-After), ``slow`` (sleeps past the client's timeout after the request took effect),
``late`` (sleeps past the client's timeout *before* it takes effect, as a busy server completes
a request after the client gave up), ``drop`` (closes the connection without an answer),
``truncate`` (the request takes effect; the answer's body stops half-way and the connection
closes), ``malformed`` (a 200 whose body is not JSON, after the request took effect),
``garbage`` (valid JSON of the wrong shape), ``foreign`` (the request takes effect, but the
answer carries another record of the table).

Options, as a real API has them: ``unique_names`` (a second record of a name is refused with
409), ``idempotency`` (a POST carrying an ``Idempotency-Key`` already seen is answered with the
record the first one made, waiting for it when it is still running), ``latency`` (seconds added
to every call) and ``rate`` (calls per second allowed, a token bucket holding ``burst`` calls;
above it 429 with ``Retry-After``: the seconds until a call is allowed again). ``GET /_stats``
counts the answers given (calls, 429s, first and last arrival; ``?since=EPOCH``).
``python -m tests.restserver --latency 0.05 --rate 200`` serves until its standard input
closes, printing its URL first.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.threaded import running

SLOW_SECONDS = 1.5
LATE_SECONDS = 1.0


class Bucket:
    """A token bucket: ``rate`` calls a second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 when the call is allowed, else the seconds until one is."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class State:
    def __init__(
        self,
        token: str | None,
        *,
        unique_names: bool = False,
        idempotency: bool = False,
        latency: float = 0.0,
        rate: float | None = None,
        burst: int = 10,
    ) -> None:
        self.token = token
        self.unique_names = unique_names
        self.idempotency = idempotency
        self.latency = latency
        self.bucket = Bucket(rate, burst) if rate else None
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.faults: dict[str, deque[str]] = {}
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        self.statuses: list[int] = []
        self.answered: list[tuple[float, int]] = []  # arrival (epoch seconds), status
        self.keys: dict[str, threading.Event] = {}
        self.answers: dict[str, tuple[int, Any]] = {}

    def fault(self, method: str, *kinds: str) -> None:
        with self.lock:
            self.faults.setdefault(method, deque()).extend(kinds)

    def next_fault(self, method: str) -> str | None:
        with self.lock:
            for key in (method, "*"):
                queue = self.faults.get(key)
                if queue:
                    return queue.popleft()
        return None

    def count(self, table: str) -> int:
        with self.lock:
            return len(self.tables.get(table, {}))


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, data: Any = None, headers: dict[str, str] | None = None) -> None:
        body = b"" if data is None else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if split.path == "/_stats":  # for the benchmarks: what the clients were answered
            since = float(query.get("since", 0))
            with state.lock:
                answered = [(t, s) for t, s in state.answered if t >= since]
            times = [t for t, _ in answered]
            return self._send(
                200,
                {
                    "calls": len(answered),
                    "throttled": sum(1 for _, s in answered if s == 429),
                    "first": min(times, default=0.0),
                    "last": max(times, default=0.0),
                },
            )
        state.requests.append((self.command, split.path, self.headers.get("Authorization")))
        arrived = time.time()
        if state.latency:
            time.sleep(state.latency)
        if state.bucket is not None:
            wait = state.bucket.take()
            if wait:
                state.statuses.append(429)
                state.answered.append((arrived, 429))
                return self._send(429, {"error": "rate limit"}, {"Retry-After": f"{wait:.3f}"})
        fault = state.next_fault(self.command)
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "500":
            return self._send(500, {"error": "injected"})
        if fault == "429":
            return self._send(429, {"error": "slow down"}, {"Retry-After": "0.2"})
        if state.token and self.headers.get("Authorization") != f"Bearer {state.token}":
            return self._send(401, {"error": "unauthorized"})
        snow = split.path.startswith("/api/now/table/")
        prefix = "/api/now/table/" if snow else "/v1/"
        if not split.path.startswith(prefix):
            return self._send(404, {"error": "no such path"})
        parts = split.path[len(prefix) :].split("/")
        table = parts[0]
        rid = urllib.parse.unquote(parts[1]) if len(parts) > 1 else None
        id_field = "sys_id" if snow else "id"
        wrap = (lambda d: {"result": d}) if snow else (lambda d: d)
        body = json.loads(raw) if raw else None
        headers: dict[str, str] = {}
        key = self.headers.get("Idempotency-Key") if state.idempotency else None
        if key and self.command == "POST":
            with state.lock:
                first = key not in state.keys
                done = state.keys.setdefault(key, threading.Event())
            if not first:  # a retry: the first request's answer, once it has one
                done.wait(10)
                status, data = state.answers.get(key, (409, {"error": "key in use"}))
                return self._send(status, data)
        if fault == "late":  # busy: the request takes effect after the client gave up
            time.sleep(LATE_SECONDS)
        with state.lock:
            rows = state.tables.setdefault(table, {})
            if self.command == "GET" and rid is None:
                items = sorted(rows.values(), key=lambda r: r[id_field])
                name = query.get("name")
                if snow and query.get("sysparm_query", "").startswith("name="):
                    name = query["sysparm_query"][5:]
                if name is not None:
                    items = [r for r in items if r.get("name") == name]
                if snow and query.get("sysparm_query", "").startswith("sys_idIN"):
                    wanted = set(query["sysparm_query"][8:].split(","))
                    items = [r for r in items if r[id_field] in wanted]
                limit = int(query.get("sysparm_limit") or query.get("limit") or 1000)
                if "page" in query:
                    start = (int(query["page"]) - 1) * limit
                else:
                    start = int(query.get("sysparm_offset") or query.get("offset") or 0)
                page = items[start : start + limit]
                if start + limit < len(items):
                    nxt = f"/v1/{table}?offset={start + limit}&limit={limit}"
                    headers["Link"] = f'<{nxt}>; rel="next"'
                status, data = 200, wrap(page)
            elif self.command == "GET":
                row = rows.get(rid or "")
                status, data = (404, {"error": "not found"}) if row is None else (200, wrap(row))
            elif self.command == "POST" and rid is None:
                taken = state.unique_names and any(
                    r.get("name") == body.get("name") for r in rows.values()
                )
                if taken:
                    status, data = 409, {"error": "a record of that name exists"}
                else:
                    row = {**body, id_field: uuid.uuid4().hex}
                    rows[row[id_field]] = row
                    status, data = 201, wrap(row)
            elif self.command in ("PATCH", "PUT") and rid is not None:
                if rid not in rows:
                    status, data = 404, {"error": "not found"}
                else:
                    base = rows[rid] if self.command == "PATCH" else {id_field: rid}
                    rows[rid] = {**base, **body, id_field: rid}
                    status, data = 200, wrap(rows[rid])
            elif self.command == "DELETE" and rid is not None:
                found = rows.pop(rid, None)
                status, data = (204, None) if found else (404, {"error": "not found"})
            else:
                status, data = 405, {"error": "method not allowed"}
            own = data.get("result", data) if isinstance(data, dict) else None
            mine = own.get(id_field) if isinstance(own, dict) else None
            others = [r for r in rows.values() if r[id_field] != mine]
            if key and self.command == "POST":
                state.answers[key] = (status, data)
                state.keys[key].set()
        state.statuses.append(status)
        state.answered.append((arrived, status))
        if fault == "foreign" and status < 400 and others:
            return self._send(200, wrap(dict(others[0])))
        if fault == "truncate" and status < 400:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "slow":  # the request took effect; the answer comes too late
            time.sleep(SLOW_SECONDS)
        if fault == "malformed" and status < 400:
            payload = b'{"result": {"sys_id": "trunc'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if fault == "garbage" and status < 400:
            return self._send(200, {"unexpected": [1, 2, 3]})
        self._send(status, data, headers)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once (the benchmark's threads)

    def __init__(self, token: str | None, **options: Any) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = State(token, **options)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out closed the connection: expected here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serving(token: str | None = None, **options: Any) -> Iterator[Server]:
    server = Server(token, **options)
    with running(server):
        yield server


def main() -> None:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Serve the test REST API on 127.0.0.1.")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--unique-names", action="store_true")
    parser.add_argument("--idempotency", action="store_true")
    args = parser.parse_args()
    options = {
        "latency": args.latency,
        "rate": args.rate,
        "burst": args.burst,
        "unique_names": args.unique_names,
        "idempotency": args.idempotency,
    }
    with serving(None, **options) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
