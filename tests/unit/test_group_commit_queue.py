"""The queue of state/groupcommit.py on its own, without a database: under many threads every
item is written exactly once and its caller gets its own result; a batch that fails is written
item by item; and a caller interrupted while it waits (Ctrl-C in the main thread) leaves the
queue without stopping the others. Every wait here is bounded."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Sequence

import pytest

from spo_gitops.state.groupcommit import GroupCommit

JOIN = 30  # seconds any thread of a test may take


class Table:
    """Write functions (a batch, one item) that record what they were given and answer each
    item with its square; with ``gate``, each write waits for it to open first."""

    def __init__(self, gate: threading.Event | None = None, bad: int | None = None) -> None:
        self.rows: list[int] = []
        self.batches: list[list[int]] = []
        self.gate = gate
        self.bad = bad
        self.lock = threading.Lock()

    def many(self, items: Sequence[int]) -> list[int]:
        if self.gate is not None:
            assert self.gate.wait(JOIN)
        if self.bad in items:
            raise ValueError("a bad item: nothing of the batch is written")
        with self.lock:
            self.batches.append(list(items))
            self.rows.extend(items)
        time.sleep(0.0005)  # a round trip
        return [i * i for i in items]

    def one(self, item: int) -> int:
        if self.gate is not None:
            assert self.gate.wait(JOIN)
        if item == self.bad:
            raise ValueError(f"bad item {item}")
        with self.lock:
            self.rows.append(item)
        time.sleep(0.0005)
        return item * item


def _run_all(commit: GroupCommit[int, int], per_thread: list[list[int]]) -> dict[int, object]:
    results: dict[int, object] = {}
    lock = threading.Lock()

    def work(items: list[int]) -> None:
        for i in items:
            try:
                got: object = commit.submit(i)
            except ValueError as e:
                got = e
            with lock:
                results[i] = got

    threads = [threading.Thread(target=work, args=(items,), daemon=True) for items in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN)
    assert not any(t.is_alive() for t in threads), "a caller never returned"
    return results


def test_many_threads_each_item_written_once_with_its_own_result() -> None:
    table = Table()
    commit: GroupCommit[int, int] = GroupCommit(table.many, table.one, limit=7)
    per_thread = [list(range(k * 100, k * 100 + 100)) for k in range(16)]
    results = _run_all(commit, per_thread)
    everything = [i for items in per_thread for i in items]
    assert results == {i: i * i for i in everything}
    assert sorted(table.rows) == everything  # once each
    assert all(len(b) <= 7 for b in table.batches)
    assert commit.batches < len(everything)  # items written together
    assert not commit.busy and commit.queued == 0


def test_a_failing_batch_is_written_item_by_item_and_only_the_bad_item_fails() -> None:
    gate = threading.Event()
    table = Table(gate=gate, bad=13)
    commit: GroupCommit[int, int] = GroupCommit(table.many, table.one)
    results: dict[int, object] = {}
    first = threading.Thread(target=lambda: results.update({0: commit.submit(0)}), daemon=True)
    first.start()
    deadline = time.monotonic() + JOIN
    while not commit.busy:  # the first batch waits at the gate
        assert time.monotonic() < deadline
        time.sleep(0.001)
    rest = threading.Thread(
        target=lambda: results.update(_run_all(commit, [[11], [12], [13], [14]])), daemon=True
    )
    rest.start()
    while commit.queued < 4:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    gate.set()
    first.join(JOIN)
    rest.join(JOIN)
    assert results[0] == 0 and results[11] == 121 and results[12] == 144 and results[14] == 196
    assert isinstance(results[13], ValueError) and "bad item 13" in str(results[13])
    assert commit.split == 1
    assert sorted(table.rows) == [0, 11, 12, 14]


class Interrupted(Exception):
    pass


def test_a_caller_interrupted_while_it_waits_leaves_the_queue_and_the_others_go_on() -> None:
    """The main thread waits behind a batch that is being written, and a signal interrupts it
    (as Ctrl-C does): it raises, and the callers queued behind it are still written."""
    gate = threading.Event()
    table = Table(gate=gate)
    commit: GroupCommit[int, int] = GroupCommit(table.many, table.one)
    results: dict[int, object] = {}
    leader = threading.Thread(target=lambda: results.update({1: commit.submit(1)}), daemon=True)
    leader.start()
    deadline = time.monotonic() + JOIN
    while not commit.busy:
        assert time.monotonic() < deadline
        time.sleep(0.001)

    def interrupt(_signum: int, _frame: object) -> None:
        raise Interrupted

    def behind() -> None:
        while commit.queued < 1:  # after the main thread
            time.sleep(0.001)
        results[3] = commit.submit(3)

    later = threading.Thread(target=behind, daemon=True)
    later.start()
    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Interrupted):
            commit.submit(2)  # waits behind the leader's batch until the signal comes
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    gate.set()
    leader.join(JOIN)
    later.join(JOIN)
    assert not leader.is_alive() and not later.is_alive()
    assert results == {1: 1, 3: 9}
    assert sorted(table.rows) == [1, 3]  # the interrupted item was never written
    assert not commit.busy and commit.queued == 0


def test_a_caller_interrupted_just_after_it_was_chosen_hands_the_next_batch_on() -> None:
    """The writer of a batch chooses the first caller queued to write the next one, and wakes it
    a moment later; a caller interrupted in between passes the choice to the caller after it,
    so that the queue never waits for a writer that has gone."""
    from spo_gitops.state.groupcommit import _Slot

    table = Table()
    commit: GroupCommit[int, int] = GroupCommit(table.many, table.one)
    first, second = _Slot[int, int](1), _Slot[int, int](2)
    commit._busy = True  # a batch is being written; two callers wait behind it
    commit._queue = [first, second]
    with commit._mutex:
        chosen = commit._hand_on()  # what the writer does as its batch ends
    assert chosen is first and first.leads
    commit._leave(first)  # interrupted before the writer woke it
    assert commit._queue == [second] and second.leads and commit.busy
    assert second.wake.acquire(blocking=False)  # woken, to write the next batch
    assert not first.wake.acquire(blocking=False)  # the writer's own wake-up is still to come
