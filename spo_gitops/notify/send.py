"""Delivering messages: e-mail over SMTP and webhooks with a JSON body chat tools accept, each
message sent once per recipient.

The ledger (a JSON file, by default ``.spo/notified.json``) records every (message key, target)
delivered; a rerun skips them, so a message reaches each address and webhook once, and an
interrupted run resumes where it stopped (the ledger is saved after every delivery). A delivery
that fails is reported and not recorded: the next run tries again.

Secrets come from the environment only: the SMTP user name and password (``usernameEnv``,
``passwordEnv``) and each webhook's URL (``urlEnv``); none of them is ever printed or recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from functools import partial

from spo_gitops import jsonio
from spo_gitops.catalog.references import Index
from spo_gitops.config import EmailConfig, NotifyConfig, WebhookConfig
from spo_gitops.notify.messages import Message, addresses

LEDGER_VERSION = 1
# no folding below RFC 5322's hard limit: folded subjects reach some readers with a leading space
_POLICY = SMTP.clone(max_line_length=998)


@dataclass
class Ledger:
    sent: dict[str, dict[str, str]] = field(default_factory=dict)  # "key|target" -> record

    @classmethod
    def parse(cls, text: str | None) -> Ledger:
        if not text:
            return cls()
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format_version") != LEDGER_VERSION:
            raise ValueError("not a notification ledger of format_version 1")
        return cls(dict(data.get("sent", {})))

    def render(self) -> str:
        return jsonio.dumps(
            {"format_version": LEDGER_VERSION, "sent": dict(sorted(self.sent.items()))}, indent=1
        )

    def has(self, key: str, target: str) -> bool:
        return f"{key}|{target}" in self.sent

    def add(self, key: str, target: str, when: dt.datetime) -> None:
        self.sent[f"{key}|{target}"] = {"at": when.isoformat(timespec="seconds")}


@dataclass(frozen=True)
class Outcome:
    key: str
    target: str  # "email:ADDRESS" or "webhook:NAME"
    status: str  # sent | skipped (already sent) | failed
    detail: str = ""


class DeliveryError(Exception):
    """A channel could not deliver (the reason, without secrets)."""


def _env(name: str | None) -> str | None:
    return os.environ.get(name) if name else None


def send_email(cfg: EmailConfig, to: str, message: Message) -> None:
    mail = EmailMessage(policy=_POLICY)
    mail["From"] = cfg.sender
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["X-SPO-Key"] = message.key
    mail.set_content(message.body + "\n")
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context())
            user, password = _env(cfg.username_env), _env(cfg.password_env)
            if user and password:
                smtp.login(user, password)
            smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as e:
        raise DeliveryError(f"SMTP {cfg.host}:{cfg.port}: {type(e).__name__}: {e}") from e


def post_webhook(cfg: WebhookConfig, message: Message) -> None:
    url = _env(cfg.url_env)
    if not url:
        raise DeliveryError(f"webhook {cfg.name}: environment variable {cfg.url_env} is not set")
    body = jsonio.dumps({"text": f"*{message.subject}*\n{message.body}"}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout) as response:
            response.read()
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"webhook {cfg.name}: HTTP {e.code}") from e
    except (urllib.error.URLError, OSError) as e:
        raise DeliveryError(f"webhook {cfg.name}: {getattr(e, 'reason', e)}") from e


def deliver(
    messages: Iterable[Message],
    index: Index,
    cfg: NotifyConfig,
    ledger: Ledger,
    save: Callable[[Ledger], None],
    now: Callable[[], dt.datetime] | None = None,
) -> list[Outcome]:
    """Send each message to its parties' addresses and the matching webhooks, skipping what the
    ledger holds; ``save`` is called with the ledger after every delivery."""
    out: list[Outcome] = []
    for m in messages:
        targets: list[tuple[str, Callable[[], None]]] = []
        if cfg.email is not None:
            email = cfg.email
            for a in addresses(index, m.parties):
                targets.append((f"email:{a.email}", partial(send_email, email, a.email, m)))
        for hook in cfg.webhooks:
            if hook.parties and not set(hook.parties) & set(m.parties):
                continue
            if hook.topics and m.topic not in hook.topics:
                continue
            targets.append((f"webhook:{hook.name}", partial(post_webhook, hook, m)))
        for target, send in targets:
            if ledger.has(m.key, target):
                out.append(Outcome(m.key, target, "skipped"))
                continue
            try:
                send()
            except DeliveryError as e:
                out.append(Outcome(m.key, target, "failed", str(e)))
                continue
            ledger.add(m.key, target, now() if now else dt.datetime.now(dt.UTC))
            save(ledger)
            out.append(Outcome(m.key, target, "sent"))
    return out
