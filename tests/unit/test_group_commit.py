"""Group commit on PostgreSQL (state/groupcommit.py): the writes of concurrent threads are
coalesced into one statement per batch, and each write keeps what a caller relies on when it
writes alone: its own serial, a refusal when the lock is not held, its own error, its row
committed when it returns.

To make a batch form deterministically, a second connection holds a row or table lock that the
first write waits for inside the server; the writes of the other threads queue meanwhile and go
out together once the blocker commits. The expected values are counted by hand."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from spo_gitops.errors import SpoError
from spo_gitops.providers.base import ProviderContext
from spo_gitops.providers.cmdb import CmdbProvider, CmdbSettings
from spo_gitops.state.base import ResourceState
from spo_gitops.state.groupcommit import GroupCommit
from spo_gitops.state.postgres import PostgresState
from spo_gitops.state.sql import LockNotHeldError
from tests.postgres import Server, fresh_schema, state_dsn

pytestmark = pytest.mark.usefixtures("postgres_server")


def _resource(i: int, name: str | None = None) -> ResourceState:
    name = name or f"svc-{i:03d}"
    return ResourceState(
        address=f"cmdb.service.{name}",
        provider="cmdb",
        type="service",
        name=name,
        id=f"id-{i}",
        properties={"tier": i % 4 + 1, "owner": "team-a"},
        hash=f"sha256:{i}",
        entity=f"Service:{name}",
        depends_on=("cmdb.party.team-a",) if i % 2 else (),
    )


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


@contextmanager
def _blocked(dsn: str, statement: str) -> Iterator[None]:
    """A transaction on another connection that holds the lock ``statement`` takes, until the
    block ends (then it commits)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute(statement)
        try:
            yield
        finally:
            conn.execute("COMMIT")


