"""The provider conformance kit: the rules of ``spo_gitops.providers.base``, checked for real.

A plain helper (no pytest plugin to register, so it runs from any test runner)::

    from spo_gitops.testing import Case, check_provider

    def test_my_provider_conforms(tmp_path):
        provider = MyProvider(MySettings(...), ProviderContext(tmp_path, tmp_path / ".spo"))
        check_provider(provider, [Case("widget", {"size": 1}, {"size": 2})])

Checks, each by name (``checks=`` selects a subset, ``skip=`` leaves some out):

- ``schema``: every declared type's schema is valid JSON Schema 2020-12 describing an object,
  and every case's properties satisfy it;
- ``lifecycle``: create -> read (equal) -> update -> read (equal) -> delete -> read is None;
- ``own-answers``: a provider never adopts an object it did not ask for: with two objects
  made, each create's answer carries its own name, an update's answer the id and name asked for
  and the other object is left as it was; and, when the author passes ``inject_foreign`` (a
  context manager under which the real backend answers writes with another object), create and
  update raise ProviderError instead of returning that object;
- ``idempotent-create``: create twice by name (a crash after the first answer) -> one object,
  same id;
- ``adopt``: an object created outside apply is found by ``list`` (name, id, properties);
- ``read-missing``: reading an id that does not exist returns None, for ``read`` and
  ``read_many``;
- ``delete-missing``: deleting an object twice, or one that never existed, succeeds;
- ``transient-retry``: the provider, made flaky by :class:`FlakyProvider` (it raises
  TransientProviderError on the first calls), succeeds under apply's retry policy without
  leaving a duplicate; and, when the author passes ``inject_transient`` (a context manager that
  makes the real backend fail transiently), the provider raises TransientProviderError (or
  recovers by itself) and leaves no duplicate.

Objects are created under names starting with ``case.name`` and deleted at the end.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from spo_gitops.providers.base import (
    Observed,
    Provider,
    ProviderError,
    ResourceType,
    TransientProviderError,
)

CHECKS = (
    "schema",
    "lifecycle",
    "own-answers",
    "idempotent-create",
    "adopt",
    "read-missing",
    "delete-missing",
    "transient-retry",
)


class ConformanceError(AssertionError):
    """A provider broke a rule of the contract."""


@dataclass(frozen=True)
class Case:
    """One resource type to exercise: valid properties, and different valid ones for update."""

    type: str
    properties: Mapping[str, Any]
    updated: Mapping[str, Any]
    name: str = "spo-conformance"
    missing_id: str = "spo-conformance-missing"  # an id of the provider's format that is unused
    same_id_on_update: bool = True  # False where update moves the object (files: a new path)


@dataclass
class FlakyProvider(Provider):
    """Wraps a provider: the first ``failures`` calls of each method raise
    TransientProviderError before reaching it, as a flaky network or a locked database would."""

    inner: Provider
    failures: int = 2
    calls: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = self.inner.settings
        self.context = self.inner.context
        self._lock = threading.Lock()

    def _gate(self, method: str) -> None:
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1
            count = self.calls[method]
        if count <= self.failures:
            raise TransientProviderError(f"injected transient failure {count} of {method}")

    def read(self, type_: str, id_: str) -> Observed | None:
        self._gate("read")
        return self.inner.read(type_, id_)

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self._gate("create")
        return self.inner.create(type_, name, properties)

    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self._gate("update")
        return self.inner.update(type_, id_, name, properties)

    def delete(self, type_: str, id_: str) -> None:
        self._gate("delete")
        self.inner.delete(type_, id_)

    def list(self, type_: str) -> list[Observed]:
        self._gate("list")
        return self.inner.list(type_)


def _fail(check: str, case: Case, message: str) -> ConformanceError:
    return ConformanceError(f"[{check}] {case.type}: {message}")


def _same(check: str, case: Case, got: Observed | None, want: Mapping[str, Any], what: str) -> None:
    if got is None:
        raise _fail(check, case, f"{what}: read returned None for an object that exists")
    # a provider may read back defaults it filled in (files: path = the name); the given
    # properties must come back exactly
    shown = {k: got.properties.get(k) for k in want}
    if shown != dict(want):
        raise _fail(check, case, f"{what}: read back {got.properties!r}, expected {dict(want)!r}")


def check_schemas(types: Mapping[str, ResourceType], cases: Iterable[Case] = ()) -> None:
    """Every type's schema is valid JSON Schema 2020-12 for an object; cases satisfy them."""
    for name in types:
        rtype = types[name]
        schema = dict(rtype.schema)
        if rtype.name != name:
            raise ConformanceError(f"[schema] {name}: ResourceType.name is {rtype.name!r}")
        if not jsonschema_rs.meta.is_valid(schema):
            raise ConformanceError(f"[schema] {name}: not a valid JSON Schema 2020-12")
        dialect = schema.get("$schema", "https://json-schema.org/draft/2020-12/schema")
        if dialect != "https://json-schema.org/draft/2020-12/schema":
            raise ConformanceError(f"[schema] {name}: $schema must be draft 2020-12")
        if schema.get("type") != "object":
            raise ConformanceError(f"[schema] {name}: the properties schema must be an object")
    for case in cases:
        if case.type not in types:
            raise ConformanceError(f"[schema] {case.type}: not among the provider's types")
        validator = jsonschema_rs.validator_for(dict(types[case.type].schema))
        for props in (case.properties, case.updated):
            errors = [e.message for e in validator.iter_errors(dict(props))]
            if errors:
                raise ConformanceError(f"[schema] {case.type}: case properties invalid: {errors}")


