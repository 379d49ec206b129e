"""Evaluate Policy documents over the catalog: match, assert, message, waivers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import cel

from spo_gitops.catalog import Document
from spo_gitops.diagnostics import Diagnostic, Severity
from spo_gitops.policy.expressions import (
    Expression,
    ExpressionError,
    Template,
    compile_expression,
    compile_template,
)
from spo_gitops.policy.lookups import FUNCTION_NAMES, Lookups
from spo_gitops.references import Index

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
                    hint="see the README's Policies section for the CEL functions available",
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


def _check(policy: CompiledPolicy, target: Document, context: Any) -> Iterator[Diagnostic]:
    if not policy.matches_labels(target.data):
        return
    if policy.condition is not None:
        try:
            applies = policy.condition.run(context)
        except ExpressionError as e:
            yield from _runtime_error(policy, "condition", target, e)
            return
        if applies is not True:
            return
    try:
        ok = policy.assertion.run(context)
    except ExpressionError as e:
        yield from _runtime_error(policy, "assert", target, e)
        return
    if not isinstance(ok, bool):
        yield from _runtime_error(
            policy, "assert", target, ExpressionError(f"returned {ok!r}, not a bool")
        )
        return
    if ok:
        return
    finding = target.diag(
        policy.code,
        policy.message.render(context),
        severity=policy.severity,
        hint=policy.hint,
    )
    waiver = policy.waivers.get(target.ref)
    if waiver is not None:
        finding = finding.with_(waived=waiver.reason)
    yield finding


def evaluate_policies(index: Index, today: dt.date | None = None) -> list[Diagnostic]:
    """Findings of every valid Policy in ``index`` over every valid entity of the kinds it
    matches; broken expressions and expired waivers are findings too, never exceptions."""
    today = today or dt.date.today()
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
    if not policies:
        return found
    functions = Lookups(index, today).functions()
    kinds = set().union(*(p.kinds for p in policies))
    for (kind, _), target in index.by_ref.items():
        if kind not in kinds or not target.valid:
            continue
        applicable = [p for p in policies if kind in p.kinds]
        # One context per entity: the document is converted to CEL once for all policies.
        context = cel.Context(variables={"self": target.data}, functions=functions)
        for policy in applicable:
            found.extend(_check(policy, target, context))
    return found
