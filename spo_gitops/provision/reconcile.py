"""Plan and apply for a project: the glue between catalog, state, providers and the executor.

Side effects live here and in the providers and state backends; ``plan.plan`` stays pure.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from spo_gitops import git
from spo_gitops.catalog.validate import LoadProgress, ValidationResult, validate
from spo_gitops.config import Project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.errors import SpoError
from spo_gitops.providers import registry
from spo_gitops.providers.base import Observed, Provider, ProviderError, ResourceType
from spo_gitops.provision import planfile, resume
from spo_gitops.provision.apply import (
    ActionResult,
    ApplyProgress,
    ApplyReport,
    Executor,
    RetryPolicy,
)
from spo_gitops.provision.approval import Unapproved, check_approved
from spo_gitops.provision.compile import CompileResult, compile_catalog
from spo_gitops.provision.partition import (
    Partition,
    entity_labels,
    fingerprint,
    parse_partition,
    restrict,
)
from spo_gitops.provision.plan import Plan
from spo_gitops.provision.plan import plan as make_actions
from spo_gitops.provision.resources import DesiredResource
from spo_gitops.provision.verify import AlreadyApplied, StalePlan, check_actions, check_commit
from spo_gitops.state import open_state
from spo_gitops.state.base import GLOBAL, LockInfo, StateBackend, StateSnapshot

DEFAULT_RETRY = RetryPolicy()
# raised by apply_plan (defined in verify) and by reconcile's approval check (in approval)
__all__ = ["AlreadyApplied", "StalePlan", "Unapproved", "check_approved"]


class CatalogInvalid(SpoError, ValueError):
    """The catalog has errors: nothing is planned or applied from it."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(
            f"the catalog has {sum(1 for d in diagnostics if d.severity == 'error')} error(s)",
            hint="run 'spo validate' and fix them first",
        )
        self.diagnostics = diagnostics


@dataclass
class Desired:
    """The catalog's desired resources at the current commit."""

    validation: ValidationResult
    compiled: CompileResult
    commit: str | None
    dirty: list[str] = field(default_factory=list)


def actor() -> str:
    who = os.environ.get("SPO_ACTOR") or os.environ.get("GITHUB_ACTOR")
    if not who:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
    return f"{who}@{socket.gethostname()}"


def _commit(project: Project) -> tuple[str | None, list[str]]:
    """HEAD and the uncommitted files that change what is provisioned (catalog, policies,
    blueprints, spo.yaml; local state such as .spo/ does not count)."""
    config = project.config
    folders = [*config.catalog.paths, *config.policies.paths, config.reconcile.blueprints]
    try:
        with git.repository(project.root) as repo:
            prefix = repo.relative(project.root)
            scope = [git.join(prefix, f).rstrip("/") for f in folders]
            config_file = git.join(prefix, "spo.yaml")
            dirty = [
                f
                for f in repo.dirty_files()
                if f == config_file or any(f == s or f.startswith(s + "/") for s in scope)
            ]
            try:
                return repo.resolve("HEAD"), dirty
            except git.GitError:
                return None, dirty  # a repository without commits
    except git.GitError:
        return None, []


def desired(
    project: Project, partition: Partition | None = None, progress: LoadProgress | None = None
) -> Desired:
    """The catalog's desired resources; with a partition, only what it needs is compiled, and
    the validation of the whole catalog is shared by the runners of one checkout (scope.py).
    ``progress``: told how many of the catalog's files are loaded."""
    if partition is not None:
        from spo_gitops.provision import scope

        result, scoped = scope.load(project, partition, progress)
    else:
        result, scoped = validate(project, progress=progress), None
    if result.findings.has_errors:
        raise CatalogInvalid(result.findings.items)
    compiled = (
        scoped if scoped is not None else compile_catalog(project, result.documents, result.index)
    )
    if not compiled.ok:
        raise CatalogInvalid(compiled.diagnostics)
    commit, dirty = _commit(project)
    return Desired(result, compiled, commit, dirty)


@dataclass
class Held:
    """A state lock held across plan and apply (``spo reconcile``): nothing else in its scope
    can change the state between the two."""

    state: StateBackend
    lock: LockInfo
    partition: Partition | None = None


