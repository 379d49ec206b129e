"""``cmdb``: a service registry (configuration items) in a SQLite file, the embedded default target,
or in PostgreSQL for teams.

One table ``ci`` holds every item: type, id (a uuid4), name (unique per type), properties (JSON)
and timestamps. ``create`` is an upsert on (type, name) (``INSERT ... ON CONFLICT (type, name) DO
UPDATE ... RETURNING id``, the same statement on both databases), so an item a crashed apply left
behind is adopted, never duplicated; ``read_many`` reads up to 500 ids per query (the refresh
path). Each thread gets its own connection; on PostgreSQL the creates of concurrent threads are
coalesced into one multi-row upsert (``state.groupcommit``), each thread returning once its own item
is committed. SQLite runs in WAL mode with a busy timeout, and a
database that stays locked raises :class:`TransientProviderError` so that apply retries; with
PostgreSQL a lost connection, a deadlock or a serialization failure is transient.

The provider speaks SQL with ``?`` placeholders to a small storage layer (:class:`SqliteStore`,
:class:`PostgresStore`) that owns connections and turns database errors into provider errors.

Settings: ``path`` (default ``.spo/cmdb.db``, relative to the project root) or ``url``
(``sqlite:///PATH`` or ``postgresql://...``), or ``dsnEnv``: the environment variable holding a
``postgresql://`` URL (so that its password stays out of spo.yaml). Passwords are never shown.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from spo_gitops import jsonio
from spo_gitops.models.common import NAME_PATTERN, PARTY_TYPES, STAGES
from spo_gitops.models.metrics import UNITS
from spo_gitops.providers.base import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
    TransientProviderError,
)
from spo_gitops.state.groupcommit import GroupCommit

# --- resource types ------------------------------------------------------------------------------


_NAME: dict[str, Any] = {"type": "string", "pattern": NAME_PATTERN, "maxLength": 63}
_TEXT: dict[str, Any] = {"type": "string", "maxLength": 4000}
_LABELS: dict[str, Any] = {
    "type": "object",
    "description": "Key/value labels.",
    "additionalProperties": {"type": "string"},
}


def _obj(
    description: str, properties: dict[str, Any], required: list[str] | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _d(base: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {**base, "description": description, **extra}


SERVICE = _obj(
    "A service in the registry.",
    {
        "title": _d(_TEXT, "Human-readable name."),
        "description": _d(_TEXT, "What the service does."),
        "type": {
            "enum": ["business", "technical"],
            "description": "business: seen by customers; technical: supports other services.",
        },
        "tier": {
            "type": "integer",
            "minimum": 1,
            "maximum": 4,
            "description": "Criticality, 1 (most critical) to 4.",
        },
        "owner": _d(_NAME, "The owning team (a Party name); a lowercase DNS label."),
        "stage": {"enum": list(STAGES), "description": "Portfolio stage."},
        "domain": _d(_NAME, "Business domain the service belongs to; a lowercase DNS label."),
        "supportHours": _d(_TEXT, "Support hours, e.g. 24x7 or Mon-Fri 08:00-18:00."),
        "dependsOn": {
            "type": "array",
            "items": _d(_NAME, "A lowercase DNS label."),
            "uniqueItems": True,
            "description": "Services this one depends on.",
        },
        "labels": _LABELS,
    },
    ["owner", "tier"],
)

_OBJECTIVE = {
    "type": "object",
    "description": "One agreed service level.",
    "properties": {
        "metric": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9-]*$",
            "description": "Lowercase name such as availability, mttr, response-time.",
        },
        "target": {"type": "number", "description": "Target value in the unit given."},
        "unit": {
            "enum": list(UNITS),
            "description": "Unit of the target.",
        },
        "priority": {
            "enum": ["P1", "P2", "P3", "P4"],
            "description": "Incident priority the objective applies to.",
        },
    },
    "required": ["metric", "target", "unit"],
    "additionalProperties": False,
}

SLA = _obj(
    "A service level agreement between a service and a customer.",
    {
        "title": _d(_TEXT, "Human-readable name."),
        "service": _d(_NAME, "The service covered; a lowercase DNS label."),
        "customer": _d(_NAME, "The customer (a Party name); a lowercase DNS label."),
        "status": {"enum": ["draft", "active", "expired"], "description": "Agreement status."},
        "validFrom": {"type": "string", "format": "date", "description": "First day (YYYY-MM-DD)."},
        "validTo": {"type": "string", "format": "date", "description": "Last day (YYYY-MM-DD)."},
        "hours": _d(_TEXT, "Service hours, e.g. 24x7."),
        "objectives": {
            "type": "array",
            "items": _OBJECTIVE,
            "description": "The agreed service levels.",
        },
    },
    ["service", "customer", "objectives"],
)

INTERFACE = _obj(
    "A service provider interface: who provides which services to whom.",
    {
        "title": _d(_TEXT, "Human-readable name."),
        "provider": _d(_NAME, "The providing party; a lowercase DNS label."),
        "consumers": {
            "type": "array",
            "items": _d(_NAME, "A lowercase DNS label."),
            "uniqueItems": True,
            "description": "Consuming parties.",
        },
        "services": {
            "type": "array",
            "items": _d(_NAME, "A lowercase DNS label."),
            "uniqueItems": True,
            "description": "Services covered.",
        },
    },
    ["provider", "consumers", "services"],
)

ALLOCATION = _obj(
    "Capacity of a resource pool allocated to a service.",
    {
        "pool": _d(_NAME, "The resource pool drawn on; a lowercase DNS label."),
        "service": _d(_NAME, "The service the capacity is for; a lowercase DNS label."),
        "quantity": {"type": "number", "exclusiveMinimum": 0, "description": "Units allocated."},
        "unit": {"type": "string", "minLength": 1, "description": "Unit, e.g. FTE, vCPU, EUR."},
        "purpose": _d(_TEXT, "What the capacity is for."),
    },
    ["pool", "service", "quantity"],
)

PARTY = _obj(
    "A team, board, supplier or customer.",
    {
        "title": _d(_TEXT, "Human-readable name."),
        "type": {"enum": list(PARTY_TYPES), "description": "Kind of party."},
        "email": _d(_TEXT, "Contact e-mail address."),
        "labels": _LABELS,
    },
    ["type"],
)

TYPES: dict[str, ResourceType] = {
    t.name: t
    for t in (
        ResourceType("service", SERVICE, "A service in the registry."),
        ResourceType("sla", SLA, "A service level agreement.", replace_on=frozenset({"service"})),
        ResourceType("interface", INTERFACE, "A service provider interface."),
        ResourceType(
            "allocation",
            ALLOCATION,
            "Capacity of a pool allocated to a service.",
            replace_on=frozenset({"pool", "service"}),
        ),
        ResourceType("party", PARTY, "A team, board, supplier or customer."),
    )
}

# --- storage: SQLite or PostgreSQL ---------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ci (
    type TEXT NOT NULL,
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    properties TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (type, name)
)
"""
_CREATE = (
    "INSERT INTO ci (type, id, name, properties, created, updated) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (type, name) DO UPDATE"
    " SET properties = excluded.properties, updated = excluded.updated"
    " RETURNING id"
)
_CHUNK = 500  # ids per SELECT ... IN (...): well below SQLite's limit on host parameters
_BUSY_TIMEOUT_S = 10.0
Row = tuple[Any, ...]


