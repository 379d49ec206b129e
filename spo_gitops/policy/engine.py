"""Evaluate Policy documents over the catalog: match, assert, message, waivers."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic, Severity
from spo_gitops.policy.expressions import (
    Expression,
    ExpressionError,
    Template,
    cel_module,
    compile_expression,
    compile_template,
)
from spo_gitops.policy.lookups import FUNCTION_NAMES, Lookups
from spo_gitops.policy.positions import RootPositions
from spo_gitops.policy.projection import SELF, Projection

MAX_RUNTIME_ERRORS = 5  # per policy: one broken expression should not flood the report


@dataclass
class Waiver:
    entity: str
    reason: str
    expires: dt.date
    index: int


@dataclass
class CompiledPolicy:
    doc: Document
    code: str
    severity: Severity
    kinds: frozenset[str]
    labels: dict[str, str]
    condition: Expression | None
    assertion: Expression
    message: Template
    hint: str | None
    waivers: dict[str, Waiver] = field(default_factory=dict)
    errors: int = 0

    def sources(self) -> Iterator[str]:
        """The CEL source of every expression of the policy (condition, assert, message)."""
        if self.condition is not None:
            yield self.condition.source
        yield self.assertion.source
        yield from (p.source for p in self.message.parts if isinstance(p, Expression))

    def matches_labels(self, data: dict[str, Any]) -> bool:
        if not self.labels:
            return True
        labels = (data.get("metadata") or {}).get("labels") or {}
        return all(labels.get(k) == v for k, v in self.labels.items())


Field = Literal["condition", "assert", "message"]
_POINTERS: dict[Field, list[str]] = {
    "condition": ["spec", "match", "condition"],
    "assert": ["spec", "assert"],
    "message": ["spec", "message"],
}


def compile_policy(doc: Document) -> tuple[CompiledPolicy | None, list[Diagnostic]]:
    """The compiled policy, or None and SPO501 findings at each field that does not compile."""
    spec = doc.data["spec"]
    match = spec["match"]
    found: list[Diagnostic] = []
    compiled: dict[Field, Any] = {}
    sources: dict[Field, str | None] = {
        "condition": match.get("condition"),
        "assert": spec["assert"],
        "message": spec["message"],
    }
    for name, source in sources.items():
        if source is None:
            compiled[name] = None
            continue
        try:
            if name == "message":
                compiled[name] = compile_template(source, FUNCTION_NAMES)
            else:
                compiled[name] = compile_expression(source, FUNCTION_NAMES)
        except ExpressionError as e:
            found.append(
                doc.diag(
                    "SPO501",
                    f"policy {spec['code']}: {name} does not compile: {e}",
                    _POINTERS[name],
                    hint="see spo-gitops' docs/policies.md for the CEL functions available",
                )
            )
    if found:
        return None, found
    policy = CompiledPolicy(
        doc=doc,
        code=spec["code"],
        severity=spec["severity"],
        kinds=frozenset(match["kinds"]),
        labels=dict(match.get("labels") or {}),
        condition=compiled["condition"],
        assertion=compiled["assert"],
        message=compiled["message"],
        hint=spec.get("hint"),
    )
    for i, w in enumerate(spec.get("waivers") or []):
        policy.waivers[w["entity"]] = Waiver(
            w["entity"], w["reason"], dt.date.fromisoformat(str(w["expires"])), i
        )
    return policy, found


def _expired_waivers(policy: CompiledPolicy, today: dt.date) -> Iterator[Diagnostic]:
    for w in policy.waivers.values():
        if w.expires < today:
            yield policy.doc.diag(
                "SPO503",
                f"waiver of {policy.code} for {w.entity} expired on {w.expires.isoformat()}",
                ["spec", "waivers", w.index, "expires"],
                hint="fix the finding and remove the waiver, or renew it with a new approval",
            )


def _runtime_error(
    policy: CompiledPolicy, where: Field, target: Document, error: ExpressionError
) -> Iterator[Diagnostic]:
    policy.errors += 1
    if policy.errors > MAX_RUNTIME_ERRORS:
        return
    more = " (further failures of this policy are not reported)" * (
        policy.errors == MAX_RUNTIME_ERRORS
    )
    yield policy.doc.diag(
        "SPO502",
        f"policy {policy.code}: {where} failed on {target.ref} "
        f"({target.file}:{target.line}): {error}{more}",
        _POINTERS[where],
        hint="guard optional fields with has(...), e.g. has(self.spec.x) && self.spec.x > 0",
    ).with_(entity=target.ref)


Failure = Callable[[CompiledPolicy, Field, Document, ExpressionError], Iterable[Any]]


def _check(
    policy: CompiledPolicy,
    target: Document,
    context: Any,
    positions: RootPositions | None = None,
    fail: Failure = _runtime_error,
) -> Iterator[Any]:
    """The finding of ``policy`` on ``target`` if it applies and fails; what ``fail`` makes
    of a runtime error (SPO502 findings, capped per policy, by default)."""
    if not policy.matches_labels(target.data):
        return
    if policy.condition is not None:
        try:
            applies = policy.condition.run(context)
        except ExpressionError as e:
            yield from fail(policy, "condition", target, e)
            return
        if applies is not True:
            return
    try:
        ok = policy.assertion.run(context)
    except ExpressionError as e:
        yield from fail(policy, "assert", target, e)
        return
    if not isinstance(ok, bool):
        yield from fail(policy, "assert", target, ExpressionError(f"returned {ok!r}, not a bool"))
        return
    if ok:
        return
    message = policy.message.render(context)
    if positions is None:
        finding = target.diag(policy.code, message, severity=policy.severity, hint=policy.hint)
    else:
        finding = positions.diag(
            target, policy.code, message, severity=policy.severity, hint=policy.hint
        )
    waiver = policy.waivers.get(target.ref)
    if waiver is not None:
        finding = finding.with_(waived=waiver.reason)
    yield finding


def compile_policies(index: Index, today: dt.date) -> tuple[list[CompiledPolicy], list[Diagnostic]]:
    """The valid policies of ``index``, compiled, with the waivers still in force; the findings
    of those that do not compile and of expired waivers."""
    found: list[Diagnostic] = []
    policies: list[CompiledPolicy] = []
    for doc in index.of_kind("Policy"):
        if not doc.valid:
            continue
        policy, errors = compile_policy(doc)
        found.extend(errors)
        if policy is not None:
            policies.append(policy)
            found.extend(_expired_waivers(policy, today))
            # an expired waiver no longer accepts anything
            policy.waivers = {k: w for k, w in policy.waivers.items() if w.expires >= today}
    return policies, found


def check_targets(
    policies: list[CompiledPolicy],
    targets: Iterable[Document],
    lookups: Lookups,
    fail: Failure = _runtime_error,
) -> Iterator[Any]:
    """Findings of ``policies`` on each valid target of a kind they match.

    Each target is converted to CEL once for all its policies, and only as far as the
    policies read it (see projection.py); the lookups hand over documents cut the same way.
    """
    by_kind: dict[str, list[CompiledPolicy]] = {}
    for policy in policies:
        for kind in policy.kinds:
            by_kind.setdefault(kind, []).append(policy)
    projection = Projection.of((s, p.kinds) for p in policies for s in p.sources())
    functions = lookups.functions(projection)
    positions = RootPositions()
    for target in targets:
        applicable = by_kind.get(target.kind)
        if not applicable or not target.valid:
            continue
        context = None
        for policy in applicable:
            if not policy.matches_labels(target.data):
                continue  # before any CEL: no conversion for entities no policy applies to
            if context is None:
                # the CEL library is loaded when a policy applies: a catalog without any skips it
                this = lookups.cut(projection, SELF + target.kind, target.data)
                context = cel_module().Context(variables={"self": this}, functions=functions)
            yield from _check(policy, target, context, positions, fail)


# --- in worker processes, for large catalogs ---------------------------------------------------

PARALLEL_FROM = 2000  # entities; below this, starting workers costs more than it saves
_WORK: tuple[list[CompiledPolicy], list[Document], Lookups] | None = None


@dataclass(frozen=True)
class _Failed:
    """A runtime error in a worker, reported by the parent in order (the cap is per policy)."""

    policy: int
    where: Field
    target: int
    message: str


def _check_slice(bounds: tuple[int, int]) -> list[Diagnostic | _Failed]:
    assert _WORK is not None
    policies, targets, lookups = _WORK
    policy_at = {id(p): i for i, p in enumerate(policies)}
    start, end = bounds
    target_at = {id(t): i for i, t in enumerate(targets[start:end], start)}

    def failed(
        policy: CompiledPolicy, where: Field, target: Document, error: ExpressionError
    ) -> list[_Failed]:
        return [_Failed(policy_at[id(policy)], where, target_at[id(target)], str(error))]

    return list(check_targets(policies, targets[start:end], lookups, failed))


def _check_parallel(
    policies: list[CompiledPolicy], targets: list[Document], lookups: Lookups, jobs: int
) -> Iterator[Diagnostic]:
    global _WORK  # handed to forked workers without pickling the catalog
    step = -(-len(targets) // jobs)
    bounds = [(i, min(i + step, len(targets))) for i in range(0, len(targets), step)]
    _WORK = (policies, targets, lookups)
    try:
        import multiprocessing  # only for catalogs large enough to share out
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            results = list(pool.map(_check_slice, bounds))
    finally:
        _WORK = None
    for items in results:
        for item in items:
            if isinstance(item, _Failed):
                error = ExpressionError(item.message)
                yield from _runtime_error(
                    policies[item.policy], item.where, targets[item.target], error
                )
            else:
                yield item


def _jobs(requested: int, targets: int) -> int:
    if not sys.platform.startswith("linux"):  # workers inherit the catalog by fork
        return 1
    if requested > 0:
        return requested
    if targets < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def evaluate_policies(
    index: Index, today: dt.date | None = None, lookups: Lookups | None = None, jobs: int = 1
) -> list[Diagnostic]:
    """Findings of every valid Policy in ``index`` over every valid entity of the kinds it
    matches; broken expressions and expired waivers are findings too, never exceptions.

    ``jobs`` worker processes share the entities (0: one per core for a large catalog); the
    findings are the same, in the same order, as in one process."""
    today = today or dt.date.today()
    policies, found = compile_policies(index, today)
    if not policies:
        return found
    lookups = lookups or Lookups(index, today)
    kinds = set().union(*(p.kinds for p in policies))
    targets = [d for d in index.by_ref.values() if d.valid and d.kind in kinds]
    workers = _jobs(jobs, len(targets))
    if workers > 1 and len(targets) > 1:
        found.extend(_check_parallel(policies, targets, lookups, workers))
    else:
        found.extend(check_targets(policies, targets, lookups))
    return found
