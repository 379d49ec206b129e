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
    __slots__ = ("done", "error", "item", "leads", "result", "wake")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.leads = False  # chosen to write the next batch (set under the queue's mutex)
        self.result: R | None = None
        self.error: BaseException | None = None
        # held from the start; released once, to wake the caller: its item is written, or it
        # is to write the next batch
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommit(Generic[T, R]):
    """See the module docstring.

    Each waiting caller sleeps on a lock of its own, and is woken only when there is something
    for it: its item was written, or it is first in the queue when a batch ends, and writes the
    next one. (With one condition for all, every batch woke every waiting caller, most of them
    only to wait again: at ten threads, several futile wake-ups for each item written.)"""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Sequence[R]],
        write_one: Callable[[T], R],
        limit: int = LIMIT,
    ) -> None:
        self._write = write
        self._write_one = write_one
        self._limit = limit
        self._mutex = threading.Lock()  # guards the queue and the flags
        self._queue: list[_Slot[T, R]] = []
        self._busy = False  # a batch is being written (or its writer is being woken)
        self.batches = 0  # batches written (for tests and benchmarks)
        self.split = 0  # batches of several items that failed and were written item by item

    @property
    def queued(self) -> int:
        """Items waiting for the next batch (not counting the batch being written)."""
        with self._mutex:
            return len(self._queue)

    @property
    def busy(self) -> bool:
        """Whether a batch is being written."""
        with self._mutex:
            return self._busy

    def submit(self, item: T) -> R:
        """Write ``item`` with others queued at the same time; returns once it is written."""
        slot: _Slot[T, R] = _Slot(item)
        with self._mutex:
            self._queue.append(slot)
            slot.leads = not self._busy
            self._busy = True
        if not slot.leads:
            try:
                slot.wake.acquire()  # until its item is written, or it is to write the next batch
            except BaseException:  # interrupted (Ctrl-C in the main thread): leave the queue
                self._leave(slot)
                raise
        if not slot.done:  # it writes the next batch, which holds its own item (first in line)
            with self._mutex:
                batch, self._queue = self._queue[: self._limit], self._queue[self._limit :]
            try:
                self._flush(batch)  # marks every item of the batch done, whatever happens
            finally:
                with self._mutex:
                    self.batches += 1
                    after = self._hand_on()
                for other in batch:
                    if other is not slot:
                        other.wake.release()
                if after is not None:
                    after.wake.release()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]  # R, set by _flush

    def _hand_on(self) -> _Slot[T, R] | None:
        """(Under the mutex.) The first caller in the queue, chosen to write the next batch;
        None, with nothing queued: the next caller writes at once."""
        after = self._queue[0] if self._queue else None
        if after is not None:
            after.leads = True
        self._busy = after is not None
        return after

    def _leave(self, slot: _Slot[T, R]) -> None:
        """Take an interrupted caller's item out of the queue; when it had been chosen to write
        the next batch, the first caller after it is chosen instead."""
        with self._mutex:
            if slot in self._queue:
                self._queue.remove(slot)
            after = self._hand_on() if slot.leads and not slot.done else None
        if after is not None:
            after.wake.release()

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