class NameTaken(ProviderError):
    """An update would give an item a name another item of its type has."""


class Store:
    """Connections (one per thread) to the database of the registry; ``execute`` runs one
    statement with ``?`` placeholders in its own transaction and returns the rows."""

    where: str  # shown in errors (a path, or a URL without its password)

    def __init__(self) -> None:
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise ProviderError("cmdb: the provider was closed")
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _open(self) -> Any:
        raise NotImplementedError

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def setup(self) -> None:
        """Create the table when it is missing."""
        self.execute(_SCHEMA)

    def create(self, row: Row) -> str:
        """Upsert one item by (type, name): ``row`` is (type, id, name, properties, created,
        updated); returns the id it has (the existing item's, when there is one)."""
        return str(self.execute(_CREATE, row)[0][0])

    def errors(self, operation: str) -> AbstractContextManager[None]:
        raise NotImplementedError

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()


class SqliteStore(Store):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProviderError(f"cmdb: cannot create {path.parent}: {e.strerror}") from e

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_S,
            isolation_level=None,  # autocommit: every statement is its own transaction
            check_same_thread=False,  # only this thread uses it; close() may run elsewhere
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn().execute(sql, tuple(args)).fetchall())

    @contextmanager
    def errors(self, operation: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as e:
            raise NameTaken(f"cmdb: {operation}: {e} ({self.where})") from e
        except sqlite3.OperationalError as e:
            text = str(e)
            if "locked" in text or "busy" in text:
                raise TransientProviderError(f"cmdb: {operation}: {text} ({self.where})") from e
            raise ProviderError(f"cmdb: {operation}: {text} ({self.where})") from e
        except sqlite3.Error as e:
            raise ProviderError(f"cmdb: {operation}: {e} ({self.where})") from e


class PostgresStore(Store):
    """The registry in PostgreSQL (psycopg 3, autocommit: one statement, one transaction)."""

    def __init__(self, url: str) -> None:
        from spo_gitops.state.postgres import redact_dsn

        super().__init__()
        self.url = url
        self.where = redact_dsn(url)
        self._creates = GroupCommit(self._create_many, super().create)

    def create(self, row: Row) -> str:
        return self._creates.submit(row)

    def _create_many(self, rows: Sequence[Row]) -> list[str]:
        found = {  # the rows as one JSON array: one parameter for the batch
            (t, n): i
            for t, n, i in self.execute(
                "INSERT INTO ci (type, id, name, properties, created, updated)"
                " SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5"
                " FROM jsonb_array_elements(?::jsonb) AS r"
                " ON CONFLICT (type, name) DO UPDATE"
                " SET properties = excluded.properties, updated = excluded.updated"
                " RETURNING type, name, id",
                (jsonio.dumps(rows, separators=(",", ":")),),
            )
        }
        return [str(found[row[0], row[2]]) for row in rows]

    def _open(self) -> Any:
        import psycopg

        return psycopg.connect(
            self.url, autocommit=True, connect_timeout=10, application_name="spo-gitops cmdb"
        )

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        cur = self._conn().execute(sql.replace("?", "%s"), tuple(args))
        return list(cur.fetchall()) if cur.description else []

    def setup(self) -> None:
        # CREATE TABLE IF NOT EXISTS from several processes at once can fail on the catalog's
        # unique index: one at a time, under a transaction-level advisory lock
        conn = self._conn()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('spo-gitops cmdb schema'))")
            conn.execute(_SCHEMA)

    @contextmanager
    def errors(self, operation: str) -> Iterator[None]:
        import psycopg

        from spo_gitops.state.postgres import redact_text

        try:
            yield
        except (psycopg.Error, ValueError) as e:
            text = redact_text(str(e).strip().splitlines()[0] if str(e).strip() else "", self.url)
            message = f"cmdb: {operation}: {text} ({self.where})"
            if isinstance(e, psycopg.errors.UniqueViolation):
                raise NameTaken(message) from None
            if isinstance(
                e,
                psycopg.OperationalError
                | psycopg.errors.SerializationFailure
                | psycopg.errors.DeadlockDetected,
            ):
                self._local = threading.local()  # reconnect on the next call
                raise TransientProviderError(message) from None
            raise ProviderError(message) from None  # the chained error may hold the password