def _in_threads(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run each call in a thread of its own: ("ok", result) or ("error", exception)."""
    out: list[tuple[str, Any]] = [("pending", None)] * len(calls)

    def run(i: int) -> None:
        try:
            out[i] = ("ok", calls[i]())
        except Exception as e:
            out[i] = ("error", e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def _batch_of(
    commit: GroupCommit[Any, Any],
    dsn: str,
    blocker: str,
    first: Callable[[], Any],
    rest: list[Callable[[], Any]],
) -> tuple[tuple[str, Any], list[tuple[str, Any]]]:
    """``first`` runs alone and waits on ``blocker`` inside the server; ``rest`` queue behind it
    and are written as one batch once the blocker commits."""
    results: list[tuple[str, Any]] = []
    holder = threading.Thread(target=lambda: results.extend(_in_threads([first])))
    with _blocked(dsn, blocker):
        holder.start()
        _wait_for(lambda: commit.busy, "the first write to wait on the blocker")
        others: list[tuple[str, Any]] = []
        queue = threading.Thread(target=lambda: others.extend(_in_threads(rest)))
        queue.start()
        _wait_for(lambda: commit.queued == len(rest), "the other writes to queue")
    holder.join(60)
    queue.join(60)
    return results[0], others


@pytest.fixture
def state(tmp_path: Path) -> Iterator[PostgresState]:
    backend = PostgresState(state_dsn(tmp_path))
    yield backend
    backend.close()


def test_queued_puts_go_out_as_one_batch_and_each_gets_its_own_serial(
    state: PostgresState, tmp_path: Path
) -> None:
    lock = state.lock("apply")
    before = state._writes.batches
    first, rest = _batch_of(
        state._writes,
        state_dsn(tmp_path),
        "SELECT serial FROM meta FOR UPDATE",
        lambda: state.put(lock, _resource(0)),
        [functools.partial(state.put, lock, _resource(i)) for i in range(1, 10)],
    )
    # one batch for the first write, one statement for the nine that queued behind it
    assert state._writes.batches - before == 2 and state._writes.split == 0
    assert first == ("ok", 1)
    assert sorted(serial for _, serial in rest) == list(range(2, 11))  # 9 writes, 9 serials
    snap = state.snapshot()
    assert snap.serial == 10
    assert sorted(snap.resources) == [f"cmdb.service.svc-{i:03d}" for i in range(10)]
    stored = snap.resources["cmdb.service.svc-007"]
    assert (stored.id, stored.properties, stored.hash) == (
        "id-7",
        {"tier": 4, "owner": "team-a"},
        "sha256:7",
    )
    assert stored.depends_on == ("cmdb.party.team-a",) and stored.entity == "Service:svc-007"
    assert stored.updated  # an empty updated is set to the time of the write


def test_queued_puts_carry_their_success_steps_in_the_same_statement(
    state: PostgresState, tmp_path: Path
) -> None:
    lock = state.lock("apply")
    apply_id = state.journal_begin(lock, plan="sha256:p", commit="c0ffee", who="ci@runner")
    first, rest = _batch_of(
        state._writes,
        state_dsn(tmp_path),
        "SELECT serial FROM meta FOR UPDATE",
        functools.partial(state.put_applied, lock, _resource(0), apply_id, "create"),
        [
            functools.partial(state.put_applied, lock, _resource(1), apply_id, "create"),
            # a put without a step, of a resource without an entity, protected, with a
            # property of every JSON type
            functools.partial(state.put, lock, BARE),
            functools.partial(state.put_applied, lock, _resource(3), apply_id, "update"),
        ],
    )
    assert first == ("ok", 1) and sorted(s for _, s in rest) == [2, 3, 4]
    assert state._writes.split == 0
    state.journal_end(apply_id, "succeeded")
    (record,) = state.history()
    assert sorted((a.address, a.action, a.phase) for a in record.actions) == [
        ("cmdb.service.svc-000", "create", "succeeded"),
        ("cmdb.service.svc-001", "create", "succeeded"),
        ("cmdb.service.svc-003", "update", "succeeded"),
    ]
    assert (record.serial_before, record.serial_after) == (0, 4)
    assert state.snapshot().resources[BARE.address] == BARE  # every field as written


BARE = ResourceState(
    address="cmdb.party.bare",
    provider="cmdb",
    type="party",
    name="bare",
    id="id-bare",
    properties={"n": 1.5, "big": 2**53, "t": True, "none": None, "s": 'q"\\u00e9', "l": [1, {}]},
    hash="sha256:b",
    entity=None,
    protected=True,
    updated="2026-12-01T00:00:00Z",
    depends_on=("cmdb.service.a", "cmdb.service.b"),
)


def test_journal_steps_and_puts_queued_together_are_one_statement(
    state: PostgresState, tmp_path: Path
) -> None:
    lock = state.lock("apply")
    apply_id = state.journal_begin(lock, plan="sha256:p", commit="c0ffee", who="ci@runner")
    first, rest = _batch_of(
        state._writes,
        state_dsn(tmp_path),
        "SELECT serial FROM meta FOR UPDATE",
        functools.partial(state.put, lock, _resource(0)),
        [
            functools.partial(
                state.journal_action, apply_id, "cmdb.service.x", "create", "started"
            ),
            functools.partial(state.put_applied, lock, _resource(1), apply_id, "create"),
            functools.partial(
                state.journal_action, apply_id, "cmdb.service.y", "delete", "started"
            ),
            functools.partial(state.put, lock, _resource(2)),
        ],
    )
    assert first == ("ok", 1)
    assert rest == [("ok", None), ("ok", 2), ("ok", None), ("ok", 3)]  # serials in queue order
    assert state._writes.split == 0
    # a bad step among them: the batch is written again one by one, only its caller fails
    first, rest = _batch_of(
        state._writes,
        state_dsn(tmp_path),
        "SELECT serial FROM meta FOR UPDATE",
        functools.partial(state.put, lock, _resource(3)),
        [
            functools.partial(
                state.journal_action, apply_id + 7, "cmdb.service.z", "create", "started"
            ),
            functools.partial(state.put_applied, lock, _resource(4), apply_id, "update"),
        ],
    )
    assert first == ("ok", 4) and rest[1] == ("ok", 5) and state._writes.split == 1
    assert rest[0][0] == "error" and f"no apply {apply_id + 7}" in str(rest[0][1])
    state.journal_end(apply_id, "succeeded")
    (record,) = state.history()
    assert sorted((a.address, a.action, a.phase) for a in record.actions) == [
        ("cmdb.service.svc-001", "create", "succeeded"),
        ("cmdb.service.svc-004", "update", "succeeded"),
        ("cmdb.service.x", "create", "started"),
        ("cmdb.service.y", "delete", "started"),
    ]
    snap = state.snapshot()
    assert snap.serial == 5 and len(snap.resources) == 5


def test_one_address_twice_in_a_batch_is_two_writes(state: PostgresState, tmp_path: Path) -> None:
    lock = state.lock("apply")
    same = [_resource(1, "twice"), _resource(2, "twice"), _resource(3)]
    first, rest = _batch_of(
        state._writes,
        state_dsn(tmp_path),
        "SELECT serial FROM meta FOR UPDATE",
        lambda: state.put(lock, _resource(0)),
        [functools.partial(state.put, lock, r) for r in same],
    )
    assert first == ("ok", 1) and sorted(s for _, s in rest) == [2, 3, 4]
    assert state._writes.split == 1  # the batch failed as a whole, then went one at a time
    snap = state.snapshot()
    assert snap.serial == 4 and len(snap.resources) == 3
    assert snap.resources["cmdb.service.twice"].id in ("id-1", "id-2")


def test_queued_puts_under_a_removed_lock_are_each_refused(
    state: PostgresState, tmp_path: Path
) -> None:
    lock = state.lock("apply")
    other = PostgresState(state_dsn(tmp_path))
    try:
        dsn = state_dsn(tmp_path)
        holder: list[tuple[str, Any]] = []
        queued: list[tuple[str, Any]] = []
        with _blocked(dsn, "SELECT serial FROM meta FOR UPDATE"):
            t1 = threading.Thread(
                target=lambda: holder.extend(_in_threads([lambda: state.put(lock, _resource(0))]))
            )
            t1.start()
            _wait_for(lambda: state._writes.busy, "the first write")
            assert other.unlock(lock.id) is not None  # spo state unlock, from elsewhere
            t2 = threading.Thread(
                target=lambda: queued.extend(
                    _in_threads(
                        [functools.partial(state.put, lock, _resource(i)) for i in range(1, 5)]
                    )
                )
            )
            t2.start()
            _wait_for(lambda: state._writes.queued == 4, "the queued writes")
        t1.join(60)
        t2.join(60)
        assert [kind for kind, _ in queued] == ["error"] * 4
        assert all(isinstance(e, LockNotHeldError) for _, e in queued)
        written = 1 if holder[0][0] == "ok" else 0  # started before the unlock
        snap = state.snapshot()
        assert snap.serial == written and len(snap.resources) == written
    finally:
        other.close()


def test_a_bad_journal_step_fails_only_its_own_caller(state: PostgresState, tmp_path: Path) -> None:
    lock = state.lock("apply")
    apply_id = state.journal_begin(lock, plan="sha256:p", commit="c0ffee", who="ci@runner")
    first, rest = _batch_of(
        state._writes,
        state_dsn(tmp_path),
        "LOCK TABLE apply_actions IN EXCLUSIVE MODE",
        lambda: state.journal_action(apply_id, "cmdb.service.a", "create", "started"),
        [
            lambda: state.journal_action(apply_id, "cmdb.service.b", "create", "started"),
            lambda: state.journal_action(apply_id + 99, "cmdb.service.c", "create", "started"),
            lambda: state.journal_action(apply_id, "cmdb.service.d", "update", "failed", "boom"),
        ],
    )
    assert first == ("ok", None)
    assert [kind for kind, _ in rest] == ["ok", "error", "ok"]
    assert state._writes.split == 1
    error = rest[1][1]
    assert isinstance(error, SpoError) and f"no apply {apply_id + 99}" in str(error)
    # a batch of good steps is one statement
    _batch_of(
        state._writes,
        state_dsn(tmp_path),
        "LOCK TABLE apply_actions IN EXCLUSIVE MODE",
        lambda: state.journal_action(apply_id, "cmdb.service.a", "create", "succeeded"),
        [
            lambda: state.journal_action(apply_id, "cmdb.service.b", "create", "succeeded"),
            lambda: state.journal_action(apply_id, "cmdb.service.e", "delete", "started"),
        ],
    )
    assert state._writes.split == 1
    state.journal_end(apply_id, "failed")
    (record,) = state.history()
    steps = sorted((a.address, a.action, a.phase, a.detail) for a in record.actions)
    assert steps == [
        ("cmdb.service.a", "create", "started", ""),
        ("cmdb.service.a", "create", "succeeded", ""),
        ("cmdb.service.b", "create", "started", ""),
        ("cmdb.service.b", "create", "succeeded", ""),
        ("cmdb.service.d", "update", "failed", "boom"),
        ("cmdb.service.e", "delete", "started", ""),
    ]
    # each caller's steps are in the order it wrote them
    b = [a.phase for a in record.actions if a.address == "cmdb.service.b"]
    assert b == ["started", "succeeded"]


def test_queued_cmdb_creates_are_one_upsert_and_one_object_per_name(
    postgres_server: Server, tmp_path: Path
) -> None:
    url = postgres_server.url(fresh_schema(postgres_server.dsn, tmp_path))
    cmdb = CmdbProvider(CmdbSettings(url=url), ProviderContext(tmp_path, tmp_path / ".spo"))
    try:
        store = cmdb.store
        names = ["alpha", "beta", "beta", "gamma"]  # beta twice in one batch
        first, rest = _batch_of(
            store._creates,  # type: ignore[attr-defined]
            url,
            "LOCK TABLE ci IN SHARE MODE",
            lambda: cmdb.create("party", "zeta", {"type": "team"}),
            [
                functools.partial(cmdb.create, "party", n, {"type": "team", "email": f"{n}@x"})
                for n in names
            ],
        )
        assert first[0] == "ok" and [kind for kind, _ in rest] == ["ok"] * 4
        assert store._creates.split == 1  # type: ignore[attr-defined]  # beta twice: one by one
        ids = [observed.id for _, observed in rest]
        assert ids[1] == ids[2]  # the second create of beta adopted the first
        assert len({first[1].id, ids[0], ids[1], ids[3]}) == 4
        listed = {o.name: (o.id, o.properties) for o in cmdb.list("party")}
        assert listed == {
            "alpha": (ids[0], {"type": "team", "email": "alpha@x"}),
            "beta": (ids[1], {"type": "team", "email": "beta@x"}),
            "gamma": (ids[3], {"type": "team", "email": "gamma@x"}),
            "zeta": (first[1].id, {"type": "team"}),
        }
        # distinct names queued together: one upsert, each caller its own item's id
        again = ["alpha", "delta", "epsilon"]
        first, rest = _batch_of(
            store._creates,  # type: ignore[attr-defined]
            url,
            "LOCK TABLE ci IN SHARE MODE",
            lambda: cmdb.create("party", "eta", {"type": "team"}),
            [functools.partial(cmdb.create, "party", n, {"type": "board"}) for n in again],
        )
        assert store._creates.split == 1  # type: ignore[attr-defined]  # no new split
        by_name = {o.name: o.id for o in cmdb.list("party")}
        assert [observed.id for _, observed in rest] == [by_name[n] for n in again]
        assert rest[0][1].id == listed["alpha"][0]  # alpha adopted, not duplicated
        assert len(by_name) == 7
        assert {o.name: o.properties for o in cmdb.list("party")}["delta"] == {"type": "board"}
    finally:
        cmdb.close()
