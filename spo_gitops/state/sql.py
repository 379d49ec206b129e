"""What the SQL state backends share: the rows of the tables, the journal, the lock records.

:class:`SqlState` implements the :class:`~spo_gitops.state.base.StateBackend` contract over the
tables both backends create (``meta``, ``resources``, ``locks``, ``applies``, ``apply_actions``).
Its queries are written with ``?`` marks, turned into the driver's placeholder (``PARAM``). A
backend supplies what really differs: the connection and its transactions (``_connect``, ``_tx``,
which wrap the driver's errors), the schema and its migrations, the upsert of a resource and how
JSON columns are stored, ``journal_action`` (the sequence of steps, a missing apply), and the lock
mechanism itself: what ``_acquire`` takes (OS file locks, advisory locks) and ``_free`` gives back.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import os
import socket
import threading
import time
import uuid
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from spo_gitops.errors import SpoError
from spo_gitops.state.base import (
    GLOBAL,
    ApplyRecord,
    JournalAction,
    LockedError,
    LockInfo,
    ResourceState,
    RunOutcome,
    StateBackend,
    StateSnapshot,
)

POLL = 0.1  # seconds between attempts while waiting for the lock


class LockNotHeldError(SpoError, RuntimeError):
    """A write was attempted without holding the state lock."""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


class Cursor(Protocol):
    """What the shared code uses of a DB-API cursor (sqlite3's and psycopg's)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the shared code uses of a connection (sqlite3's and psycopg's)."""

    def execute(self, sql: str, params: Any = ..., /) -> Cursor: ...

    def close(self) -> None: ...


C = TypeVar("C", bound=Connection)  # the backend's connection
H = TypeVar("H")  # what a held lock keeps: file descriptors, an advisory-lock session


class SqlState(StateBackend, Generic[C, H]):
    """The contract over the shared tables; subclasses add the connection and the lock."""

    PARAM: ClassVar[str] = "?"  # the driver's placeholder
    HOLDER_TRIES: ClassVar[int] = 5  # reads of the live holder's record before giving up
    UPSERT: ClassVar[str]  # insert or replace one row of resources (11 marks)
    display: str  # where the state is, for messages (no secrets)

    def __init__(self) -> None:
        self.taken_over: LockInfo | None = None  # the dead holder's record the last lock() replaced
        self._mutex = threading.RLock()  # guards the connection
        self._conn: C | None = None
        self._lock_guard = threading.Lock()  # guards _held
        self._held: dict[str, tuple[LockInfo, H]] = {}  # lock id -> (info, what holds it)

    # --- what a backend supplies ----------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> C:
        """The shared connection, opened (and the schema migrated) on first use."""

    @abstractmethod
    def _tx(self, write: bool = True) -> AbstractContextManager[C]:
        """One transaction on the shared connection; driver errors become the backend's."""

    @abstractmethod
    def _encode(self, resource: ResourceState) -> tuple[Any, Any]:
        """The stored form of the resource's properties and depends_on (JSON columns)."""

    @abstractmethod
    def _decode(self, stored: Any) -> Any:
        """A JSON column's value as read back."""

    @abstractmethod
    def _open_holder(self) -> H:
        """What will hold a new lock (before any of it is taken)."""

    @abstractmethod
    def _acquire(self, handle: H, scope: str, deadline: float) -> None:
        """Take the lock of ``scope`` into ``handle``; LockedError once ``deadline`` passes."""

    @abstractmethod
    def _free(self, handle: H) -> None:
        """Give back whatever ``handle`` holds (the OS or the server frees its locks)."""

    def _lock_columns(self, handle: H) -> Mapping[str, Any]:
        """Extra columns of the lock's row."""
        return {}

    def _lock_failure(self, e: BaseException) -> BaseException | None:
        """What a failure to take the lock is reported as; None: itself."""
        return None

    # --- helpers --------------------------------------------------------------------------------
    def _run(self, conn: C, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        """Execute ``sql``, written with ``?`` marks, in the driver's placeholder style."""
        if self.PARAM != "?":
            sql = sql.replace("?", self.PARAM)
        return conn.execute(sql) if params is None else conn.execute(sql, params)

    def _no_apply(self, apply_id: int) -> SpoError:
        return SpoError(f"no apply {apply_id} in the journal of {self.display}")

    def _check_lock(self, conn: C, lock: LockInfo) -> None:
        with self._lock_guard:
            held = lock.id in self._held
        row = self._run(conn, "SELECT id FROM locks WHERE scope = ?", (lock.scope,)).fetchone()
        if not held or row is None or row[0] != lock.id:
            raise LockNotHeldError(
                f"state write refused: lock {lock.id} is not held by this process"
                + (f" (current: {row[0]})" if row and row[0] != lock.id else ""),
                hint="take the lock with lock() before writing; it may have been force-removed "
                "with spo state unlock",
            )

    def _bump(self, conn: C) -> int:
        row = self._run(conn, "UPDATE meta SET serial = serial + 1 RETURNING serial").fetchone()
        assert row is not None
        return int(row[0])

    def _lock_row(self, conn: C, where: str, *args: str) -> LockInfo | None:
        """The first lock record matching ``where`` (the global one first)."""
        row = self._run(
            conn,
            "SELECT id, operation, holder, pid, created, plan, reason, scope FROM locks "
            f"WHERE {where} ORDER BY scope = 'global' DESC, scope LIMIT 1",
            args,
        ).fetchone()
        return LockInfo(*row) if row else None

    # --- reads ----------------------------------------------------------------------------------
    def snapshot(self) -> StateSnapshot:
        with self._tx(write=False) as conn:
            meta = self._run(conn, "SELECT lineage, serial FROM meta").fetchone()
            rows = self._run(
                conn,
                "SELECT address, provider, type, name, id, properties, hash, entity, protected, "
                "updated, depends_on FROM resources ORDER BY address",
            ).fetchall()
        assert meta is not None
        resources = {
            r[0]: ResourceState(
                address=r[0],
                provider=r[1],
                type=r[2],
                name=r[3],
                id=r[4],
                properties=self._decode(r[5]),
                hash=r[6],
                entity=r[7],
                protected=bool(r[8]),
                updated=r[9],
                depends_on=tuple(self._decode(r[10])),
            )
            for r in rows
        }
        return StateSnapshot(str(meta[0]), int(meta[1]), resources)

    def current_lock(self, scope: str = GLOBAL) -> LockInfo | None:
        with self._tx(write=False) as conn:
            return self._lock_row(conn, "scope = ?", scope)

    # --- lock -----------------------------------------------------------------------------------
    def lock(
        self,
        operation: str,
        *,
        reason: str = "",
        plan: str = "",
        timeout: float = 0.0,
        scope: str = GLOBAL,
    ) -> LockInfo:
        with self._mutex:
            self._connect()  # a broken or unreachable state is reported as such, not as a lock
        handle = self._open_holder()
        try:
            self._acquire(handle, scope, time.monotonic() + timeout)
            info = LockInfo(
                str(uuid.uuid4()), operation, _holder(), os.getpid(), now(), plan, reason, scope
            )
            row = {
                "scope": scope,
                "id": info.id,
                "operation": info.operation,
                "holder": info.holder,
                "pid": info.pid,
                "host": socket.gethostname(),
                "created": info.created,
                "plan": info.plan,
                "reason": info.reason,
                **self._lock_columns(handle),
            }
            with self._tx() as conn:
                old = self._lock_row(conn, "scope = ?", scope)
                self._run(conn, "DELETE FROM locks WHERE scope = ?", (scope,))
                self._run(
                    conn,
                    f"INSERT INTO locks ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )
        except BaseException as e:
            self._free(handle)  # the OS or the server frees the locks taken so far
            failure = self._lock_failure(e)
            if failure is None:
                raise
            raise failure from e
        if old is not None:
            logging.getLogger(type(self).__module__).warning(
                "took over the state lock left by a dead holder: %s", old.describe()
            )
        with self._lock_guard:
            self.taken_over = old
            self._held[info.id] = (info, handle)
        return info

    def _wait(self, attempt: Callable[[], bool], deadline: float, blocker: str | None) -> None:
        """Call ``attempt`` until it succeeds; past ``deadline``, LockedError with the record of
        the holder in the way (of scope ``blocker``; None: of any scope)."""
        while not attempt():
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockedError(self._holder_info(blocker))
            time.sleep(min(POLL, left))

    def _holder_info(self, scope: str | None) -> LockInfo:
        """The live holder's record (of ``scope``; None: of any scope, global first); it may
        be a moment late in writing it."""
        for _ in range(self.HOLDER_TRIES):
            with self._tx(write=False) as conn:
                info = (
                    self._lock_row(conn, "scope = ?", scope)
                    if scope
                    else self._lock_row(conn, "1 = 1")
                )
            if info is not None:
                return info
            time.sleep(0.02)
        return LockInfo("?", "unknown", "another process", 0, "")

    def release(self, lock: LockInfo) -> None:
        with self._lock_guard:
            held = self._held.pop(lock.id, None)
        if held is None:
            raise LockNotHeldError(f"cannot release lock {lock.id}: not held by this process")
        try:
            with self._tx() as conn:
                self._run(conn, "DELETE FROM locks WHERE id = ?", (lock.id,))
        finally:
            self._free(held[1])

    def unlock(self, lock_id: str) -> LockInfo | None:
        with self._tx() as conn:
            info = self._lock_row(conn, "id = ?", lock_id)
            if info is None:
                return None
            self._run(conn, "DELETE FROM locks WHERE id = ?", (lock_id,))
        with self._lock_guard:
            held = self._held.pop(lock_id, None)  # our own: free its locks too
        if held is not None:
            self._free(held[1])
        return info

    # --- resources ------------------------------------------------------------------------------
    def put(self, lock: LockInfo, resource: ResourceState) -> int:
        """Insert or replace; an empty ``updated`` is set to the time of the write."""
        r = resource
        properties, depends_on = self._encode(r)
        row = (r.address, r.provider, r.type, r.name, r.id, properties, r.hash, r.entity)
        with self._tx() as conn:
            self._check_lock(conn, lock)
            self._run(conn, self.UPSERT, (*row, r.protected, r.updated or now(), depends_on))
            return self._bump(conn)

    def remove(self, lock: LockInfo, address: str) -> int:
        with self._tx() as conn:
            self._check_lock(conn, lock)
            self._run(conn, "DELETE FROM resources WHERE address = ?", (address,))
            return self._bump(conn)

    # --- journal --------------------------------------------------------------------------------
    def journal_begin(self, lock: LockInfo, *, plan: str, commit: str, who: str) -> int:
        with self._tx() as conn:
            self._check_lock(conn, lock)
            row = self._run(
                conn,
                'INSERT INTO applies (plan, "commit", who, started, outcome, serial_before) '
                "VALUES (?, ?, ?, ?, 'running', (SELECT serial FROM meta)) RETURNING id",
                (plan, commit, who, now()),
            ).fetchone()
            assert row is not None
            return int(row[0])

    def journal_end(self, apply_id: int, outcome: RunOutcome) -> None:
        with self._tx() as conn:
            cur = self._run(
                conn,
                "UPDATE applies SET finished = ?, outcome = ?, "
                "serial_after = (SELECT serial FROM meta) WHERE id = ?",
                (now(), outcome, apply_id),
            )
            if cur.rowcount == 0:
                raise self._no_apply(apply_id)

    def interrupted_apply(self, plan: str) -> ApplyRecord | None:
        found = self._applies(
            "WHERE plan = ? AND outcome = 'running' ORDER BY id DESC LIMIT 1", (plan,)
        )
        return found[0] if found else None

    def applies_of(self, plan: str, limit: int = 100) -> list[ApplyRecord]:
        return self._applies("WHERE plan = ? ORDER BY id DESC LIMIT ?", (plan, limit))

    def history(self, limit: int = 20) -> list[ApplyRecord]:
        return self._applies("ORDER BY id DESC LIMIT ?", (limit,))

    def _applies(self, where: str, args: tuple[Any, ...]) -> list[ApplyRecord]:
        with self._tx(write=False) as conn:
            rows = self._run(
                conn,
                'SELECT id, plan, "commit", who, started, finished, outcome, serial_before, '
                f"serial_after FROM applies {where}",
                args,
            ).fetchall()
            actions: dict[int, list[JournalAction]] = {int(row[0]): [] for row in rows}
            if actions:
                marks = ",".join("?" * len(actions))
                for a in self._run(
                    conn,
                    "SELECT apply_id, address, action, phase, at, detail FROM apply_actions "
                    f"WHERE apply_id IN ({marks}) ORDER BY apply_id, seq",
                    tuple(actions),
                ):
                    actions[int(a[0])].append(JournalAction(*a[1:]))
        return [
            ApplyRecord(
                int(r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                cast(RunOutcome, r[6]),
                int(r[7]),
                None if r[8] is None else int(r[8]),
                actions[int(r[0])],
            )
            for r in rows
        ]

    def close(self) -> None:
        """Release the locks this instance holds, and close the connection."""
        with self._lock_guard:
            held = [info for info, _ in self._held.values()]
        try:
            for info in held:
                self.release(info)
        finally:
            with self._mutex:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
