"""The ``http`` provider's calls: one session per thread, an adaptive limit on calls in flight,
bounded retries, and every failure classified.

- Connections are reused: one ``requests.Session`` (a keep-alive pool) per thread.
- Every call holds a slot of the provider's :class:`AdaptiveLimiter`: a 429 or 503 cuts the
  calls in flight and its ``Retry-After`` pauses every thread; answers in time raise the limit.
- Connection errors, timeouts, a body cut off before its end, 408, 425, 429 and 5xx raise
  :class:`Transient`; ``ambiguous`` tells whether the request may have taken effect (a timeout
  after sending, a dropped or cut-off answer, 500/502/504) or certainly did not (a refused
  connection, 429, 503). :meth:`Transport.request` retries them (:class:`Attempts`: ``retries``
  failures, exponential backoff from ``backoff``, at most ``max_elapsed`` seconds), then raises
  :class:`TransientProviderError` so that apply retries the action later.
- The token goes into the Authorization header only and is scrubbed from every message.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import urllib.parse
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import requests
import urllib3

from spo_gitops.providers.base import ProviderError, TransientProviderError
from spo_gitops.providers.limiter import AdaptiveLimiter

if TYPE_CHECKING:
    from spo_gitops.providers.http import HttpSettings

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
THROTTLE_STATUS = frozenset({429, 503})  # the server refused for load: nothing was done
_NOT_DONE_STATUS = frozenset({408, 425, 429, 503})


class Transient(TransientProviderError):
    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        ambiguous: bool = False,
        throttled: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.ambiguous = ambiguous
        self.throttled = throttled


class Attempts:
    """The retry budget of one call: ``retries`` failures in all, throttled answers (429, 503)
    up to five times as many (the limiter spaces them), never past ``max_elapsed`` seconds."""

    def __init__(self, cfg: HttpSettings) -> None:
        self.cfg = cfg
        self.start = time.monotonic()
        self.count = 1
        self.failures = 0
        self.throttles = 0

    def again(self, error: Transient) -> bool:
        """Whether to try once more after ``error``; sleeps the backoff first."""
        if error.throttled:
            self.throttles += 1
        else:
            self.failures += 1
        if (
            self.failures >= self.cfg.retries
            or self.throttles >= 5 * self.cfg.retries
            or time.monotonic() - self.start > self.cfg.max_elapsed
        ):
            return False
        self.count += 1
        if error.retry_after is None:  # a Retry-After is waited out by the limiter, for all
            tries = max(self.failures, self.throttles)
            time.sleep(min(self.cfg.backoff * 2 ** (tries - 1), self.cfg.max_retry_after))
        return True


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds, fractional accepted, or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _cut_off(e: Exception) -> str:
    """'after 12 of 40 bytes' from urllib3's IncompleteRead, when it says so."""
    found = re.search(r"(\d+) bytes read, (\d+) more expected", str(e))
    if found:
        got, more = int(found[1]), int(found[2])
        return f" after {got} of {got + more} bytes"
    return ""


class Transport:
    def __init__(self, cfg: HttpSettings, base: str, token: str | None) -> None:
        self.cfg = cfg
        self.base = base
        self._token = token
        self.limiter = AdaptiveLimiter(
            cfg.parallelism or 64,
            initial=min(cfg.parallelism or 64, 8),
            adaptive=cfg.adaptive,
            max_pause=cfg.max_retry_after,
            max_wait=cfg.max_elapsed,
        )
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Accept"] = "application/json"
            if self._token:
                session.headers["Authorization"] = f"{self.cfg.auth_scheme} {self._token}"
            session.verify = self.cfg.verify_tls
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def scrub(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "***")
        return text

    def url(self, path: str) -> str:
        return self.base + "/" + path.lstrip("/")

    def once(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One request in a limiter slot; transient failures raise Transient, others
        ProviderError."""
        shown = f"{method} {urllib.parse.urlsplit(url).path}"
        with self.limiter.slot():
            start = time.monotonic()
            try:
                resp = self.session().request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers=dict(headers) if headers else None,
                    timeout=self.cfg.timeout,
                )
            except requests.ConnectTimeout:
                raise Transient(
                    f"http: {shown}: cannot connect within {self.cfg.timeout:g} s"
                ) from None
            except requests.Timeout:
                raise Transient(
                    f"http: {shown}: no answer within {self.cfg.timeout:g} s", ambiguous=True
                ) from None
            except requests.exceptions.ChunkedEncodingError as e:
                raise Transient(
                    f"http: {shown}: the answer was cut off{_cut_off(e)} (connection closed "
                    "before the end of the body)",
                    ambiguous=True,
                ) from None
            except requests.ConnectionError as e:
                reason = getattr(e.args[0], "reason", None) if e.args else None
                why = type(reason or e.__context__ or e).__name__
                # a connection never made sent nothing; one lost later may have done the work
                sent = not isinstance(reason, urllib3.exceptions.NewConnectionError)
                message = f"http: {shown}: connection failed ({why})"
                raise Transient(message, ambiguous=sent) from None
            except requests.RequestException as e:
                raise ProviderError(self.scrub(f"http: {shown}: {type(e).__name__}: {e}")) from None
            latency = time.monotonic() - start
        status = resp.status_code
        if status in TRANSIENT_STATUS:
            wait = retry_after(resp.headers.get("Retry-After"))
            if status in THROTTLE_STATUS:
                self.limiter.throttled(wait, latency)
            raise Transient(
                f"http: {shown}: HTTP {status}",
                retry_after=wait,
                ambiguous=status not in _NOT_DONE_STATUS,
                throttled=status in THROTTLE_STATUS,
            )
        self.limiter.succeeded(latency)
        if status in (401, 403):
            where = f" (token from ${self.cfg.token_env})" if self.cfg.token_env else ""
            raise ProviderError(f"http: {shown}: HTTP {status}: access refused{where}")
        return resp

    def gave_up(self, error: Transient, budget: Attempts) -> TransientProviderError:
        return TransientProviderError(f"{error.message} (gave up after {budget.count} attempts)")

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """A request that is safe to repeat (GET, PATCH, PUT, DELETE), retried."""
        budget = Attempts(self.cfg)
        while True:
            try:
                return self.once(method, url, params=params, body=body)
            except Transient as e:
                if not budget.again(e):
                    raise self.gave_up(e, budget) from None

    def json(self, resp: requests.Response, shown: str) -> Any:
        if resp.status_code >= 400:
            excerpt = self.scrub(resp.text[:200].strip())
            raise ProviderError(f"http: {shown}: HTTP {resp.status_code}: {excerpt}")
        try:
            return resp.json()
        except ValueError:
            raise ProviderError(
                f"http: {shown}: the answer is not valid JSON (HTTP {resp.status_code}, "
                f"{len(resp.content)} bytes)"
            ) from None

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()