@contextmanager
def hold_lock(
    project: Project,
    operation: str,
    *,
    partition: Partition | None = None,
    timeout: float = 0.0,
) -> Iterator[Held]:
    """Open the state and take the lock of the partition's scope (global without one)."""
    state = open_state(project)
    try:
        scope = partition.key if partition else GLOBAL
        lock = state.lock(operation, timeout=timeout, scope=scope)
        try:
            yield Held(state, lock, partition)
        finally:
            state.release(lock)
    finally:
        state.close()


def _in_partition(
    want: Desired, snapshot: StateSnapshot, partition: Partition | None
) -> tuple[list[DesiredResource], StateSnapshot]:
    if partition is None:
        return want.compiled.resources, snapshot
    labels = entity_labels(want.validation.index)
    resources = [
        r
        for r in want.compiled.resources
        if partition.covers(r.address, r.source.entity if r.source else None, labels)
    ]
    return resources, restrict(snapshot, partition, labels)


def type_lookup(project: Project | None = None) -> Callable[[str, str], ResourceType | None]:
    """Resource types as the project's provider settings configure them (as the classes
    declare them without a project)."""
    settings = project.config.providers if project is not None else None

    @functools.cache  # asked for each resource planned and twice per action applied
    def lookup(provider: str, type_: str) -> ResourceType | None:
        try:
            given = None if settings is None else settings.get(provider, {})
            return registry.resource_type(provider, type_, given)
        except ProviderError:
            return None

    return lookup


@contextmanager
def _providers(project: Project, names: Iterable[str]) -> Iterator[dict[str, Provider]]:
    providers = registry.configure(project, sorted(set(names)))
    try:
        yield providers
    finally:
        for provider in providers.values():
            provider.close()


def refresh(providers: dict[str, Provider], snapshot: StateSnapshot) -> dict[str, Observed | None]:
    """What each provider reads back for the resources in state, one batch per type."""
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for res in snapshot.resources.values():
        groups.setdefault((res.provider, res.type), {})[res.id] = res.address
    observed: dict[str, Observed | None] = {}
    for (provider, type_), ids in sorted(groups.items()):
        found = providers[provider].read_many(type_, list(ids))
        for id_, addr in ids.items():
            observed[addr] = found.get(id_)
    return observed


def make_plan(
    project: Project,
    *,
    refresh_state: bool = True,
    prune: bool | None = None,
    targets: Iterable[str] = (),
    partition: Partition | None = None,
    held: Held | None = None,
    want: Desired | None = None,
) -> tuple[Plan, Desired]:
    """The plan for the catalog (only the partition's resources, with one); with ``held``, the
    state is read under that lock and the partition's fingerprint is recorded in it."""
    if held is not None:
        partition = held.partition
    want = want or desired(project, partition)
    if held is not None:
        snapshot = held.state.snapshot()
    else:
        state = open_state(project)
        try:
            snapshot = state.snapshot()
        finally:
            state.close()
    resources, snapshot = _in_partition(want, snapshot, partition)
    names = {r.provider for r in resources}
    names.update(r.provider for r in snapshot.resources.values())
    with _providers(project, names) as providers:
        observed = refresh(providers, snapshot) if refresh_state else None
    result = make_actions(
        resources,
        snapshot,
        observed,
        types=type_lookup(project),
        commit=want.commit,
        prune=project.config.reconcile.prune if prune is None else prune,
        targets=targets,
    )
    if partition is not None:
        # apply judges a partition's plan stale by its own resources, not the global serial
        result.partition = partition.key
        result.partition_fingerprint = fingerprint(snapshot.resources.values())
    result.created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    planfile.seal(result)  # sets the digest (and the signature when a key is configured)
    return result, want


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int | None = None
    lock_timeout: float = 0.0
    retry: RetryPolicy = DEFAULT_RETRY
    progress: ApplyProgress | None = None


