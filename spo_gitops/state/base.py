"""The state contract: what is managed, the serial and lineage, the lock and the journal.

Backends: SQLite (the embedded default, ``.spo/state.db``) and PostgreSQL (shared by many
runners). Both pass one shared test suite. Every write is one transaction and increments the
serial; the lineage is fixed when the state is created. The lock is held by a live process: when
its holder dies, the lock is free again (the holder's record is kept for the message of whoever
takes it over).

Locks have a scope: ``"global"`` (the default: apply, a full reconcile) or a partition key such as
``"shard:2/4"`` (``spo reconcile --partition``). Holders of different partition scopes run at
once; the global lock excludes every other holder, partition holders included.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

from spo_gitops.errors import SpoError

Phase = Literal["started", "succeeded", "failed"]
RunOutcome = Literal["running", "succeeded", "failed", "interrupted"]
GLOBAL = "global"  # the lock scope of apply and of a full reconcile


@dataclass(frozen=True)
class ResourceState:
    """A managed resource as last applied."""

    address: str
    provider: str
    type: str
    name: str
    id: str
    properties: dict[str, Any]  # last applied, sensitive values redacted
    hash: str  # properties_hash of the full (unredacted) desired properties
    entity: str | None = None  # "Kind:name" it came from
    protected: bool = False
    updated: str = ""  # ISO 8601, UTC
    depends_on: tuple[str, ...] = ()  # addresses it was created after (deleted before them)


@dataclass(frozen=True)
class StateSnapshot:
    lineage: str
    serial: int
    resources: dict[str, ResourceState] = field(default_factory=dict)


@dataclass(frozen=True)
class LockInfo:
    id: str
    operation: str  # "apply", "reconcile", ...
    holder: str  # user@host
    pid: int
    created: str  # ISO 8601, UTC
    plan: str = ""  # digest of the plan being applied
    reason: str = ""
    scope: str = GLOBAL  # "global", or the partition key it covers

    def describe(self) -> str:
        extra = f", plan {self.plan[:19]}" if self.plan else ""
        why = f" ({self.reason})" if self.reason else ""
        where = f" on partition {self.scope}" if self.scope != GLOBAL else ""
        return (
            f"lock {self.id} held by {self.holder} (pid {self.pid}) since {self.created} "
            f"for {self.operation}{where}{extra}{why}"
        )


class LockedError(SpoError, TimeoutError):
    """The state is locked by another live process."""

    def __init__(self, info: LockInfo) -> None:
        super().__init__(
            f"state is locked: {info.describe()}",
            hint=f"wait for it to finish, or if that process is gone for good: "
            f"spo state unlock {info.id}",
        )
        self.info = info


@dataclass(frozen=True)
class JournalAction:
    address: str
    action: str
    phase: Phase
    at: str
    detail: str = ""


@dataclass(frozen=True)
class ApplyRecord:
    """One apply as journaled."""

    id: int
    plan: str  # plan digest
    commit: str
    who: str
    started: str
    finished: str | None
    outcome: RunOutcome
    serial_before: int
    serial_after: int | None
    actions: list[JournalAction] = field(default_factory=list)


class StateBackend(ABC):
    """Storage of state; one instance per process, safe for use from several threads."""

    @abstractmethod
    def snapshot(self) -> StateSnapshot:
        """The current state (creates an empty one with a new lineage on first use)."""

    # --- lock ---------------------------------------------------------------------------------
    @abstractmethod
    def lock(
        self,
        operation: str,
        *,
        reason: str = "",
        plan: str = "",
        timeout: float = 0.0,
        scope: str = GLOBAL,
    ) -> LockInfo:
        """Take the lock of ``scope``, waiting up to ``timeout`` seconds; LockedError with the
        holder's details when it stays taken. A lock whose holder died is taken over. The global
        scope excludes every other scope; partition scopes exclude only themselves."""

    @abstractmethod
    def release(self, lock: LockInfo) -> None:
        """Give back a lock this process holds."""

    @abstractmethod
    def unlock(self, lock_id: str) -> LockInfo | None:
        """Force-remove the lock with this id (``spo state unlock``); returns what was removed,
        None when no lock has that id."""

    @abstractmethod
    def current_lock(self, scope: str = GLOBAL) -> LockInfo | None:
        """The lock record of ``scope``, if any (held, or left behind by a dead holder)."""

    # --- resources (each call: one transaction, serial + 1; requires the held lock) ------------
    @abstractmethod
    def put(self, lock: LockInfo, resource: ResourceState) -> int:
        """Insert or replace a resource; returns the new serial."""

    @abstractmethod
    def remove(self, lock: LockInfo, address: str) -> int:
        """Forget a resource; returns the new serial."""

    def put_applied(
        self, lock: LockInfo, resource: ResourceState, apply_id: int, action: str
    ) -> int:
        """``put``, then the "succeeded" step of ``action`` on the resource in the journal of
        apply ``apply_id``: what apply writes once an action succeeded. A backend may write
        both in one statement (PostgreSQL does); either way nothing is journaled when the put
        is refused. Returns the new serial."""
        serial = self.put(lock, resource)
        self.journal_action(apply_id, resource.address, action, "succeeded")
        return serial

    # --- journal ------------------------------------------------------------------------------
    @abstractmethod
    def journal_begin(self, lock: LockInfo, *, plan: str, commit: str, who: str) -> int:
        """Start journaling an apply; returns its id."""

    @abstractmethod
    def journal_action(
        self, apply_id: int, address: str, action: str, phase: Phase, detail: str = ""
    ) -> None:
        """Record one step of one action (before it runs, and after)."""

    @abstractmethod
    def journal_end(self, apply_id: int, outcome: RunOutcome) -> None:
        """Close the apply's journal with its outcome."""

    @abstractmethod
    def interrupted_apply(self, plan: str) -> ApplyRecord | None:
        """The latest apply of this plan that never finished (its process died), with its
        actions: what an interrupted apply resumes from."""

    @abstractmethod
    def applies_of(self, plan: str, limit: int = 100) -> list[ApplyRecord]:
        """The applies of this plan (by digest), newest first, with their actions: how far a
        plan got over any number of interrupted runs."""

    @abstractmethod
    def history(self, limit: int = 20) -> list[ApplyRecord]:
        """The latest applies, newest first, with their actions."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
