"""The state contract, run against every backend in tests/state_suite.py (the shared suite), then
what is particular to the SQLite file."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spo_gitops.errors import SpoError
from spo_gitops.state.base import (
    JournalAction,
    LockedError,
    LockInfo,
    ResourceState,
    StateBackend,
)
from spo_gitops.state.sqlite import MIGRATIONS, SqliteState
from tests.state_suite import BACKENDS, NEEDS_SERVER, read_line, spawn

Spawn = Callable[[str], subprocess.Popen[str]]

HOLD = """
lock = state.lock("apply", reason="test holder", plan="sha256:abc")
print(lock.id, flush=True)
sys.stdin.read()  # hold it until the test closes our stdin
state.release(lock)
print("released", flush=True)
"""

JOURNAL_THEN_HANG = """
lock = state.lock("apply", plan="sha256:p1")
state.put(lock, ResourceState("cmdb.service.a", "cmdb", "service", "a", "id-a", {}, "h"))
apply_id = state.journal_begin(lock, plan="sha256:p1", commit="c1", who="ci")
state.journal_action(apply_id, "cmdb.service.a", "create", "started")
state.journal_action(apply_id, "cmdb.service.a", "create", "succeeded")
state.journal_action(apply_id, "cmdb.service.b", "create", "started", "attempt 1")
print(apply_id, flush=True)
sys.stdin.read()
"""

WRITE_FOREVER = """
lock = state.lock("apply")
for i in range(1_000_000):
    state.put(lock, ResourceState(f"cmdb.service.r{i}", "cmdb", "service", f"r{i}", "x", {}, "h"))
    if i == 50:
        print("writing", flush=True)
