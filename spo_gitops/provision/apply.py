"""The apply executor: carries out a plan's actions through the providers, exactly.

- creates, updates and replaces run in dependency order, independent ones in parallel (bounded);
  deletes run afterwards, in reverse dependency order;
- an action whose dependency failed is skipped; a protected resource is never deleted;
- transient provider errors are retried with exponential backoff (tenacity);
- every action is journaled before it runs and after, and the state is written after each action:
  an apply killed at any point is resumed by applying the same plan again (finished actions are
  skipped; create is idempotent by name, so an object created just before the kill is adopted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from spo_gitops.providers.base import Observed, Provider, ProviderError, TransientProviderError
from spo_gitops.provision.plan import Action, Plan
from spo_gitops.provision.resources import DesiredResource
from spo_gitops.redaction import Secrets, redact
from spo_gitops.state.base import LockInfo, ResourceState, StateBackend

ActionOutcome = Literal["succeeded", "failed", "skipped"]
ApplyProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial: float = 0.2  # seconds before the first retry; doubles each time
    maximum: float = 10.0


@dataclass(frozen=True)
class ActionResult:
    address: str
    action: str
    outcome: ActionOutcome
    detail: str = ""


@dataclass
class ApplyReport:
    results: list[ActionResult] = field(default_factory=list)
    resumed: bool = False
    apply_id: int | None = None

    def count(self, outcome: ActionOutcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0 and self.count("skipped") == 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Executor:
    def __init__(
        self,
        plan: Plan,
        desired: Mapping[str, DesiredResource],
        state: StateBackend,
        lock: LockInfo,
        providers: Mapping[str, Provider],
        *,
        sensitive: Callable[[str, str], frozenset[str]],
        parallelism: int = 10,
        retry: RetryPolicy | None = None,
        progress: ApplyProgress | None = None,
    ) -> None:
        self.plan = plan
        self.desired = desired
        self.state = state
        self.lock = lock
        self.providers = providers
        self.sensitive = sensitive
        self.parallelism = parallelism
        # a provider's own parallelism setting bounds its actions; the pool fits the largest
        caps = {name: p.concurrency() or parallelism for name, p in providers.items()}
        self._slots = {name: threading.BoundedSemaphore(cap) for name, cap in caps.items()}
        self._workers = max([parallelism, *caps.values()])
        self.retry = retry or RetryPolicy()
        self.progress = progress
        self._done = 0
        self._mutex = threading.Lock()

    # --- running ------------------------------------------------------------------------------
    def run(self, apply_id: int, already_done: set[str]) -> list[ActionResult]:
        changes = [a for a in self.plan.actions if a.action != "no-op"]
        total = len(changes)
        results: dict[str, ActionResult] = {}
        for a in changes:
            if a.address in already_done:
                results[a.address] = ActionResult(a.address, a.action, "succeeded", "resumed")
        self._done = len(results)
        forward = [a for a in changes if a.action != "delete" and a.address not in results]
        backward = [a for a in changes if a.action == "delete" and a.address not in results]
        self._run_graph(apply_id, forward, results, total, reverse=False)
        self._run_graph(apply_id, backward, results, total, reverse=True)
        return [results[a.address] for a in changes]

    def _run_graph(
        self,
        apply_id: int,
        actions: list[Action],
        results: dict[str, ActionResult],
        total: int,
        *,
        reverse: bool,
    ) -> None:
        """Kahn's algorithm over the phase's actions: an action starts when everything it waits
        on has succeeded; when one fails, everything that waits on it is skipped."""
        if not actions:
            return
        by_address = {a.address: a for a in actions}
        waits_on: dict[str, set[str]] = {addr: set() for addr in by_address}
        for a in actions:
            for dep in a.depends_on:
                if dep in by_address:
                    if reverse:
                        waits_on[dep].add(a.address)  # delete dependents first
                    else:
                        waits_on[a.address].add(dep)
        unblocks: dict[str, list[str]] = {addr: [] for addr in by_address}
        for addr, deps in waits_on.items():
            for dep in deps:
                unblocks[dep].append(addr)
        remaining = {addr: len(deps) for addr, deps in waits_on.items()}
        ready = deque(sorted(addr for addr, n in remaining.items() if n == 0))
        running: dict[Future[ActionResult], str] = {}
        # finished actions, in the order they finish (a callback per action, instead of
        # waiting on every running future at each completion)
        done: queue.SimpleQueue[Future[ActionResult]] = queue.SimpleQueue()
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            while ready or running:
                while ready and len(running) < self._workers:
                    addr = ready.popleft()
                    future = pool.submit(self._run_one, apply_id, by_address[addr], total)
                    running[future] = addr
                    future.add_done_callback(done.put)
                finished = [done.get()]
                with contextlib.suppress(queue.Empty):
                    while True:
                        finished.append(done.get_nowait())
                for future in finished:
                    addr = running.pop(future)
                    results[addr] = future.result()
                    if results[addr].outcome == "succeeded":
                        for nxt in unblocks[addr]:
                            remaining[nxt] -= 1
                            if remaining[nxt] == 0:
                                ready.append(nxt)
                    else:
                        self._skip_after(apply_id, addr, unblocks, by_address, results, total)
        for addr in sorted(set(by_address) - set(results)):  # only a cycle leaves any behind
            results[addr] = self._record_skip(
                apply_id, by_address[addr], "skipped: dependency cycle", total
            )

    def _skip_after(
        self,
        apply_id: int,
        failed: str,
        unblocks: dict[str, list[str]],
        by_address: dict[str, Action],
        results: dict[str, ActionResult],
        total: int,
    ) -> None:
        todo = [(nxt, failed) for nxt in unblocks[failed]]
        while todo:
            addr, cause = todo.pop()
            if addr in results:
                continue
            results[addr] = self._record_skip(
                apply_id, by_address[addr], f"skipped: {cause} did not succeed", total
            )
            todo.extend((nxt, addr) for nxt in unblocks[addr])

    def _tick(self, total: int, address: str) -> None:
        with self._mutex:
            self._done += 1
            done = self._done
        if self.progress:
            self.progress(done, total, address)

    def _record_skip(self, apply_id: int, action: Action, why: str, total: int) -> ActionResult:
        self.state.journal_action(apply_id, action.address, action.action, "failed", why)
        self._tick(total, action.address)
        return ActionResult(action.address, action.action, "skipped", why)

    def _secrets(self, action: Action) -> Secrets:
        """The action's secret values: what no message, journal entry or state row may hold."""
        secrets = Secrets()
        res = self.desired.get(action.address)
        if res is not None:
            secrets.add_properties(res.properties, self.sensitive(action.provider, action.type))
        return secrets

    def _run_one(self, apply_id: int, action: Action, total: int) -> ActionResult:
        self.state.journal_action(apply_id, action.address, action.action, "started")
        secrets = self._secrets(action)
        try:
            with self._slots.get(action.provider) or contextlib.nullcontext():
                journaled = self._carry_out(apply_id, action, secrets)
        except Exception as e:
            # a ProviderError says what failed; anything else is a provider bug: record it and
            # keep the rest of the apply going. An error may quote the request: redact it.
            raw = e.message if isinstance(e, ProviderError) else f"{type(e).__name__}: {e}"
            detail = secrets.text(raw)
            self.state.journal_action(apply_id, action.address, action.action, "failed", detail)
            self._tick(total, action.address)
            return ActionResult(action.address, action.action, "failed", detail)
        if not journaled:
            self.state.journal_action(apply_id, action.address, action.action, "succeeded")
        self._tick(total, action.address)
        return ActionResult(action.address, action.action, "succeeded")

    # --- one action ---------------------------------------------------------------------------
    def _call(self, fn: Callable[[], Observed | None]) -> Observed | None:
        """``fn`` with the retry policy: a transient error is retried after ``initial``
        seconds, then twice as long each time (at most ``maximum``), ``attempts`` in all."""
        policy = self.retry
        try:  # the first attempt without the retry machinery: most calls succeed at once
            return fn()
        except TransientProviderError:
            if policy.attempts <= 1:
                raise
        time.sleep(min(policy.initial, policy.maximum))
        retrying = Retrying(  # attempts 2.. (its first waits are those of attempt 2 on)
            stop=stop_after_attempt(policy.attempts - 1),
            wait=wait_exponential(multiplier=policy.initial * 2, max=policy.maximum),
            retry=retry_if_exception_type(TransientProviderError),
            reraise=True,
        )
        return retrying(fn)

    def _provider(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise ProviderError(f"provider {name!r} is not configured")
        return provider

    def _carry_out(self, apply_id: int, action: Action, secrets: Secrets) -> bool:
        """The provider's calls and the state's write; True when the state's write also
        journaled the action's success (a create, update or replace: ``put_applied``)."""
        provider = self._provider(action.provider)
        if action.action == "delete":
            if action.protected:
                raise ProviderError(f"{action.address} is protected and is never deleted")
            assert action.id is not None
            id_ = action.id
            self._call(lambda: provider.delete(action.type, id_))
            self.state.remove(self.lock, action.address)
            return False
        res = self.desired.get(action.address)
        if res is None:
            raise ProviderError(f"{action.address} is in the plan but not in the catalog")
        props = dict(res.properties)
        if action.action == "replace" and action.id is not None:
            old = action.id
            self._call(lambda: provider.delete(action.type, old))
        if action.action in ("create", "replace") or action.id is None:
            observed = self._call(lambda: provider.create(action.type, action.name, props))
        else:
            id_ = action.id
            observed = self._call(lambda: provider.update(action.type, id_, action.name, props))
        assert observed is not None
        secret = self.sensitive(action.provider, action.type)
        self.state.put_applied(
            self.lock,
            ResourceState(
                address=action.address,
                provider=action.provider,
                type=action.type,
                name=action.name,
                id=observed.id,
                properties=secrets.data(redact(props, secret)),
                hash=action.after_hash or "",
                entity=action.entity,
                protected=action.protected,
                updated=_now(),
                depends_on=action.depends_on,
            ),
            apply_id,
            action.action,
        )
        return True
