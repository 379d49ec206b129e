"""How many calls a provider has in flight at once: a limit that adapts to the remote API.

One :class:`AdaptiveLimiter` per provider instance, shared by every thread that calls it (apply
runs actions in parallel; refresh reads in parallel). It keeps the API just below the point where
it starts refusing:

- **additive increase**: each call answered in time raises the limit by ``1 / limit`` (about one
  more call in flight per round trip), up to ``maximum``, but only while answers come back within
  twice the fastest latency of the last 10 to 20 seconds (a growing latency means a queue is
  building at the server; a window, not the fastest ever, so that one answer far faster than
  the rest, such as a cached error, does not stop the increase for the rest of the run);
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

FASTEST_WINDOW = 10.0  # seconds: the fastest latency is that of this window and the one before


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
        clock: Callable[[], float] = time.monotonic,
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
        self._last_cut = float("-inf")
        self._clock = clock  # for the latency window and the cuts (waiting uses the real one)
        self._window_start = clock()
        self._fastest_now = float("inf")  # the fastest answer of the current window
        self._fastest_before = float("inf")  # ... and of the window before it
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
            now = self._clock()
            elapsed = now - self._window_start
            if elapsed >= FASTEST_WINDOW:  # a new window; one idle for two forgets both
                self._fastest_before = (
                    self._fastest_now if elapsed < 2 * FASTEST_WINDOW else float("inf")
                )
                self._fastest_now = float("inf")
                self._window_start = now
            self._fastest_now = min(self._fastest_now, latency)
            if self.adaptive and latency <= 2 * self._fastest() + 0.005:
                step = 1 / self.limit if self.limit < 0.9 * self._ceiling else 0.05 / self.limit
                self.limit = min(float(self.maximum), self.limit + step)
                self._ceiling = max(self._ceiling, self.limit)
            self._cond.notify()

    def _fastest(self) -> float:
        """(Under the lock.) The fastest answer of this window and the one before (inf before
        the first)."""
        return min(self._fastest_before, self._fastest_now)

    def throttled(self, retry_after: float | None, latency: float) -> None:
        """The server refused a call for load (429, 503); ``retry_after`` as it said."""
        with self._cond:
            now = self._clock()
            self.stats.throttled += 1
            fastest = self._fastest()
            window = max(latency, fastest if fastest != float("inf") else 0.0, 0.01)
            if self.adaptive and now - self._last_cut >= window:
                self._ceiling = self.limit
                self.limit = max(float(self.minimum), self.limit * self.decrease)
                self._last_cut = now
            if retry_after is not None and retry_after > 0:
                until = time.monotonic() + min(retry_after, self.max_pause)
                self._paused_until = max(self._paused_until, until)
