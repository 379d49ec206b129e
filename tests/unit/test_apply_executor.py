"""The apply executor against the real SQLite CMDB and state; faults injected by a subclass."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spo_gitops.providers.base import (
    Observed,
    ProviderContext,
    ProviderError,
    TransientProviderError,
)
from spo_gitops.providers.cmdb import CmdbProvider, CmdbSettings
from spo_gitops.provision.apply import Executor, RetryPolicy
from spo_gitops.provision.plan import plan
from spo_gitops.provision.reconcile import type_lookup
from spo_gitops.provision.resources import DesiredResource
from spo_gitops.state.sqlite import SqliteState

FAST = RetryPolicy(attempts=4, initial=0.001, maximum=0.01)


class FaultyCmdb(CmdbProvider):
    """The real CMDB, with injected faults and a record of the order of calls."""

    def __init__(self, root: Path) -> None:
        super().__init__(CmdbSettings(), ProviderContext(root, root / ".spo"))
        self.transient: dict[str, int] = {}  # name -> transient failures still to raise
        self.broken: set[str] = set()  # names whose create fails for good
        self.calls: list[tuple[str, str]] = []
        self.running = 0
        self.peak = 0
        self._guard = threading.Lock()

    def _enter(self, op: str, name: str) -> None:
        with self._guard:
            self.calls.append((op, name))
            self.running += 1
            self.peak = max(self.peak, self.running)
            left = self.transient.get(name, 0)
            if left:
                self.transient[name] = left - 1
        if left:
            self._leave()
            raise TransientProviderError(f"{name}: database is busy")
        if name in self.broken:
            self._leave()
            raise ProviderError(f"{name}: refused by the registry")

    def _leave(self) -> None:
        with self._guard:
            self.running -= 1

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self._enter("create", name)
        try:
            return super().create(type_, name, properties)
        finally:
            self._leave()

    def delete(self, type_: str, id_: str) -> None:
        found = self.read(type_, id_)
        self._enter("delete", found.name if found else id_)
        try:
            super().delete(type_, id_)
        finally:
            self._leave()


def service(name: str, *deps: str) -> DesiredResource:
    return DesiredResource(
        "cmdb",
        "service",
        name,
        {"owner": "team-a", "tier": 2},
        depends_on=tuple(f"cmdb.service.{d}" for d in deps),
    )


def run(
    tmp_path: Path,
    provider: FaultyCmdb,
    desired: list[DesiredResource],
    retry: RetryPolicy = FAST,
    **kw: Any,
) -> tuple[list[Any], SqliteState]:
    state = SqliteState(tmp_path / "state.db")
    snapshot = state.snapshot()
    the_plan = plan(desired, snapshot, None, types=type_lookup(), commit=None, **kw)
    lock = state.lock("apply")
    try:
        apply_id = state.journal_begin(lock, plan="p", commit="", who="test")
        executor = Executor(
            the_plan,
            {r.address: r for r in desired},
            state,
            lock,
            {"cmdb": provider},
            sensitive=lambda p, t: frozenset(),
            parallelism=4,
            retry=retry,
        )
        results = executor.run(apply_id, set())
        state.journal_end(apply_id, "succeeded")
    finally:
        state.release(lock)
    return results, state


def test_dependencies_are_created_first(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    desired = [service("web", "api"), service("api", "db"), service("db"), service("solo")]
    results, state = run(tmp_path, provider, desired)
    assert all(r.outcome == "succeeded" for r in results)
    order = [name for op, name in provider.calls]
    assert order.index("db") < order.index("api") < order.index("web")
    assert len(state.snapshot().resources) == 4


def test_transient_errors_are_retried(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    provider.transient = {"db": 3}
    results, _ = run(tmp_path, provider, [service("db")])
    assert [r.outcome for r in results] == ["succeeded"]
    assert provider.calls.count(("create", "db")) == 4
    assert len(provider.list("service")) == 1


def test_retries_give_up_and_dependents_are_skipped(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    provider.transient = {"db": 10}
    provider.broken = {"cache"}
    desired = [service("db"), service("api", "db"), service("cache"), service("other")]
    results, state = run(tmp_path, provider, desired)
    outcomes = {r.address.split(".")[-1]: r.outcome for r in results}
    assert outcomes == {"db": "failed", "api": "skipped", "cache": "failed", "other": "succeeded"}
    assert provider.calls.count(("create", "db")) == FAST.attempts
    assert ("create", "api") not in provider.calls
    assert set(state.snapshot().resources) == {"cmdb.service.other"}
    journal = state.history(limit=1)[0].actions
    assert ("cmdb.service.api", "failed") in [(a.address, a.phase) for a in journal]


def test_deletes_run_in_reverse_dependency_order_and_spare_protected(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    keep = DesiredResource(
        "cmdb", "service", "keep", {"owner": "team-a", "tier": 2}, protected=True
    )
    run(tmp_path, provider, [service("db"), service("api", "db"), service("web", "api"), keep])
    provider.calls.clear()
    results, state = run(tmp_path, provider, [], prune=True)
    assert [name for op, name in provider.calls] == ["web", "api", "db"]
    assert all(r.outcome == "succeeded" for r in results)
    assert set(state.snapshot().resources) == {"cmdb.service.keep"}


def test_parallelism_is_bounded(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    results, _ = run(tmp_path, provider, [service(f"s{i}") for i in range(40)])
    assert all(r.outcome == "succeeded" for r in results)
    assert 1 <= provider.peak <= 4


def test_create_after_a_crash_adopts_instead_of_duplicating(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    left_behind = provider.create("service", "db", {"owner": "team-a", "tier": 2})
    results, state = run(tmp_path, provider, [service("db")])
    assert [r.outcome for r in results] == ["succeeded"]
    assert [o.id for o in provider.list("service")] == [left_behind.id]
    assert state.snapshot().resources["cmdb.service.db"].id == left_behind.id


def test_no_retry_for_permanent_errors(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    provider.broken = {"db"}
    results, _ = run(tmp_path, provider, [service("db")])
    assert [r.outcome for r in results] == ["failed"]
    assert provider.calls.count(("create", "db")) == 1
    assert "refused by the registry" in results[0].detail


def _apply_with(
    tmp_path: Path, provider: FaultyCmdb, policy: RetryPolicy
) -> tuple[list[Any], float]:
    """Apply one create under ``policy``: the results and the seconds it took."""
    start = time.monotonic()
    results, _ = run(tmp_path, provider, [service("db")], retry=policy)
    return results, time.monotonic() - start


def test_retries_wait_as_the_policy_says(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    provider.transient = {"db": 2}
    results, waited = _apply_with(tmp_path, provider, RetryPolicy(3, initial=0.2, maximum=0.3))
    assert [r.outcome for r in results] == ["succeeded"]
    assert provider.calls.count(("create", "db")) == 3
    assert 0.5 <= waited < 5  # 0.2 s, then 0.4 s capped at 0.3 s


def test_a_single_attempt_policy_does_not_retry(tmp_path: Path) -> None:
    provider = FaultyCmdb(tmp_path)
    provider.transient = {"db": 1}
    results, waited = _apply_with(tmp_path, provider, RetryPolicy(attempts=1, initial=5))
    assert [r.outcome for r in results] == ["failed"]
    assert "database is busy" in results[0].detail
    assert provider.calls.count(("create", "db")) == 1 and waited < 5
