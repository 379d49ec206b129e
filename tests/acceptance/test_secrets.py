"""A sensitive property's value never leaves: not when a provider reads it back (or echoes it in
another field), not when an API error quotes the request, not when a schema error quotes the
whole object. Checked at every exit: plan and drift output, plan files, apply output, the
journal (spo state history), the state database and the bug-report log."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_spo
from tests.threaded import running

SECRET = "whsec-9f8e7d6c5b4a"
SERVER_SECRET = "whsec-held-by-the-server-1234"

CONFIG = """apiVersion: spo/v1
kind: Project
providers:
  http:
    baseUrl: {url}
    types:
      webhook:
        path: /v1/hooks
        sensitive: [secret]
        schema:
          type: object
          maxProperties: {most}
          required: [url, secret]
          properties:
            url: {{type: string}}
            secret: {{type: string}}
"""

CATALOG = """apiVersion: spo/v1
kind: Party
metadata: {{name: team-a, version: 1.0.0}}
spec: {{type: team}}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: alerts, version: 1.0.0, owner: team-a}}
spec:
  type: technical
  tier: 3
  outcomes: [{{name: alerts reach the on-call team}}]
  provisioning:
    - provider: http
      type: webhook
      name: pager
      properties: {{url: "https://hooks.example/a", secret: "{secret}"{more}}}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: alerts, version: 1.0.0, owner: team-a}}
spec:
  service: alerts
  stage: live
  approvals:
    - {{stage: approved, approver: team-a, date: 2026-01-01, reference: B-1}}
    - {{stage: chartered, approver: team-a, date: 2026-01-02, reference: B-2}}
    - {{stage: designed, approver: team-a, date: 2026-01-03, reference: B-3}}
    - {{stage: transitioning, approver: team-a, date: 2026-01-04, reference: B-4}}
    - {{stage: live, approver: team-a, date: 2026-01-05, reference: B-5}}
"""


class Api(ThreadingHTTPServer):
    """A plain JSON API of webhooks. ``echo`` makes every write fail with a 400 that quotes the
    request, as some APIs' validation errors do."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.records: dict[str, dict[str, Any]] = {}
        self.echo = False
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server: Api

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        return body

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        with self.server.lock:
            if path == "/v1/hooks":
                name = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("name")
                found = [r for r in self.server.records.values() if r["name"] == name or not name]
                return self._send(200, found)
            record = self.server.records.get(path.rsplit("/", 1)[-1])
        return self._send(200, record) if record else self._send(404, {"error": "not found"})

    def _write(self, id_: str) -> None:
        body = self._body()
        if self.server.echo:
            return self._send(400, {"error": "invalid webhook", "request": body})
        with self.server.lock:
            record = {**self.server.records.get(id_, {}), **body, "id": id_}
            self.server.records[id_] = record
        return self._send(201, record)

    def do_POST(self) -> None:
        self._write(uuid.uuid4().hex)

    def do_PATCH(self) -> None:
        self._write(self.path.rsplit("/", 1)[-1])

    do_PUT = do_PATCH

    def do_DELETE(self) -> None:
        with self.server.lock:
            self.server.records.pop(self.path.rsplit("/", 1)[-1], None)
        self._send(204, None)


@pytest.fixture
def api() -> Iterator[Api]:
    server = Api()
    with running(server):
        yield server


def project(root: Path, api: Api, *, most: int = 2, more: str = "") -> None:
    url = f"http://127.0.0.1:{api.server_address[1]}"
    (root / "spo.yaml").write_text(CONFIG.format(url=url, most=most))
    (root / "catalog").mkdir(exist_ok=True)
    (root / "catalog" / "alerts.yaml").write_text(CATALOG.format(secret=SECRET, more=more))


def leaks(*texts: str) -> list[str]:
    return [s for s in (SECRET, SERVER_SECRET) if any(s in t for t in texts)]


def stored(root: Path) -> str:
    """Every byte spo keeps in .spo/ (the state database and anything else), as text."""
    return "".join(
        p.read_bytes().decode("latin-1") for p in (root / ".spo").rglob("*") if p.is_file()
    )


def test_an_api_error_that_echoes_the_request_is_redacted(in_tmp: Path, api: Api) -> None:
    project(in_tmp, api)
    planned = run_spo("plan", "-o", "p.json")
    assert planned.exit_code == 0, planned.stderr
    api.echo = True
    applied = run_spo("apply", "p.json", "--auto-approve")
    assert applied.exit_code == 1
    assert "HTTP 400" in applied.stdout + applied.stderr  # the error is there, redacted
    assert "(sensitive)" in applied.stdout + applied.stderr
    history = run_spo("state", "history")
    assert history.exit_code == 0, history.stderr
    assert leaks(planned.stdout, planned.stderr, applied.stdout, applied.stderr) == []
    assert leaks(history.stdout, history.stderr, stored(in_tmp)) == []


def test_values_read_back_from_the_provider_are_redacted(in_tmp: Path, api: Api) -> None:
    project(in_tmp, api)
    assert run_spo("plan", "-o", "p.json").exit_code == 0
    assert run_spo("apply", "p.json", "--auto-approve").exit_code == 0
    [record] = api.records.values()
    assert record["secret"] == SECRET  # the provider got the real value
    # someone changed the hook at the server: another secret, and a url that quotes it
    record["secret"] = SERVER_SECRET
    record["url"] = f"https://hooks.example/a?token={SERVER_SECRET}&old={SECRET}"
    outputs = []
    for args in (
        ("plan", "--format", "json", "-o", "drift.json"),
        ("plan",),
        ("plan", "--format", "markdown"),
        ("drift", "--format", "json"),
        ("drift",),
    ):
        result = run_spo(*args)
        assert result.exit_code in (0, 2), (args, result.stderr)
        outputs += [result.stdout, result.stderr]
    plan_file = (in_tmp / "drift.json").read_text()
    assert "hooks.example/a?token=(sensitive)" in plan_file  # the drift is shown, redacted
    assert leaks(*outputs, plan_file) == []
    healed = run_spo("apply", "drift.json", "--auto-approve")
    assert healed.exit_code == 0, healed.stderr
    assert leaks(healed.stdout, healed.stderr, stored(in_tmp)) == []


def test_a_schema_error_quoting_the_whole_object_is_redacted(in_tmp: Path, api: Api) -> None:
    project(in_tmp, api, most=2, more=', note: "three is too many"')
    for fmt in ("text", "json", "github", "sarif"):
        result = run_spo("validate", "--format", fmt)
        assert result.exit_code == 1, fmt
        assert "more than 2 properties" in result.stdout or "maxProperties" in result.stdout
        assert leaks(result.stdout, result.stderr) == [], fmt