def _retrying() -> Retrying:
    from spo_gitops.provision.apply import (
        RetryPolicy,  # apply's own defaults, as an apply would retry
    )

    policy = RetryPolicy()
    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=0.01, max=0.05),  # apply's policy, with short waits
        retry=retry_if_exception_type(TransientProviderError),
        reraise=True,
    )


def check_provider(
    provider: Provider,
    cases: Sequence[Case],
    *,
    checks: Iterable[str] = CHECKS,
    skip: Iterable[str] = (),
    types: Mapping[str, ResourceType] | None = None,
    inject_transient: Callable[[], AbstractContextManager[object]] | None = None,
    inject_foreign: Callable[[], AbstractContextManager[object]] | None = None,
) -> list[str]:
    """Run the kit; returns the names of the checks that ran. ``types`` defaults to the
    provider's declared types (pass the configured ones for providers whose types come from
    settings)."""
    wanted = [c for c in checks if c not in set(skip)]
    unknown = set(wanted) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks: {sorted(unknown)}; known: {', '.join(CHECKS)}")
    if "schema" in wanted:
        check_schemas(types if types is not None else provider.types, cases)
    for case in cases:
        for check in wanted:
            if check == "own-answers":
                _own_answers(provider, case, inject_foreign)
            elif check != "schema":
                _CHECKS[check](provider, case, inject_transient)
    return wanted


def _cleanup(provider: Provider, case: Case, *names: str) -> None:
    for obj in provider.list(case.type):
        if obj.name in names:
            provider.delete(case.type, obj.id)


def _lifecycle(provider: Provider, case: Case, _: Any) -> None:
    check, name = "lifecycle", f"{case.name}-life"
    created = provider.create(case.type, name, case.properties)
    if created.name != name:
        raise _fail(check, case, f"create returned name {created.name!r}, expected {name!r}")
    _same(check, case, created, case.properties, "create's answer")
    _same(check, case, provider.read(case.type, created.id), case.properties, "after create")
    updated = provider.update(case.type, created.id, name, case.updated)
    if case.same_id_on_update and updated.id != created.id:
        raise _fail(check, case, f"update changed the id {created.id!r} -> {updated.id!r}")
    _same(check, case, updated, case.updated, "update's answer")
    _same(check, case, provider.read(case.type, updated.id), case.updated, "after update")
    provider.delete(case.type, updated.id)
    if provider.read(case.type, updated.id) is not None:
        raise _fail(check, case, "read after delete still finds the object")


def _own_answers(
    provider: Provider,
    case: Case,
    inject: Callable[[], AbstractContextManager[object]] | None,
) -> None:
    check = "own-answers"
    mine, other, third = f"{case.name}-mine", f"{case.name}-other", f"{case.name}-third"
    try:
        theirs = provider.create(case.type, other, case.properties)
        made = provider.create(case.type, mine, case.properties)
        for got, name in ((theirs, other), (made, mine)):
            if got.name != name:
                raise _fail(check, case, f"create of {name!r} answered {got.name!r}")
        if made.id == theirs.id:
            raise _fail(check, case, f"two names, one object ({made.id!r})")
        changed = provider.update(case.type, made.id, mine, case.updated)
        if changed.name != mine or (case.same_id_on_update and changed.id != made.id):
            raise _fail(
                check,
                case,
                f"update of {mine!r} (id {made.id!r}) answered {changed.name!r} "
                f"(id {changed.id!r})",
            )
        left = provider.read(case.type, theirs.id)
        if left is None or left.name != other:
            raise _fail(check, case, "an update of one object changed another")
        _same(check, case, left, case.properties, "the other object")
        if inject is not None:
            calls: list[tuple[str, Callable[[], Observed]]] = [
                ("create", lambda: provider.create(case.type, third, case.properties)),
                ("update", lambda: provider.update(case.type, changed.id, mine, case.properties)),
            ]
            for what, call in calls:
                with inject():
                    try:
                        got = call()
                    except ProviderError:
                        continue
                raise _fail(
                    check,
                    case,
                    f"{what} returned {got.name!r} (id {got.id!r}) though the backend answered "
                    "with another object",
                )
    finally:
        _cleanup(provider, case, mine, other, third)


