"""spo notify against a real SMTP server (aiosmtpd) and a webhook receiver, both on 127.0.0.1:
who receives what is worked out by hand from the improvement-loop catalog's parties."""

from __future__ import annotations

import email
import email.policy
import functools
import http.server
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.git import no_git_env
from tests.conftest import REPO
from tests.helpers import run_spo
from tests.threaded import running

LOOP = REPO / "examples" / "improvement-loop"
SECRET = "http://127.0.0.1:{port}/hooks/s3cr3t-path"
WAIT = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Mailbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(
            (
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Mailbox]]:
    from aiosmtpd.controller import Controller

    box = _Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, ready_timeout=WAIT)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[int, list[dict[str, Any]], list[int]]]:
    posts: list[dict[str, Any]] = []
    status = [200]

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            if status[0] == 200:
                posts.append({"path": self.path, **body})
            self.send_response(status[0])
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Receiver))
    with running(httpd):
        yield int(httpd.server_address[1]), posts, status


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=SLM", "-c", "user.email=slm@example.com", *args],
        cwd=cwd,
        env=no_git_env(),
        check=True,
        capture_output=True,
    )


def test_notify_sends_each_message_once(
    in_tmp: Path,
    smtp: tuple[int, _Mailbox],
    webhook: tuple[int, list[dict[str, Any]], list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_port, box = smtp
    hook_port, posts, _ = webhook
    secret = SECRET.format(port=hook_port)
    monkeypatch.setenv("SPO_TEST_WEBHOOK", secret)
    repo = in_tmp / "repo"
    shutil.copytree(LOOP, repo, ignore=shutil.ignore_patterns("improvement-plan.yaml"))
    (repo / "spo.yaml").write_text(
        "apiVersion: spo/v1\nkind: Project\ncatalog: {paths: [catalog]}\nnotify:\n"
        f"  email: {{host: 127.0.0.1, port: {smtp_port}, sender: slm@northwind.example}}\n"
        "  webhooks: [{name: chat, urlEnv: SPO_TEST_WEBHOOK}]\n"
    )
    (repo / ".gitignore").write_text(".spo/\nmetrics.csv\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "catalog")
    shutil.copy(LOOP / "improvement-plan.yaml", repo / "catalog" / "improvement-plan.yaml")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "plan")
    pulled = run_spo(
        "-C", str(repo), "metrics", "pull", "--incidents", "incidents.csv", "-o", "metrics.csv"
    )
    assert pulled.exit_code == 0, pulled.stderr
    args = ("-C", str(repo), "notify", "--changes", "HEAD~1..HEAD", "--metrics", "metrics.csv")

    first = run_spo(*args)
    assert first.exit_code == 0, first.stdout + first.stderr
    got = sorted((m["Subject"], tuple(rcpt)) for rcpt, m in box.mails)
    omar, daniel, victoria = (
        "omar.haddad@northwind.example",
        "daniel.okafor@northwind.example",
        "victoria.hale@northwind.example",
    )
    assert got == sorted(
        [
            # the merged plan: its owner (service management) and its service's owner (network)
            ("[catalog] ImprovementPlan network-mttr-2026 added", (daniel,)),
            ("[catalog] ImprovementPlan network-mttr-2026 added", (omar,)),
            # Q2 MTTR 2.9 h against 2.5 h: the service owner and the customer
            ("[SLA breach] network-infrastructure-business mttr in 2026-Q2", (omar,)),
            ("[SLA breach] network-infrastructure-business mttr in 2026-Q2", (victoria,)),
            # the open plan: service owner, plan owner, the trigger SLA's customer; the action's
            # owner is the network team again
            ("[improvement plan] network-mttr-2026 opened for network-infrastructure", (omar,)),
            ("[improvement plan] network-mttr-2026 opened for network-infrastructure", (daniel,)),
            ("[improvement plan] network-mttr-2026 opened for network-infrastructure", (victoria,)),
        ]
    )
    assert sorted(p["text"].split("\n")[0] for p in posts) == [
        "*[SLA breach] network-infrastructure-business mttr in 2026-Q2*",
        "*[catalog] ImprovementPlan network-mttr-2026 added*",
        "*[improvement plan] network-mttr-2026 opened for network-infrastructure*",
    ]
    assert all(p["path"] == "/hooks/s3cr3t-path" for p in posts)
    ledger = (repo / ".spo" / "notified.json").read_text()
    for text in (first.stdout, first.stderr, ledger):
        assert "s3cr3t" not in text  # the webhook URL is a secret
    assert "10 sent, 0 already sent before, 0 failed" in first.stderr  # 7 mails, 3 posts

    again = run_spo(*args)
    assert again.exit_code == 0
    assert "0 sent, 10 already sent before, 0 failed" in again.stderr
    assert len(box.mails) == 7 and len(posts) == 3


def test_a_failed_delivery_is_retried_next_time(
    in_tmp: Path,
    webhook: tuple[int, list[dict[str, Any]], list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook_port, posts, status = webhook
    monkeypatch.setenv("SPO_TEST_WEBHOOK", SECRET.format(port=hook_port))
    repo = in_tmp / "repo"
    shutil.copytree(LOOP, repo)
    shutil.copy(LOOP / "improvement-plan.yaml", repo / "catalog" / "improvement-plan.yaml")
    (repo / "spo.yaml").write_text(
        "apiVersion: spo/v1\nkind: Project\ncatalog: {paths: [catalog]}\nnotify:\n"
        "  webhooks: [{name: chat, urlEnv: SPO_TEST_WEBHOOK, topics: [plan]}]\n"
    )
    status[0] = 500
    failed = run_spo("-C", str(repo), "notify")
    assert failed.exit_code == 1
    assert "failed plan/network-mttr-2026/opened -> webhook:chat: webhook chat: HTTP 500" in (
        failed.stdout
    )
    assert "s3cr3t" not in failed.stdout + failed.stderr
    status[0] = 200
    retried = run_spo("-C", str(repo), "notify")
    assert retried.exit_code == 0
    assert "1 sent, 0 already sent before, 0 failed" in retried.stderr
    assert len(posts) == 1