"""


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    if request.param in NEEDS_SERVER:
        request.getfixturevalue("postgres_server")
    return str(request.param)


@pytest.fixture
def where(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def state(backend: str, where: Path) -> Iterator[StateBackend]:
    s = BACKENDS[backend](where)
    yield s
    s.close()


@pytest.fixture
def child(backend: str, where: Path) -> Iterator[Spawn]:
    """Start child processes on the same state; none outlives the test."""
    procs: list[subprocess.Popen[str]] = []

    def start(body: str) -> subprocess.Popen[str]:
        proc = spawn(backend, where, body)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def res(name: str, **kw: object) -> ResourceState:
    fields: dict[str, object] = {
        "address": f"cmdb.service.{name}",
        "provider": "cmdb",
        "type": "service",
        "name": name,
        "id": f"id-{name}",
        "properties": {"tier": 1},
        "hash": f"h-{name}",
    }
    fields.update(kw)
    return ResourceState(**fields)  # type: ignore[arg-type]


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL


# --- the shared suite -------------------------------------------------------------------------


def test_new_state_is_empty_with_a_lineage(state: StateBackend) -> None:
    snap = state.snapshot()
    assert snap.serial == 0 and snap.resources == {} and len(snap.lineage) >= 32
    assert state.current_lock() is None and state.history() == []


def test_lineage_is_fixed_and_serial_grows_with_every_write(
    state: StateBackend, backend: str, where: Path
) -> None:
    lineage = state.snapshot().lineage
    lock = state.lock("apply")
    assert state.put(lock, res("a")) == 1
    assert state.put(lock, res("a", id="id-a2")) == 2
    assert state.put(lock, res("b")) == 3
    assert state.remove(lock, "cmdb.service.a") == 4
    state.release(lock)
    snap = state.snapshot()
    assert (snap.lineage, snap.serial, set(snap.resources)) == (lineage, 4, {"cmdb.service.b"})
    again = BACKENDS[backend](where)
    try:
        assert again.snapshot().lineage == lineage
    finally:
        again.close()
    other = BACKENDS[backend](where / "elsewhere")
    try:
        assert other.snapshot().lineage != lineage
    finally:
        other.close()


def test_put_then_snapshot_round_trips_every_field(state: StateBackend) -> None:
    full = res(
        "full",
        properties={"tier": 1, "tags": ["a", "b"], "nested": {"x": None, "y": 2.5, "ü": "✓"}},
        entity="ServiceModel:full",
        protected=True,
        updated="2026-01-02T03:04:05.000Z",
        depends_on=("cmdb.pool.p", "cmdb.party.t"),
    )
    bare = res("bare")
    lock = state.lock("apply")
    state.put(lock, full)
    state.put(lock, bare)
    state.release(lock)
    got = state.snapshot().resources
    assert got["cmdb.service.full"] == full
    assert got["cmdb.service.bare"].entity is None and got["cmdb.service.bare"].protected is False
    assert got["cmdb.service.bare"].depends_on == ()
    assert got["cmdb.service.bare"].updated  # set to the time of the write when not given


def test_writes_without_the_lock_are_refused(state: StateBackend) -> None:
    fake = LockInfo("not-a-lock", "apply", "me@here", 1, "2026-01-01T00:00:00Z")
    with pytest.raises(SpoError, match="lock"):
        state.put(fake, res("a"))
    lock = state.lock("apply")
    with pytest.raises(SpoError):
        state.remove(fake, "cmdb.service.a")
    with pytest.raises(SpoError):
        state.journal_begin(fake, plan="p", commit="c", who="me")
    state.put(lock, res("a"))
    state.release(lock)
    with pytest.raises(SpoError):
        state.put(lock, res("b"))  # released: no longer valid
    assert state.snapshot().serial == 1


def test_a_second_instance_in_the_same_process_is_locked_out(
    state: StateBackend, backend: str, where: Path
) -> None:
    lock = state.lock("apply", reason="first")
    other = BACKENDS[backend](where)
    try:
        with pytest.raises(LockedError) as e:
            other.lock("apply")
        assert e.value.info == lock
        with pytest.raises(SpoError):
            other.put(lock, res("a"))  # the lock is held, but not by this instance
    finally:
        other.close()
    state.release(lock)


def test_a_live_holder_in_another_process_blocks_then_hands_over(
    state: StateBackend, child: Spawn
) -> None:
    proc = child(HOLD)
    lock_id = read_line(proc)
    start = time.monotonic()
    with pytest.raises(LockedError) as e:
        state.lock("apply", timeout=0.3)
    assert time.monotonic() - start >= 0.3
    info = e.value.info
    assert (info.id, info.pid, info.reason, info.operation) == (
        lock_id,
        proc.pid,
        "test holder",
        "apply",
    )
    assert "@" in info.holder and info.plan == "sha256:abc"
    assert f"spo state unlock {lock_id}" in (e.value.hint or "")
    assert state.current_lock() == info

    # a waiter gets the lock as soon as the holder lets go
    assert proc.stdin is not None
    timer = threading.Timer(0.2, proc.stdin.close)
    timer.start()
    start = time.monotonic()
    lock = state.lock("apply", timeout=10)
    waited = time.monotonic() - start
    timer.join()
    assert 0.15 <= waited < 5
    assert read_line(proc) == "released"
    assert state.current_lock() == lock and lock.pid != proc.pid
    state.release(lock)
    assert state.current_lock() is None


def test_the_lock_of_a_killed_holder_is_taken_over(state: StateBackend, child: Spawn) -> None:
    proc = child(HOLD)
    lock_id = read_line(proc)
    kill(proc)
    left = state.current_lock()
    assert left is not None and (left.id, left.pid) == (lock_id, proc.pid)  # the record stays
    lock = state.lock("apply", timeout=5)
    assert lock.id != lock_id
    assert state.current_lock() == lock
    assert state.put(lock, res("a")) == 1
    state.release(lock)


def test_unlock_removes_only_the_lock_with_that_id(state: StateBackend) -> None:
    assert state.unlock("nope") is None
    lock = state.lock("apply")
    assert state.unlock("nope") is None
    assert state.current_lock() == lock
    assert state.unlock(lock.id) == lock
    assert state.current_lock() is None
    again = state.lock("apply")  # free again
    state.release(again)


def test_writes_under_a_force_removed_lock_are_refused_and_change_nothing(
    state: StateBackend,
) -> None:
    lock = state.lock("apply")
    assert state.put(lock, res("a")) == 1
    assert state.remove(lock, "cmdb.service.never-stored") == 2  # a write, though a no-op
    assert state.unlock(lock.id) == lock  # spo state unlock, while this process still runs
    with pytest.raises(SpoError, match="not held"):
        state.put(lock, res("b"))
    with pytest.raises(SpoError, match="not held"):
        state.remove(lock, "cmdb.service.a")
    snap = state.snapshot()
    assert snap.serial == 2 and set(snap.resources) == {"cmdb.service.a"}


def test_journal_and_history(state: StateBackend) -> None:
    lock = state.lock("apply", plan="sha256:p1")
    first = state.journal_begin(lock, plan="sha256:p1", commit="c1" * 20, who="ci@runner")
    state.journal_action(first, "cmdb.service.a", "create", "started")
    state.put(lock, res("a"))
    state.journal_action(first, "cmdb.service.a", "create", "succeeded", "id-a")
    state.journal_end(first, "succeeded")
    second = state.journal_begin(lock, plan="sha256:p2", commit="c2", who="me")
    state.journal_action(second, "cmdb.service.b", "create", "started")
    state.journal_action(second, "cmdb.service.b", "create", "failed", "HTTP 500")
    state.journal_end(second, "failed")
    state.release(lock)
    assert state.snapshot().serial == 1  # the journal does not count as a state write

    newest, oldest = state.history()
    assert (newest.id, newest.plan, newest.commit, newest.who) == (second, "sha256:p2", "c2", "me")
    assert newest.outcome == "failed" and newest.finished
    assert [(a.phase, a.detail) for a in newest.actions] == [
        ("started", ""),
        ("failed", "HTTP 500"),
    ]
    assert (oldest.id, oldest.outcome, oldest.serial_before, oldest.serial_after) == (
        first,
        "succeeded",
        0,
        1,
    )
    assert [a.phase for a in oldest.actions] == ["started", "succeeded"]
    assert all(isinstance(a, JournalAction) and a.at for a in oldest.actions)
    assert [r.id for r in state.history(limit=1)] == [second]
    assert state.interrupted_apply("sha256:p1") is None  # it finished


def test_applies_of_a_plan_are_listed_newest_first(state: StateBackend) -> None:
    lock = state.lock("apply", plan="sha256:p1")
    ids = []
    for plan in ("sha256:p1", "sha256:p2", "sha256:p1"):
        apply_id = state.journal_begin(lock, plan=plan, commit="c", who="me")
        state.journal_action(apply_id, f"cmdb.service.{len(ids)}", "create", "succeeded")
        state.journal_end(apply_id, "interrupted")
        ids.append(apply_id)
    state.release(lock)
    assert [r.id for r in state.applies_of("sha256:p1")] == [ids[2], ids[0]]
    assert [a.address for a in state.applies_of("sha256:p1")[1].actions] == ["cmdb.service.0"]
    assert [r.id for r in state.applies_of("sha256:p1", limit=1)] == [ids[2]]
    assert state.applies_of("sha256:none") == []


def test_interrupted_apply_is_found_after_its_process_was_killed(
    state: StateBackend, child: Spawn
) -> None:
    proc = child(JOURNAL_THEN_HANG)
    apply_id = int(read_line(proc))
    kill(proc)
    lock = state.lock("apply", plan="sha256:p1", timeout=5)
    record = state.interrupted_apply("sha256:p1")
    assert record is not None
    assert (record.id, record.outcome, record.finished, record.commit) == (
        apply_id,
        "running",
        None,
        "c1",
    )
    assert [(a.address, a.action, a.phase, a.detail) for a in record.actions] == [
        ("cmdb.service.a", "create", "started", ""),
        ("cmdb.service.a", "create", "succeeded", ""),
        ("cmdb.service.b", "create", "started", "attempt 1"),
    ]
    assert state.interrupted_apply("sha256:other") is None
    assert set(state.snapshot().resources) == {"cmdb.service.a"}
    state.journal_end(apply_id, "interrupted")
    assert state.interrupted_apply("sha256:p1") is None
    state.release(lock)


def test_a_writer_killed_mid_stream_leaves_a_consistent_state(
    state: StateBackend, child: Spawn
) -> None:
    proc = child(WRITE_FOREVER)
    assert read_line(proc) == "writing"
    time.sleep(0.05)
    kill(proc)
    snap = state.snapshot()
    assert snap.serial == len(snap.resources) > 50  # each put landed whole, or not at all
    lock = state.lock("apply", timeout=5)
    assert state.put(lock, res("after")) == snap.serial + 1
    state.release(lock)


def test_puts_and_journal_writes_from_many_threads_all_land(state: StateBackend) -> None:
    lock = state.lock("apply")
    apply_id = state.journal_begin(lock, plan="p", commit="c", who="me")
    serials: list[int] = []
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(200):
                address = f"cmdb.service.t{k}-{i}"
                state.journal_action(apply_id, address, "create", "started")
                if k % 2:
                    serials.append(state.put_applied(lock, res(f"t{k}-{i}"), apply_id, "create"))
                    continue
                serials.append(state.put(lock, res(f"t{k}-{i}")))
                state.journal_action(apply_id, address, "create", "succeeded")
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)
    state.journal_end(apply_id, "succeeded")
    state.release(lock)
    snap = state.snapshot()
    assert snap.serial == 2000 and len(snap.resources) == 2000
    assert sorted(serials) == list(range(1, 2001))  # no two writes saw the same serial
    (record,) = state.history()
    assert len(record.actions) == 4000 and record.serial_after == 2000
    phases: dict[str, list[str]] = {}
    for a in record.actions:
        phases.setdefault(a.address, []).append(a.phase)
    assert len(phases) == 2000
    assert all(p == ["started", "succeeded"] for p in phases.values())  # each in its order


def test_put_applied_writes_the_resource_and_journals_its_success(state: StateBackend) -> None:
    lock = state.lock("apply")
    apply_id = state.journal_begin(lock, plan="p", commit="c", who="me")
    state.journal_action(apply_id, "cmdb.service.a", "create", "started")
    assert state.put_applied(lock, res("a"), apply_id, "create") == 1
    state.journal_action(apply_id, "cmdb.service.b", "update", "started")
    assert state.put_applied(lock, res("b", id="id-b2"), apply_id, "update") == 2
    state.journal_action(apply_id, "cmdb.service.c", "create", "started")
    assert state.unlock(lock.id) == lock  # force-removed: the write and its step are refused
    with pytest.raises(SpoError, match="not held"):
        state.put_applied(lock, res("c"), apply_id, "create")
    state.journal_end(apply_id, "failed")
    snap = state.snapshot()
    assert snap.serial == 2 and sorted(snap.resources) == ["cmdb.service.a", "cmdb.service.b"]
    assert snap.resources["cmdb.service.b"].id == "id-b2"
    (record,) = state.history()
    assert [(a.address, a.action, a.phase) for a in record.actions] == [
        ("cmdb.service.a", "create", "started"),
        ("cmdb.service.a", "create", "succeeded"),
        ("cmdb.service.b", "update", "started"),
        ("cmdb.service.b", "update", "succeeded"),
        ("cmdb.service.c", "create", "started"),
    ]
    assert (record.serial_before, record.serial_after) == (0, 2)


def test_partition_scopes_lock_independently_and_the_global_lock_excludes_them(
    state: StateBackend, backend: str, where: Path
) -> None:
    first = state.lock("reconcile", scope="shard:0/4", reason="one")
    other = BACKENDS[backend](where)
    try:
        second = other.lock("reconcile", scope="shard:1/4")  # another partition: at once
        with pytest.raises(LockedError) as e:
            other.lock("reconcile", scope="shard:0/4")
        assert e.value.info == first and "on partition shard:0/4" in e.value.message
        with pytest.raises(LockedError) as e:
            other.lock("apply", timeout=0.2)  # the global lock waits for every partition
        assert e.value.info.scope.startswith("shard:")
        assert state.put(first, res("a")) == 1
        assert other.put(second, res("b")) == 2
        with pytest.raises(SpoError):
            other.put(first, res("c"))  # held, but by the other instance
        assert state.current_lock("shard:0/4") == first and state.current_lock() is None
        other.release(second)
        state.release(first)
        whole = other.lock("apply")
        with pytest.raises(LockedError) as e:
            state.lock("reconcile", scope="shard:2/4")  # and every partition for it
        assert e.value.info == whole
        other.release(whole)
    finally:
        other.close()
    again = state.lock("reconcile", scope="shard:2/4", timeout=1)
    assert state.unlock(again.id) == again and state.current_lock("shard:2/4") is None


# --- SQLite only ----------------------------------------------------------------------------


def test_sqlite_file_is_created_with_its_folder_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / ".spo" / "state.db"
    state = SqliteState(path)
    state.snapshot()
    state.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a database, just some text" * 100, "cannot be used"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "cannot be used"),
    ],
)
def test_a_corrupt_sqlite_file_is_a_clear_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(content)
    state = SqliteState(path)
    for call in (state.snapshot, state.history, lambda: state.lock("apply")):
        with pytest.raises(SpoError, match=message) as e:
            call()
        assert str(path) in e.value.message and e.value.hint
    state.close()


def test_an_older_sqlite_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO meta VALUES (1, 'old-lineage', 7, '2025-01-01T00:00:00Z')")
    conn.execute(
        "INSERT INTO resources VALUES ('a.b.c', 'a', 'b', 'c', 'id', '{}', 'h', NULL, 0, 't')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    state = SqliteState(path)
    snap = state.snapshot()
    assert (snap.lineage, snap.serial, snap.resources["a.b.c"].depends_on) == ("old-lineage", 7, ())
    state.close()


def test_a_foreign_or_newer_sqlite_file_is_refused(tmp_path: Path) -> None:
    foreign, newer = tmp_path / "foreign.db", tmp_path / "newer.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(SpoError, match="not spo state"):
        SqliteState(foreign).snapshot()
    with pytest.raises(SpoError, match="newer than this spo"):
        SqliteState(newer).snapshot()


def test_sqlite_lock_takeover_keeps_the_dead_holders_record(tmp_path: Path) -> None:
    proc = spawn("sqlite", tmp_path, HOLD)
    try:
        lock_id = read_line(proc)
        kill(proc)
    finally:
        proc.kill()
        proc.communicate()
    state = SqliteState(tmp_path / ".spo" / "state.db")
    lock = state.lock("apply")
    assert state.taken_over is not None and state.taken_over.id == lock_id
    assert state.taken_over.reason == "test holder" and lock.id != lock_id
    state.close()  # releases the lock it holds
    assert state.current_lock() is None
    state.close()
