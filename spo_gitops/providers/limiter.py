"""How many calls a provider has in flight at once: a limit that adapts to the remote API.

One :class:`AdaptiveLimiter` per provider instance, shared by every thread that calls it (apply
runs actions in parallel; refresh reads in parallel). It keeps the API just below the point where
it starts refusing:

- **additive increase**: each call answered in time raises the limit by ``1 / limit`` (about one
  more call in flight per round trip), up to ``maximum``, but only while answers come back within
  twice the fastest latency seen (a growing latency means a queue is building at the server);
  near the limit at which the server last refused (above 90 % of it) twenty times slower, so
  that it probes for more room without running into the refusal again at once;
- **multiplicative decrease**: a throttled call (429, 503) cuts the limit by ``decrease`` (at most
  once per round trip, so that a burst of 429s from one overload counts once), down to
  ``minimum``;
- **Retry-After is shared**: a server's "come back in N seconds" pauses every thread of the
  provider, not only the one that got it, so the others do not spend the same refusal again.

Waiting for a slot is bounded by ``max_wait`` seconds; after that the call goes ahead (and the
server's answer decides), so a lost release can never hang an apply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class LimiterStats:
    calls: int = 0
    throttled: int = 0
    peak: int = 0  # most calls in flight at once


class AdaptiveLimiter:
    def __init__(
        self,
        maximum: int,
        *,
        initial: int | None = None,
        minimum: int = 1,
        decrease: float = 0.7,
        max_pause: float = 30.0,
        max_wait: float = 300.0,
        adaptive: bool = True,
    ) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        start = initial if initial is not None else max(self.minimum, self.maximum // 2)
        self.limit = float(min(self.maximum, max(self.minimum, start)))
        if not adaptive:
            self.limit = float(self.maximum)
        self.adaptive = adaptive
        self.decrease = decrease
        self.max_pause = max_pause
        self.max_wait = max_wait
        self.stats = LimiterStats()
        self._inflight = 0
        self._paused_until = 0.0
        self._last_cut = 0.0
        self._fastest: float | None = None
        self._ceiling = float("inf")  # the limit at which the server last refused
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the calls in flight for the duration of the block."""
        deadline = time.monotonic() + self.max_wait
        with self._cond:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                pause = self._paused_until - now
                if pause > 0:
                    self._cond.wait(min(pause, deadline - now))
                elif self._inflight >= max(self.minimum, int(self.limit)):
                    self._cond.wait(min(0.5, deadline - now))
                else:
                    break
            self._inflight += 1
            self.stats.calls += 1
            self.stats.peak = max(self.stats.peak, self._inflight)
        try:
            yield
        finally:
            with self._cond:
                self._inflight -= 1
                self._cond.notify()

    def succeeded(self, latency: float) -> None:
        """A call was answered (not throttled) after ``latency`` seconds."""
        with self._cond:
            if self._fastest is None or latency < self._fastest:
                self._fastest = latency
            if self.adaptive and latency <= 2 * self._fastest + 0.005:
                step = 1 / self.limit if self.limit < 0.9 * self._ceiling else 0.05 / self.limit
                self.limit = min(float(self.maximum), self.limit + step)
                self._ceiling = max(self._ceiling, self.limit)
            self._cond.notify()

    def throttled(self, retry_after: float | None, latency: float) -> None:
        """The server refused a call for load (429, 503); ``retry_after`` as it said."""
        with self._cond:
            now = time.monotonic()
            self.stats.throttled += 1
            window = max(latency, self._fastest or 0.0, 0.01)
            if self.adaptive and now - self._last_cut >= window:
                self._ceiling = self.limit
                self.limit = max(float(self.minimum), self.limit * self.decrease)
                self._last_cut = now
            if retry_after is not None and retry_after > 0:
                until = now + min(retry_after, self.max_pause)
                self._paused_until = max(self._paused_until, until)
