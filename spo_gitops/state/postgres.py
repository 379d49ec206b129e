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

Transactions run on a small pool of connections per instance (``POOL_SIZE``; the first one
checks and migrates the schema), so that the threads of an apply do not wait in line for one
connection; every write is one statement that bumps ``meta.serial`` (a row lock, so the
serial only grows, by one per write, across every process and connection). The resource writes
(``put``, ``put_applied``) and the journal steps of concurrent threads are coalesced
(``groupcommit``): one statement writes the rows of all the threads waiting at that moment,
bumps the serial by the number of resources written and gives each its own serial; each thread
returns once its row is committed, and the lock check applies to every resource written. A
batch that fails as a whole is written again row by row. The password of the DSN is never
shown: errors name the redacted DSN.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from spo_gitops import jsonio
from spo_gitops.errors import SpoError
from spo_gitops.extras import guard
from spo_gitops.state.base import GLOBAL, LockInfo, Phase, ResourceState
from spo_gitops.state.groupcommit import GroupCommit
from spo_gitops.state.sql import LockNotHeldError, SqlState, now

with guard("PostgreSQL access (the postgres state backend, cmdb on PostgreSQL)"):
    import psycopg
    from psycopg.types.json import Jsonb

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
    # 2: no foreign key from the journal to its apply. Its check took a row lock on the apply
    # for every step written (a third of the server's time in the state's writes, where every
    # action writes two steps); the steps are written only by the apply that inserted the row
    # they name, and no apply is ever deleted.
    "ALTER TABLE apply_actions DROP CONSTRAINT IF EXISTS apply_actions_apply_id_fkey",
)