def apply_plan(
    project: Project,
    plan: Plan,
    *,
    parallelism: int | None = None,
    lock_timeout: float = 0.0,
    retry: RetryPolicy = DEFAULT_RETRY,
    progress: ApplyProgress | None = None,
    want: Desired | None = None,
    held: Held | None = None,
) -> ApplyReport:
    """Carry out exactly ``plan``; refuse it when it is stale or when any action is not what
    the catalog and the state say (see provision/verify.py). Resumes an interrupted apply.
    With ``held`` (reconcile), under that lock instead of taking the global one."""
    want = want or desired(project, parse_partition(plan.partition) if plan.partition else None)
    check_commit(plan, want.commit)
    options = ApplyOptions(parallelism, lock_timeout, retry, progress)
    if held is not None:
        return _apply_locked(project, plan, held.state, want, options, held)
    state = open_state(project)
    try:
        return _apply_locked(project, plan, state, want, options)
    finally:
        state.close()


def _apply_locked(
    project: Project,
    plan: Plan,
    state: StateBackend,
    want: Desired,
    options: ApplyOptions,
    held: Held | None = None,
) -> ApplyReport:
    partition = parse_partition(plan.partition) if plan.partition else None
    if held is not None and (held.partition.key if held.partition else None) != plan.partition:
        raise StalePlan(
            f"the plan is for partition {plan.partition or '(all)'}, the lock held is for "
            f"{held.partition.key if held.partition else '(all)'}",
            hint="apply a plan under the lock of its own partition",
        )
    scope = partition.key if partition else GLOBAL
    lock = (
        held.lock
        if held
        else state.lock("apply", plan=plan.digest, timeout=options.lock_timeout, scope=scope)
    )
    try:
        snapshot = state.snapshot()
        if snapshot.lineage != plan.lineage:
            raise StalePlan(
                f"the plan is for state lineage {plan.lineage}, this state is {snapshot.lineage}",
                hint="the plan was made against another state: plan again here",
            )
        progress, mine = _progress(state, plan, want, snapshot, partition)
        check_actions(plan, want.compiled.by_address(), mine, progress.done)
        progress.close(state)
        apply_id = state.journal_begin(
            lock, plan=plan.digest, commit=plan.commit or "", who=actor()
        )
        report = ApplyReport(resumed=progress.resumed, apply_id=apply_id)
        report.results = _execute(project, plan, state, lock, want, options, apply_id, progress)
        state.journal_end(apply_id, "succeeded" if report.ok else "failed")
        return report
    finally:
        if held is None:
            state.release(lock)


def _progress(
    state: StateBackend,
    plan: Plan,
    want: Desired,
    snapshot: StateSnapshot,
    partition: Partition | None,
) -> tuple[resume.Progress, StateSnapshot]:
    """How far earlier runs of the plan got (StalePlan when the state moved for another reason),
    and the state in the plan's scope (the partition's resources with one)."""
    if partition is None:
        if snapshot.serial == plan.serial:
            return resume.untouched(state, plan), snapshot
        return resume.whole_state(state, plan, snapshot.serial), snapshot
    # the rule for partitions: stale when the partition's own resources changed in state since
    # the plan; writes to other partitions move the serial, not this.
    _, mine = _in_partition(want, snapshot, partition)
    if fingerprint(mine.resources.values()) == plan.partition_fingerprint:
        return resume.untouched(state, plan), mine
    addresses = {a.address for a in plan.actions} | set(mine.resources)
    return resume.partition_state(state, plan, addresses), mine


def _execute(
    project: Project,
    plan: Plan,
    state: StateBackend,
    lock: LockInfo,
    want: Desired,
    options: ApplyOptions,
    apply_id: int,
    progress: resume.Progress,
) -> list[ActionResult]:
    names = {a.provider for a in plan.changes()}
    types = type_lookup(project)

    def sensitive(provider: str, type_: str) -> frozenset[str]:
        spec = types(provider, type_)
        return spec.sensitive if spec else frozenset()

    with _providers(project, names) as providers:
        executor = Executor(
            plan,
            want.compiled.by_address(),
            state,
            lock,
            providers,
            sensitive=sensitive,
            parallelism=options.parallelism or project.config.reconcile.parallelism,
            retry=options.retry,
            progress=options.progress,
        )
        return executor.run(apply_id, progress.done)
