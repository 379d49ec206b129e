"""Group commit: the writes of many threads, coalesced into one statement per batch.

A :class:`GroupCommit` takes one item at a time from each thread (``submit``) and blocks that
thread until the batch that holds its item is written: a caller goes on only once its own row is
durable, exactly as if it had written it alone. There is no writer thread: the first caller that
finds no batch under way writes everything queued so far (up to ``limit`` items) with ``write``,
one statement for the batch; callers that arrive meanwhile queue for the next batch, written by
whichever of them comes first. Under load, the database parses, plans and commits once per batch
instead of once per row; a lone caller writes at once, with no wait.

``write(items)`` returns one result per item, in order. When it raises, nothing of the batch may
have been written (it is one statement, or one transaction), and each item is then written on its
own with ``write_one``, so that every caller gets its own outcome: one bad row (a name taken, a
missing foreign key) fails only its own caller. ``write_one`` raising gives its caller that error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")  # an item to write
R = TypeVar("R")  # what writing it returns

LIMIT = 200  # items per batch


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """See the module docstring."""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Sequence[R]],
        write_one: Callable[[T], R],
        limit: int = LIMIT,
    ) -> None:
        self._write = write
        self._write_one = write_one
        self._limit = limit
        self._cond = threading.Condition()
        self._queue: list[_Slot[T, R]] = []
        self._busy = False  # a batch is being written
        self.batches = 0  # batches written (for tests and benchmarks)
        self.split = 0  # batches of several items that failed and were written item by item

    @property
    def queued(self) -> int:
        """Items waiting for the next batch (not counting the batch being written)."""
        with self._cond:
            return len(self._queue)

    @property
    def busy(self) -> bool:
        """Whether a batch is being written."""
        with self._cond:
            return self._busy

    def submit(self, item: T) -> R:
        """Write ``item`` with others queued at the same time; returns once it is written."""
        slot: _Slot[T, R] = _Slot(item)
        with self._cond:
            self._queue.append(slot)
            while not slot.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._busy = True
                batch, self._queue = self._queue[: self._limit], self._queue[self._limit :]
                self._cond.release()
                try:
                    self._flush(batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self.batches += 1
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]  # R, set by _flush

    def _flush(self, batch: list[_Slot[T, R]]) -> None:
        written = 0  # slots with their outcome
        try:
            try:
                results = self._write([s.item for s in batch]) if len(batch) > 1 else None
            except Exception:
                results = None  # nothing of the batch was written: each item on its own
                self.split += 1
            for slot in batch:
                if results is not None:
                    slot.result = results[written]
                else:
                    try:
                        slot.result = self._write_one(slot.item)
                    except Exception as e:
                        slot.error = e
                written += 1
        except BaseException as e:  # interrupted: whoever was not written learns why
            for slot in batch[written:]:
                slot.error = e
            raise
        finally:
            for slot in batch:
                slot.done = True
