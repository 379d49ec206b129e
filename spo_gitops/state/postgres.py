"""State in PostgreSQL: shared by many CI runners and reconcilers, the lock held in the database.

The tables live in the connection's current schema (``options=-csearch_path=NAME`` in the DSN keeps
several states in one database). Versioned migrations (table ``schema_migrations``) run on first
use under a transaction-level advisory lock, so that several processes starting at once on an
empty database create the schema exactly once.

The lock of a scope is a session-level advisory lock (``pg_try_advisory_lock``) held by a
connection of its own for as long as the lock is held, plus a row in ``locks`` with the holder's
details for the messages. When the holder dies, however it dies, its connection ends and the
server frees the advisory lock; the next ``lock()`` takes over the row that was left behind.
A partition scope holds the global key shared and its own key exclusive (as the SQLite backend
does with file locks). ``unlock(id)`` only removes the row: a live holder keeps its advisory lock
until it exits, and its writes are refused from then on (each write checks the row).

Writes go through one connection per instance, guarded by a mutex; every write is one transaction
that bumps ``meta.serial`` (a row lock, so the serial only grows, by one per write, across every
process). The password of the DSN is never shown: errors name the redacted DSN.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb

from spo_gitops.errors import SpoError
from spo_gitops.state.base import (
    GLOBAL,
    ApplyRecord,
    JournalAction,
    LockedError,
    LockInfo,
    Outcome,
    Phase,
    ResourceState,
    Snapshot,
    StateBackend,
)
from spo_gitops.state.sqlite import LockNotHeldError, _holder, now

log = logging.getLogger(__name__)

POLL = 0.1  # seconds between attempts while waiting for the lock
CONNECT_TIMEOUT = 10  # seconds

# MIGRATIONS[i] brings the schema from version i to i + 1 (schema_migrations). Append only.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        lineage TEXT NOT NULL,
        serial BIGINT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE resources (
        address TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        id TEXT NOT NULL,
        properties JSONB NOT NULL,
        hash TEXT NOT NULL,
        entity TEXT,
        protected BOOLEAN NOT NULL DEFAULT false,
        updated TEXT NOT NULL,
        depends_on JSONB NOT NULL DEFAULT '[]'
    );
    CREATE TABLE locks (
        scope TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        operation TEXT NOT NULL,
        holder TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        created TEXT NOT NULL,
        plan TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        backend_pid INTEGER NOT NULL
    );
    CREATE TABLE applies (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        plan TEXT NOT NULL,
        "commit" TEXT NOT NULL,
        who TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        outcome TEXT NOT NULL,
        serial_before BIGINT NOT NULL,
        serial_after BIGINT
    );
    CREATE INDEX applies_plan ON applies (plan, outcome);
    CREATE TABLE apply_actions (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        apply_id BIGINT NOT NULL REFERENCES applies (id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        phase TEXT NOT NULL,
        at TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX apply_actions_apply ON apply_actions (apply_id, seq)
    """,
)

_PASSWORD_KV = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ``***`` (URL or key=value form)."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        netloc = parts.netloc
        if "@" in netloc:
            auth, host = netloc.rsplit("@", 1)
            if ":" in auth:
                auth = auth.split(":", 1)[0] + ":***"
            netloc = f"{auth}@{host}"
        query = _PASSWORD_KV.sub(r"\1***", parts.query.replace("&", " ")).replace(" ", "&")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return _PASSWORD_KV.sub(r"\1***", dsn)


def _password(dsn: str) -> str | None:
    try:
        found = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
        return str(found) if found else None
    except psycopg.Error:
        return None


def redact_text(text: str, dsn: str) -> str:
    """``text`` (an error message) with the DSN's password and the DSN itself redacted."""
    secret = _password(dsn)
    text = text.replace(dsn, redact_dsn(dsn))
    return text.replace(secret, "***") if secret else text


class StateDatabaseError(SpoError, OSError):
    """The state database cannot be reached, read or written."""