# A batch of journal steps, one JSON array parameter, as the rows of ``steps_in`` (a CTE).
_STEPS_IN = (
    "steps_in AS (SELECT (s->>0)::bigint AS apply_id, s->>1 AS address, s->>2 AS action, "
    "s->>3 AS phase, s->>4 AS at, s->>5 AS detail FROM jsonb_array_elements(%s::jsonb) AS s)"
)
# Whether every step of a batch (the rows of ``steps_in``) names an apply of the journal: a
# plain read of the applies' keys, which takes no lock (the foreign key it replaces took a row
# lock on the apply for every step). A batch with a step that names none writes nothing, and is
# written again step by step, so that only that step's caller fails.
_STEPS_NAME_APPLIES = (
    "NOT EXISTS (SELECT 1 FROM steps_in WHERE NOT EXISTS "
    "(SELECT 1 FROM applies WHERE applies.id = steps_in.apply_id))"
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


Step = tuple[
    int, str, str, str, str, str
]  # a journal row: apply, address, action, phase, at, detail
# what the writes of concurrent threads are grouped from: (lock, columns, None) a put,
# (lock, columns, step) a put and its success step, (None, None, step) a journal step alone
_Write = tuple[LockInfo | None, tuple[Any, ...] | None, Step | None]


def _key(*parts: str) -> int:
    """A signed 64-bit advisory lock key."""
    digest = hashlib.sha256("\0".join(("spo-state", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresState(SqlState[psycopg.Connection[Any], psycopg.Connection[Any]]):
    """The state backend over a PostgreSQL database; see the module docstring. A held lock
    keeps the connection whose session holds its advisory locks."""

    PARAM = "%s"
    HOLDER_TRIES = 10
    UPSERT = (
        "INSERT INTO resources (address, provider, type, name, id, properties, hash, "
        "entity, protected, updated, depends_on) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (address) DO UPDATE SET provider = excluded.provider, "
        "type = excluded.type, name = excluded.name, id = excluded.id, "
        "properties = excluded.properties, hash = excluded.hash, "
        "entity = excluded.entity, protected = excluded.protected, "
        "updated = excluded.updated, depends_on = excluded.depends_on"
    )

    POOL_SIZE = 4  # connections for transactions (lock holders have their own)

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn
        self.display = redact_dsn(dsn)
        self._schema = ""
        self._pool = threading.Condition()
        self._idle: list[psycopg.Connection[Any]] = []
        self._opened = 0  # connections of the pool, idle or in use
        self._writes = GroupCommit(self._write_many, self._write_one)

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

    def _borrow(self) -> psycopg.Connection[Any]:
        """An idle connection of the pool, a new one while the pool is not full, else the next
        one given back."""
        with self._mutex:
            first = self._conn
            if first is None or first.closed:
                first = self._connect()  # checks and migrates the schema
                with self._pool:
                    self._idle.append(first)
                    self._opened += 1
        with self._pool:
            while not self._idle and self._opened >= self.POOL_SIZE:
                self._pool.wait()
            if self._idle:
                return self._idle.pop()
            self._opened += 1
        try:
            return self._open()
        except BaseException:
            with self._pool:
                self._opened -= 1
                self._pool.notify()
            raise

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        with self._pool:
            if conn.closed:
                self._opened -= 1
            else:
                self._idle.append(conn)
            self._pool.notify()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on a connection of the pool; database errors become
        StateDatabaseError. Reads see one consistent snapshot (repeatable read)."""
        conn = self._borrow()
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
        finally:
            self._give_back(conn)

    @contextmanager
    def _statement(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the pool for statements that are each their own transaction
        (autocommit): a write that is one statement holds its row locks only inside the
        server, never across a round trip (a thread of a busy process may wait milliseconds
        for the interpreter before it could send COMMIT)."""
        conn = self._borrow()
        try:
            yield conn
        except psycopg.Error as e:
            raise self._fail(e) from None
        finally:
            self._give_back(conn)

    # put and remove: the lock check, the write and the serial bump in one statement
    _WRITE = (
        "WITH held AS (SELECT 1 FROM locks WHERE scope = %s AND id = %s), "
        "written AS ({write}) "
        "UPDATE meta SET serial = serial + 1 WHERE EXISTS (SELECT 1 FROM written) "
        "RETURNING serial"
    )
    _PUT = _WRITE.format(
        write="INSERT INTO resources (address, provider, type, name, id, properties, hash, "
        "entity, protected, updated, depends_on) "
        "SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM held) "
        "ON CONFLICT (address) DO UPDATE SET provider = excluded.provider, "
        "type = excluded.type, name = excluded.name, id = excluded.id, "
        "properties = excluded.properties, hash = excluded.hash, "
        "entity = excluded.entity, protected = excluded.protected, "
        "updated = excluded.updated, depends_on = excluded.depends_on RETURNING 1"
    )
    _REMOVE = _WRITE.format(
        write="DELETE FROM resources WHERE address = %s AND EXISTS (SELECT 1 FROM held) RETURNING 1"
    )
    _REMOVE_NOTHING = (  # forgetting an address the state does not hold still bumps the serial
        "WITH held AS (SELECT 1 FROM locks WHERE scope = %s AND id = %s) "
        "UPDATE meta SET serial = serial + 1 WHERE EXISTS (SELECT 1 FROM held) RETURNING serial"
    )

    def _written(self, conn: psycopg.Connection[Any], lock: LockInfo, row: Any) -> int:
        if row is None:  # the lock row is not ours: say why, as every backend does
            self._check_lock(conn, lock)
            raise LockNotHeldError(f"state write refused: lock {lock.id} is not held")
        return int(row[0])

    # a batch of puts under one lock: the lock check, the writes, the serial bumped by their
    # number and the "succeeded" steps of the writes that carry one, in one statement; the
    # writes of the batch take the serials up to the one returned. The rows travel as one
    # JSON array (one parameter, encoded by the C encoder; psycopg's array dumpers escape each
    # element in Python).
    _PUT_MANY = (
        "WITH held AS (SELECT 1 FROM locks WHERE scope = %s AND id = %s), "
        f"{_STEPS_IN}, "
        "bumped AS (UPDATE meta SET serial = serial + %s WHERE EXISTS (SELECT 1 FROM held) "
        f"AND {_STEPS_NAME_APPLIES} RETURNING serial), "
        "written AS (INSERT INTO resources (address, provider, type, name, id, properties, "
        "hash, entity, protected, updated, depends_on) "
        "SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->5, r->>6, r->>7, (r->>8)::boolean, "
        "r->>9, r->10 FROM jsonb_array_elements(%s::jsonb) AS r "
        "WHERE EXISTS (SELECT 1 FROM bumped) "
        "ON CONFLICT (address) DO UPDATE SET provider = excluded.provider, "
        "type = excluded.type, name = excluded.name, id = excluded.id, "
        "properties = excluded.properties, hash = excluded.hash, "
        "entity = excluded.entity, protected = excluded.protected, "
        "updated = excluded.updated, depends_on = excluded.depends_on RETURNING 1), "
        "steps AS (INSERT INTO apply_actions (apply_id, address, action, phase, at, detail) "
        "SELECT apply_id, address, action, phase, at, detail FROM steps_in "
        "WHERE EXISTS (SELECT 1 FROM bumped)) "
        "SELECT serial FROM bumped"
    )

    @staticmethod
    def _row(resource: ResourceState) -> tuple[Any, ...]:
        """The resource's columns, its JSON columns as plain data."""
        r = resource
        return (
            *(r.address, r.provider, r.type, r.name, r.id, r.properties, r.hash, r.entity),
            *(r.protected, r.updated or now(), list(r.depends_on)),
        )

    def put(self, lock: LockInfo, resource: ResourceState) -> int:
        return self._put(lock, resource, None)

    def put_applied(
        self, lock: LockInfo, resource: ResourceState, apply_id: int, action: str
    ) -> int:
        step = (apply_id, resource.address, action, "succeeded", now(), "")
        return self._put(lock, resource, step)

    def _put(self, lock: LockInfo, resource: ResourceState, step: Step | None) -> int:
        with self._lock_guard:
            held = lock.id in self._held
        if not held:  # refused before anything is queued, with the reason
            with self._statement() as conn:
                self._check_lock(conn, lock)
        serial = self._writes.submit((lock, self._row(resource), step))
        assert serial is not None
        return serial

    def _write_one(self, item: _Write) -> int | None:
        lock, values, step = item
        if lock is None or values is None:  # a journal step alone
            assert step is not None
            self._journal_one(step)
            return None
        stored = (*values[:5], Jsonb(values[5]), *values[6:10], Jsonb(values[10]))
        with self._statement() as conn:
            row = conn.execute(self._PUT, (lock.scope, lock.id, *stored)).fetchone()
            serial = self._written(conn, lock, row)
        if step is not None:
            self._journal_one(step)
        return serial

    def _write_many(self, items: Sequence[_Write]) -> list[int | None]:
        """A batch of puts (with or without their success steps) and journal steps alone: one
        statement. The puts must be under one lock; the serials go to them in order."""
        steps = [step for _, _, step in items if step is not None]
        puts = [(lock, values) for lock, values, _ in items if lock is not None]
        if not puts:
            self._journal_many(steps)
            return [None] * len(items)
        lock = puts[0][0]
        if any(other is not lock and other != lock for other, _ in puts):
            raise ValueError("writes under different locks: one at a time")
        rows = jsonio.dumps([values for _, values in puts], separators=(",", ":"))
        with self._statement() as conn:
            row = conn.execute(
                self._PUT_MANY,
                (lock.scope, lock.id, jsonio.dumps(steps, separators=(",", ":")), len(puts), rows),
            ).fetchone()
        if row is None:  # nothing was written: the lock is not held, a step names no apply,
            raise ValueError("the batch was not written: one at a time")  # or an address is twice
        serial = int(row[0]) - len(puts)
        out: list[int | None] = []
        for lock_of, _, _ in items:
            if lock_of is None:
                out.append(None)
            else:
                serial += 1
                out.append(serial)
        return out

    def remove(self, lock: LockInfo, address: str) -> int:
        with self._lock_guard:
            held = lock.id in self._held
        with self._statement() as conn:
            if not held:
                self._check_lock(conn, lock)
            row = conn.execute(self._REMOVE, (lock.scope, lock.id, address)).fetchone()
            if row is None:
                row = conn.execute(self._REMOVE_NOTHING, (lock.scope, lock.id)).fetchone()
            return self._written(conn, lock, row)

    def close(self) -> None:
        super().close()
        with self._pool:
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
        for conn in idle:
            conn.close()

    # --- JSON columns: jsonb ----------------------------------------------------------------
    def _encode(self, resource: ResourceState) -> tuple[Any, Any]:
        return Jsonb(resource.properties), Jsonb(list(resource.depends_on))

    def _decode(self, stored: Any) -> Any:
        return stored

    # --- lock: session-level advisory locks -------------------------------------------------
    def _open_holder(self) -> psycopg.Connection[Any]:
        return self._open()

    def _acquire(self, handle: psycopg.Connection[Any], scope: str, deadline: float) -> None:
        # (key, shared): a partition holds the global key shared and its own key exclusive
        wanted = [(_key(self._schema, GLOBAL), scope != GLOBAL)]
        if scope != GLOBAL:
            wanted.append((_key(self._schema, "scope", scope), False))
        for i, (key, shared) in enumerate(wanted):
            call = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
            # blocked on our own scope: its holder; on the global key (shared): the global
            # holder; (exclusive): any holder
            blocker = GLOBAL if shared else None
            self._wait(
                functools.partial(self._try, handle, call, key), deadline, scope if i else blocker
            )

    def _try(self, conn: psycopg.Connection[Any], call: str, key: int) -> bool:
        try:
            row = conn.execute(f"SELECT {call}(%s)", (key,)).fetchone()
        except psycopg.Error as e:
            raise self._fail(e) from None
        return bool(row and row[0])

    def _lock_columns(self, handle: psycopg.Connection[Any]) -> dict[str, Any]:
        return {"backend_pid": handle.info.backend_pid}

    def _free(self, handle: psycopg.Connection[Any]) -> None:
        handle.close()  # closing the connection frees its advisory locks

    # --- journal ------------------------------------------------------------------------------
    def journal_action(
        self, apply_id: int, address: str, action: str, phase: Phase, detail: str = ""
    ) -> None:
        self._writes.submit((None, None, (apply_id, address, action, phase, now(), detail)))

    def _journal_one(self, step: Step) -> None:
        with self._statement() as conn:  # one statement: its own transaction
            cur = conn.execute(
                "INSERT INTO apply_actions (apply_id, address, action, phase, at, detail) "
                "SELECT %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM applies WHERE id = %s)",
                (*step, step[0]),
            )
        if cur.rowcount == 0:
            raise self._no_apply(step[0])

    def _journal_many(self, steps: Sequence[Step]) -> None:
        with self._statement() as conn:  # one statement for the batch: all or nothing
            row = conn.execute(
                f"WITH {_STEPS_IN}, "
                "written AS (INSERT INTO apply_actions (apply_id, address, action, phase, at, "
                f"detail) SELECT * FROM steps_in WHERE {_STEPS_NAME_APPLIES} RETURNING 1) "
                "SELECT count(*) FROM written",
                (jsonio.dumps(steps, separators=(",", ":")),),
            ).fetchone()
        if row is None or row[0] != len(steps):
            raise ValueError("a step names no apply: one at a time")