# --- the provider --------------------------------------------------------------------------------


class CmdbSettings(ProviderSettings):
    path: str = Field(
        default=".spo/cmdb.db", description="SQLite file, relative to the project root."
    )
    url: str | None = Field(
        default=None,
        pattern=r"^(sqlite|postgresql)://",
        description="Database URL instead of path: sqlite:///PATH or postgresql://USER@HOST/DB.",
    )
    dsn_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the database URL (keeps passwords out of "
        "spo.yaml); wins over url and path.",
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _dumps(properties: Mapping[str, Any]) -> str:
    return jsonio.dumps(dict(properties), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def open_store(settings: CmdbSettings, context: ProviderContext) -> Store:
    """The store the settings name: dsnEnv, else url, else path."""
    url = settings.url
    if settings.dsn_env is not None:
        url = os.environ.get(settings.dsn_env)
        if not url:
            raise ProviderError(
                f"cmdb: providers.cmdb.dsnEnv names {settings.dsn_env}, which is not set",
                hint=f"export {settings.dsn_env}=postgresql://USER@HOST/DB",
            )
    if url is not None and url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    raw = settings.path
    if url is not None:
        if not url.startswith("sqlite:///"):
            from spo_gitops.state.postgres import redact_dsn

            raise ProviderError(
                f"cmdb: unsupported database URL {redact_dsn(url)!r}",
                hint="use sqlite:///PATH or postgresql://USER@HOST/DB",
            )
        raw = url.removeprefix("sqlite:///")
    path = Path(raw).expanduser()
    return SqliteStore(path if path.is_absolute() else context.project_root / path)


class CmdbProvider(Provider):
    """A service registry (services, SLAs, SPIs, allocations, parties) in SQLite or PostgreSQL."""

    name = "cmdb"
    settings_model = CmdbSettings
    types: ClassVar[Mapping[str, ResourceType]] = TYPES

    def __init__(self, settings: ProviderSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, CmdbSettings)
        self.store = open_store(settings, context)
        self.path: Path | None = self.store.path if isinstance(self.store, SqliteStore) else None
        with self.store.errors("open"):
            self.store.setup()

    def _conn(self) -> Any:
        """This thread's database connection (sqlite3 or psycopg)."""
        return self.store._conn()

    def _run(self, operation: str, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self.store.errors(operation):
            return self.store.execute(sql, args)

    @staticmethod
    def _observed(row: Row) -> Observed:
        return Observed(row[0], row[1], json.loads(row[2]))

    # --- the contract ------------------------------------------------------------------------

    def read(self, type_: str, id_: str) -> Observed | None:
        self.resource_type(type_)
        rows = self._run(
            "read", "SELECT id, name, properties FROM ci WHERE type = ? AND id = ?", (type_, id_)
        )
        return self._observed(rows[0]) if rows else None

    def read_many(self, type_: str, ids: Sequence[str]) -> dict[str, Observed | None]:
        self.resource_type(type_)
        out: dict[str, Observed | None] = dict.fromkeys(ids)
        unique = list(out)
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self._run(
                "read",
                f"SELECT id, name, properties FROM ci WHERE type = ? AND id IN ({marks})",
                (type_, *chunk),
            ):
                out[row[0]] = self._observed(row)
        return out

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.check_properties(type_, name, properties)
        data = _dumps(properties)
        now = _now()
        with self.store.errors("create"):
            id_ = self.store.create((type_, str(uuid.uuid4()), name, data, now, now))
        return Observed(id_, name, json.loads(data))

    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.check_properties(type_, name, properties)
        data = _dumps(properties)
        try:
            rows = self._run(
                "update",
                "UPDATE ci SET name = ?, properties = ?, updated = ?"
                " WHERE type = ? AND id = ? RETURNING id",
                (name, data, _now(), type_, id_),
            )
        except NameTaken as e:
            raise ProviderError(
                f"cmdb.{type_}.{name}: another {type_} is already named {name!r}"
            ) from e
        if not rows:
            raise ProviderError(f"cmdb.{type_}.{name}: not found (id {id_})")
        return Observed(id_, name, json.loads(data))

    def delete(self, type_: str, id_: str) -> None:
        self.resource_type(type_)
        self._run("delete", "DELETE FROM ci WHERE type = ? AND id = ?", (type_, id_))

    def list(self, type_: str) -> list[Observed]:
        self.resource_type(type_)
        rows = self._run(
            "list", "SELECT id, name, properties FROM ci WHERE type = ? ORDER BY name", (type_,)
        )
        return [self._observed(row) for row in rows]

    def close(self) -> None:
        self.store.close()