def _key(*parts: str) -> int:
    """A signed 64-bit advisory lock key."""
    digest = hashlib.sha256("\0".join(("spo-state", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresState(StateBackend):
    """The state backend over a PostgreSQL database; see the module docstring."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.display = redact_dsn(dsn)
        self.taken_over: LockInfo | None = None
        self._mutex = threading.RLock()  # guards the connection
        self._conn: psycopg.Connection[Any] | None = None
        self._schema = ""
        self._lock_guard = threading.Lock()  # guards _held
        self._held: dict[str, tuple[LockInfo, psycopg.Connection[Any]]] = {}

    # --- connection and transactions ----------------------------------------------------------
    def _fail(self, e: BaseException) -> StateDatabaseError:
        return StateDatabaseError(
            f"state database {self.display} cannot be used: "
            f"{redact_text(str(e).strip(), self.dsn)}",
            hint="check state.dsn (or the variable it is read from) and that the server is up",
        )

    def _open(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="spo-gitops",
            )
        except (psycopg.Error, ValueError) as e:  # ValueError: an unparseable DSN
            raise self._fail(e) from None  # the chained error would repeat the password

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        conn = self._open()
        try:
            row = conn.execute("SELECT current_schema()").fetchone()
            if row is None or row[0] is None:
                raise StateDatabaseError(
                    f"state database {self.display}: no schema to create the tables in",
                    hint="create the schema named in search_path, or drop the search_path option",
                )
            self._schema = str(row[0])
            self._migrate(conn)
        except psycopg.Error as e:
            conn.close()
            raise self._fail(e) from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        if self._version(conn) == len(MIGRATIONS):
            return
        with conn.transaction():
            # several processes may start on an empty database at once: one migrates, the
            # others wait here and then find the schema up to date
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_key(self._schema, "migrate"),))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
            )
            version = self._version(conn)
            if version > len(MIGRATIONS):
                raise StateDatabaseError(
                    f"state database {self.display} has schema version {version}, newer than "
                    f"this spo knows ({len(MIGRATIONS)})",
                    hint="upgrade spo-gitops",
                )
            for i in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[i].split(";"):
                    if statement.strip():
                        conn.execute(statement.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied) VALUES (%s, %s)",
                    (i + 1, now()),
                )
            conn.execute(
                "INSERT INTO meta (id, lineage, serial, created) VALUES (1, %s, 0, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (str(uuid.uuid4()), now()),
            )

    @staticmethod
    def _version(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        got = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(got[0]) if got else 0

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on the shared connection; database errors become StateDatabaseError.
        Reads see one consistent snapshot (repeatable read)."""
        with self._mutex:
            conn = self._connect()
            try:
                conn.execute("BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except psycopg.Error as e:
                if not conn.closed and conn.info.transaction_status != 0:  # not idle
                    try:
                        conn.execute("ROLLBACK")
                    except psycopg.Error:
                        conn.close()
                raise self._fail(e) from None

    def _check_lock(self, conn: psycopg.Connection[Any], lock: LockInfo) -> None:
        with self._lock_guard:
            held = lock.id in self._held
        row = conn.execute("SELECT id FROM locks WHERE scope = %s", (lock.scope,)).fetchone()
        if not held or row is None or row[0] != lock.id:
            raise LockNotHeldError(
                f"state write refused: lock {lock.id} is not held by this process"
                + (f" (current: {row[0]})" if row and row[0] != lock.id else ""),
                hint="take the lock with lock() before writing; it may have been force-removed "
                "with spo state unlock",
            )

    @staticmethod
    def _bump(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("UPDATE meta SET serial = serial + 1 RETURNING serial").fetchone()
        assert row is not None
        return int(row[0])

    # --- reads ----------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._tx(write=False) as conn:
            meta = conn.execute("SELECT lineage, serial FROM meta").fetchone()
            rows = conn.execute(
                "SELECT address, provider, type, name, id, properties, hash, entity, protected, "
                "updated, depends_on FROM resources ORDER BY address"
            ).fetchall()
        assert meta is not None
        resources = {
            r[0]: ResourceState(
                address=r[0],
                provider=r[1],
                type=r[2],
                name=r[3],
                id=r[4],
                properties=r[5],
                hash=r[6],
                entity=r[7],
                protected=bool(r[8]),
                updated=r[9],
                depends_on=tuple(r[10]),
            )
            for r in rows
        }
        return Snapshot(str(meta[0]), int(meta[1]), resources)

    def current_lock(self, scope: str = GLOBAL) -> LockInfo | None:
        with self._tx(write=False) as conn:
            return self._lock_row(conn, "scope = %s", scope)

    @staticmethod
    def _lock_row(conn: psycopg.Connection[Any], where: str, arg: str) -> LockInfo | None:
        row = conn.execute(
            "SELECT id, operation, holder, pid, created, plan, reason, scope FROM locks "
            f"WHERE {where} ORDER BY scope = 'global' DESC, scope LIMIT 1",
            (arg,),
        ).fetchone()
        return LockInfo(*row) if row else None

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
            self._connect()  # an unreachable database is reported as such
        # (key, shared): a partition holds the global key shared and its own key exclusive
        wanted = [(_key(self._schema, GLOBAL), scope != GLOBAL)]
        if scope != GLOBAL:
            wanted.append((_key(self._schema, "scope", scope), False))
        holder = self._open()
        try:
            deadline = time.monotonic() + timeout
            for i, (key, shared) in enumerate(wanted):
                call = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
                while not self._try(holder, call, key):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        # blocked on our own scope: its holder; on the global key (shared):
                        # the global holder; (exclusive): any holder
                        blocker = GLOBAL if shared else None
                        raise LockedError(self._holder_info(scope if i else blocker))
                    time.sleep(min(POLL, left))
            info = LockInfo(
                str(uuid.uuid4()), operation, _holder(), os.getpid(), now(), plan, reason, scope
            )
            backend_pid = holder.info.backend_pid
            with self._tx() as conn:
                old = self._lock_row(conn, "scope = %s", scope)
                conn.execute("DELETE FROM locks WHERE scope = %s", (scope,))
                conn.execute(
                    "INSERT INTO locks (scope, id, operation, holder, pid, host, created, plan, "
                    "reason, backend_pid) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        scope,
                        info.id,
                        info.operation,
                        info.holder,
                        info.pid,
                        socket.gethostname(),
                        info.created,
                        info.plan,
                        info.reason,
                        backend_pid,
                    ),
                )
        except BaseException:
            holder.close()  # ending the session frees its advisory locks
            raise
        if old is not None:
            log.warning("took over the state lock left by a dead holder: %s", old.describe())
        with self._lock_guard:
            self.taken_over = old
            self._held[info.id] = (info, holder)
        return info

    def _try(self, conn: psycopg.Connection[Any], call: str, key: int) -> bool:
        try:
            row = conn.execute(f"SELECT {call}(%s)", (key,)).fetchone()
        except psycopg.Error as e:
            raise self._fail(e) from None
        return bool(row and row[0])

    def _holder_info(self, scope: str | None) -> LockInfo:
        """The live holder's record (of ``scope``; None: of any scope, global first); it may
        be a moment late in writing it."""
        for _ in range(10):
            with self._tx(write=False) as conn:
                info = (
                    self._lock_row(conn, "scope = %s", scope)
                    if scope
                    else self._lock_row(conn, "scope <> %s OR true", GLOBAL)
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
                conn.execute("DELETE FROM locks WHERE id = %s", (lock.id,))
        finally:
            held[1].close()

    def unlock(self, lock_id: str) -> LockInfo | None:
        with self._tx() as conn:
            info = self._lock_row(conn, "id = %s", lock_id)
            if info is None:
                return None
            conn.execute("DELETE FROM locks WHERE id = %s", (lock_id,))
        with self._lock_guard:
            held = self._held.pop(lock_id, None)  # our own: end its session too
        if held is not None:
            held[1].close()
        return info

    # --- resources ------------------------------------------------------------------------------
    def put(self, lock: LockInfo, resource: ResourceState) -> int:
        """Insert or replace; an empty ``updated`` is set to the time of the write."""
        r = resource
        with self._tx() as conn:
            self._check_lock(conn, lock)
            conn.execute(
                "INSERT INTO resources (address, provider, type, name, id, properties, hash, "
                "entity, protected, updated, depends_on) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (address) DO UPDATE SET provider = excluded.provider, "
                "type = excluded.type, name = excluded.name, id = excluded.id, "
                "properties = excluded.properties, hash = excluded.hash, "
                "entity = excluded.entity, protected = excluded.protected, "
                "updated = excluded.updated, depends_on = excluded.depends_on",
                (
                    r.address,
                    r.provider,
                    r.type,
                    r.name,
                    r.id,
                    Jsonb(r.properties),
                    r.hash,
                    r.entity,
                    r.protected,
                    r.updated or now(),
                    Jsonb(list(r.depends_on)),
                ),
            )
            return self._bump(conn)

    def remove(self, lock: LockInfo, address: str) -> int:
        with self._tx() as conn:
            self._check_lock(conn, lock)
            conn.execute("DELETE FROM resources WHERE address = %s", (address,))
            return self._bump(conn)

    # --- journal --------------------------------------------------------------------------------
    def journal_begin(self, lock: LockInfo, *, plan: str, commit: str, who: str) -> int:
        with self._tx() as conn:
            self._check_lock(conn, lock)
            row = conn.execute(
                'INSERT INTO applies (plan, "commit", who, started, outcome, serial_before) '
                "VALUES (%s, %s, %s, %s, 'running', (SELECT serial FROM meta)) RETURNING id",
                (plan, commit, who, now()),
            ).fetchone()
            assert row is not None
            return int(row[0])

    def journal_action(
        self, apply_id: int, address: str, action: str, phase: Phase, detail: str = ""
    ) -> None:
        try:
            with self._tx() as conn:
                conn.execute(
                    "INSERT INTO apply_actions (apply_id, address, action, phase, at, detail) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    (apply_id, address, action, phase, now(), detail),
                )
        except StateDatabaseError as e:
            if isinstance(e.__context__, psycopg.errors.ForeignKeyViolation):
                raise SpoError(f"no apply {apply_id} in the journal of {self.display}") from None
            raise

    def journal_end(self, apply_id: int, outcome: Outcome) -> None:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE applies SET finished = %s, outcome = %s, "
                "serial_after = (SELECT serial FROM meta) WHERE id = %s",
                (now(), outcome, apply_id),
            )
            if cur.rowcount == 0:
                raise SpoError(f"no apply {apply_id} in the journal of {self.display}")

    def interrupted_apply(self, plan: str) -> ApplyRecord | None:
        found = self._applies(
            "WHERE plan = %s AND outcome = 'running' ORDER BY id DESC LIMIT 1", (plan,)
        )
        return found[0] if found else None

    def history(self, limit: int = 20) -> list[ApplyRecord]:
        return self._applies("ORDER BY id DESC LIMIT %s", (limit,))

    def _applies(self, where: str, args: tuple[Any, ...]) -> list[ApplyRecord]:
        with self._tx(write=False) as conn:
            rows = conn.execute(
                'SELECT id, plan, "commit", who, started, finished, outcome, serial_before, '
                f"serial_after FROM applies {where}",
                args,
            ).fetchall()
            actions: dict[int, list[JournalAction]] = {int(row[0]): [] for row in rows}
            if actions:
                for a in conn.execute(
                    "SELECT apply_id, address, action, phase, at, detail FROM apply_actions "
                    "WHERE apply_id = ANY(%s) ORDER BY apply_id, seq",
                    (list(actions),),
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
                cast(Outcome, r[6]),
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