def _named(provider: Provider, case: Case, name: str) -> list[Observed]:
    return [o for o in provider.list(case.type) if o.name == name]


def _idempotent(provider: Provider, case: Case, _: Any) -> None:
    check, name = "idempotent-create", f"{case.name}-twice"
    try:
        one = provider.create(case.type, name, case.properties)
        two = provider.create(case.type, name, case.properties)  # the rerun after a crash
        if two.id != one.id:
            raise _fail(check, case, f"a second create made a new object ({one.id} -> {two.id})")
        three = provider.create(case.type, name, case.updated)  # adopted and updated
        if case.same_id_on_update and three.id != one.id:
            raise _fail(check, case, f"create of changed properties made a new object ({one.id})")
        found = _named(provider, case, name)
        if len(found) != 1:
            raise _fail(check, case, f"{len(found)} objects named {name!r} after three creates")
        _same(check, case, provider.read(case.type, three.id), case.updated, "the adopted object")
    finally:
        _cleanup(provider, case, name)


def _adopt(provider: Provider, case: Case, _: Any) -> None:
    check, name = "adopt", f"{case.name}-adopt"
    try:
        made = provider.create(case.type, name, case.properties)
        found = _named(provider, case, name)
        if [o.id for o in found] != [made.id]:
            raise _fail(check, case, f"list finds {[o.id for o in found]}, expected [{made.id}]")
        _same(check, case, found[0], case.properties, "list's entry")
        many = provider.read_many(case.type, [made.id])
        _same(check, case, many.get(made.id), case.properties, "read_many")
    finally:
        _cleanup(provider, case, name)


def _read_missing(provider: Provider, case: Case, _: Any) -> None:
    if provider.read(case.type, case.missing_id) is not None:
        raise _fail("read-missing", case, f"read({case.missing_id!r}) is not None")
    many = provider.read_many(case.type, [case.missing_id])
    if many != {case.missing_id: None}:
        raise _fail("read-missing", case, f"read_many of a missing id gave {many!r}")


def _delete_missing(provider: Provider, case: Case, _: Any) -> None:
    provider.delete(case.type, case.missing_id)
    made = provider.create(case.type, f"{case.name}-gone", case.properties)
    provider.delete(case.type, made.id)
    provider.delete(case.type, made.id)  # twice: already gone is success
    if provider.read(case.type, made.id) is not None:
        raise _fail("delete-missing", case, "the object is still there")


def _transient(
    provider: Provider,
    case: Case,
    inject: Callable[[], AbstractContextManager[object]] | None,
) -> None:
    check, name = "transient-retry", f"{case.name}-flaky"
    flaky = FlakyProvider(provider, failures=2)
    try:
        made = _retrying()(lambda: flaky.create(case.type, name, case.properties))
        _same(
            check,
            case,
            _retrying()(lambda: flaky.read(case.type, made.id)),
            case.properties,
            "after retried create",
        )
        if len(_named(provider, case, name)) != 1:
            raise _fail(check, case, "retried create left other than one object")
        if inject is not None:
            # TransientProviderError is the right kind of error: apply retries it
            with inject(), contextlib.suppress(TransientProviderError):
                provider.create(case.type, name, case.updated)
            again = provider.create(case.type, name, case.updated)
            if again.id != made.id or len(_named(provider, case, name)) != 1:
                raise _fail(check, case, "a create during a transient fault left a duplicate")
    finally:
        _cleanup(provider, case, name)


_CHECKS: dict[str, Callable[[Provider, Case, Any], None]] = {
    "lifecycle": _lifecycle,
    "idempotent-create": _idempotent,
    "adopt": _adopt,
    "read-missing": _read_missing,
    "delete-missing": _delete_missing,
    "transient-retry": _transient,
}
