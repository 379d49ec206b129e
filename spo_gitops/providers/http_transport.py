"""The ``http`` provider's calls: one pool of keep-alive connections, an adaptive limit on calls
in flight, bounded retries, and every failure classified.

- Connections are reused: one urllib3 pool shared by the provider's threads (urllib3 directly:
  a call costs about half the CPU it costs through a requests session, and apply's speed
  against a fast API is bound by that CPU).
- Every call holds a slot of the provider's :class:`AdaptiveLimiter`: a 429 or 503 cuts the
  calls in flight and its ``Retry-After`` pauses every thread; answers in time raise the limit.
- Connection errors, timeouts, a body cut off before its end, 408, 425, 429 and 5xx raise
  :class:`Transient`; ``ambiguous`` tells whether the request may have taken effect (a timeout
  after sending, a dropped or cut-off answer, 500/502/504) or certainly did not (a connection
  never made, 429, 503). :meth:`Transport.request` retries them (:class:`Attempts`: ``retries``
  failures, exponential backoff from ``backoff``, at most ``max_elapsed`` seconds), then raises
  :class:`TransientProviderError` so that apply retries the action later.
- The token goes into the Authorization header only and is scrubbed from every message.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import urllib3
from requests.utils import parse_header_links
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from spo_gitops import jsonio
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


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer (its body read to the end)."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return jsonio.loads(self.content)

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The Link header by rel (RFC 8288), as requests gives it."""
        header = self.headers.get("Link")
        if not header:
            return {}
        return {link.get("rel") or link["url"]: link for link in parse_header_links(header)}


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
        most = cfg.parallelism or 64
        self.limiter = AdaptiveLimiter(
            most,
            initial=min(most, 8),
            adaptive=cfg.adaptive,
            max_pause=cfg.max_retry_after,
            max_wait=cfg.max_elapsed,
        )
        self._headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"{cfg.auth_scheme} {token}"
        self._pool = urllib3.PoolManager(
            maxsize=most,
            cert_reqs="CERT_REQUIRED" if cfg.verify_tls else "CERT_NONE",
            retries=False,  # every retry is decided here, a POST's above all
            timeout=urllib3.Timeout(connect=cfg.timeout, read=cfg.timeout),
        )

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
    ) -> Answer:
        """One request in a limiter slot; transient failures raise Transient, others
        ProviderError."""
        shown = f"{method} {urllib.parse.urlsplit(url).path}"
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}"
        data = None if body is None else jsonio.dumps(body).encode()
        with self.limiter.slot():
            start = time.monotonic()
            try:
                raw = self._pool.request(
                    method, url, body=data, headers={**self._headers, **(headers or {})}
                )
                resp = Answer(raw.status, raw.headers, raw.data)
            except NewConnectionError as e:  # nothing was sent
                why = type(e.__context__ or e).__name__
                raise Transient(f"http: {shown}: connection failed ({why})") from None
            except ConnectTimeoutError:
                raise Transient(
                    f"http: {shown}: cannot connect within {self.cfg.timeout:g} s"
                ) from None
            except ReadTimeoutError:
                raise Transient(
                    f"http: {shown}: no answer within {self.cfg.timeout:g} s", ambiguous=True
                ) from None
            except ProtocolError as e:
                if "IncompleteRead" in str(e):
                    raise Transient(
                        f"http: {shown}: the answer was cut off{_cut_off(e)} (connection closed "
                        "before the end of the body)",
                        ambiguous=True,
                    ) from None
                why = type(e.args[1] if len(e.args) > 1 else e).__name__
                # the request may have reached the server and done its work
                message = f"http: {shown}: connection failed ({why})"
                raise Transient(message, ambiguous=True) from None
            except SSLError as e:
                raise ProviderError(self.scrub(f"http: {shown}: TLS: {e}")) from None
            except (HTTPError, OSError) as e:
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
    ) -> Answer:
        """A request that is safe to repeat (GET, PATCH, PUT, DELETE), retried."""
        budget = Attempts(self.cfg)
        while True:
            try:
                return self.once(method, url, params=params, body=body)
            except Transient as e:
                if not budget.again(e):
                    raise self.gave_up(e, budget) from None

    def json(self, resp: Answer, shown: str) -> Any:
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
        self._pool.clear()
