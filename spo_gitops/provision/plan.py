"""Planning, a pure function: desired resources vs state vs what providers read back.

``plan(desired, state, observed)`` returns a :class:`Plan`. Actions: create, update, replace,
delete and no-op, each with its reason and a field-level diff; drift (the provider's object differs
from what was last applied) is its own section and, like Argo CD's self-heal, planned back to the
catalog's values. An empty plan (only no-ops) means nothing to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from spo_gitops.providers.base import Observed, ResourceType
from spo_gitops.provision.resources import DesiredResource, properties_hash
from spo_gitops.redaction import REDACTED, Secrets, redact
from spo_gitops.state.base import ResourceState, StateSnapshot

ActionKind = Literal["create", "update", "replace", "delete", "no-op"]
FORMAT_VERSION = 1
__all__ = ["REDACTED", "redact"]  # the redaction rules live in spo_gitops.redaction
TypeLookup = Callable[[str, str], ResourceType | None]


@dataclass(frozen=True)
class Change:
    path: str  # JSON pointer below the properties
    before: Any
    after: Any


@dataclass(frozen=True)
class Action:
    address: str
    provider: str
    type: str
    name: str
    action: ActionKind
    reason: str
    id: str | None = None  # provider id of the existing object
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None  # sensitive values redacted
    after_hash: str | None = None  # hash of the full desired properties
    changes: tuple[Change, ...] = ()
    depends_on: tuple[str, ...] = ()
    protected: bool = False
    entity: str | None = None
    source: str | None = None  # file:line of the entity


@dataclass(frozen=True)
class Drift:
    address: str
    changes: tuple[Change, ...]
    missing: bool = False  # the object is gone at the provider


@dataclass
class Plan:
    lineage: str
    serial: int
    commit: str | None
    actions: list[Action] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # in state, not desired, pruning off
    kept: list[str] = field(default_factory=list)  # protected: never deleted
    refresh: bool = True
    prune: bool = False
    targets: tuple[str, ...] = ()
    partition: str | None = None  # the partition key the plan covers (None: everything)
    partition_fingerprint: str | None = None  # its resources in state when planned
    created: str = ""
    digest: str = ""
    signature: str | None = None

    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.action != "no-op"]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes())

    def summary(self) -> dict[str, int]:
        counts = {k: 0 for k in ("create", "update", "replace", "delete", "no-op")}
        for a in self.actions:
            counts[a.action] += 1
        counts["drift"] = len(self.drift)
        return counts


def diff_properties(
    before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = ""
) -> list[Change]:
    """Field-level differences, as JSON pointers, descending into mappings."""
    out: list[Change] = []
    for key in sorted(set(before) | set(after), key=str):
        path = f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}"
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            out.extend(diff_properties(old, new, path))
        else:
            out.append(
                Change(path, None if old is _MISSING else old, None if new is _MISSING else new)
            )
    return out


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _sensitive(types: TypeLookup, provider: str, type_: str) -> frozenset[str]:
    spec = types(provider, type_)
    return spec.sensitive if spec else frozenset()


def _drift(
    state: ResourceState, observed: Observed, sensitive: frozenset[str]
) -> tuple[Change, ...]:
    """What changed at the provider since the last apply (only fields spo manages)."""
    last = {k: v for k, v in state.properties.items() if k not in sensitive}
    actual = {k: observed.properties.get(k, None) for k in last}
    return tuple(diff_properties(last, actual))


def plan(
    desired: Iterable[DesiredResource],
    state: StateSnapshot,
    observed: Mapping[str, Observed | None] | None,
    *,
    types: TypeLookup,
    commit: str | None,
    prune: bool = False,
    targets: Iterable[str] = (),
) -> Plan:
    """The actions that bring the providers to ``desired``. Pure: reads nothing, writes nothing.

    ``observed`` maps addresses in state to what the provider read back (None: gone); pass None
    to plan without refresh. ``targets`` limits the plan to those addresses and what they depend on.
    """
    wanted = {r.address: r for r in desired}
    focus = _with_dependencies(wanted, list(targets)) if targets else None
    result = Plan(
        state.lineage,
        state.serial,
        commit,
        refresh=observed is not None,
        prune=prune,
        targets=tuple(sorted(targets)),
    )
    for addr in sorted(wanted):
        if focus is not None and addr not in focus:
            continue
        result.actions.append(
            _plan_one(wanted[addr], state.resources.get(addr), observed, types, result)
        )
    secrets = _secrets(wanted.values(), observed, types)
    for addr in sorted(set(state.resources) - set(wanted)):
        if focus is not None and addr not in focus:
            continue
        current = state.resources[addr]
        if current.protected:
            result.kept.append(addr)
        elif not prune:
            result.orphans.append(addr)
        else:
            result.actions.append(_delete(current))
    return _redacted(result, secrets)


def _delete(current: ResourceState) -> Action:
    return Action(
        current.address,
        current.provider,
        current.type,
        current.name,
        "delete",
        f"{current.entity or current.address} is no longer in the catalog (pruning is on)",
        id=current.id,
        before=dict(current.properties),
        changes=tuple(diff_properties(current.properties, {})),
        depends_on=current.depends_on,
        entity=current.entity,
    )


def _secrets(
    desired: Iterable[DesiredResource],
    observed: Mapping[str, Observed | None] | None,
    types: TypeLookup,
) -> Secrets:
    """The secret values of the desired resources, and those the providers read back."""
    secrets = Secrets()
    for res in desired:
        sensitive = _sensitive(types, res.provider, res.type)
        if sensitive:
            secrets.add_properties(res.properties, sensitive)
            seen = observed.get(res.address) if observed is not None else None
            if seen is not None:
                secrets.add_properties(seen.properties, sensitive)
    return secrets


def _redacted(result: Plan, secrets: Secrets) -> Plan:
    """The plan with every secret value replaced wherever it appears (a provider may echo one
    under a field that is not marked sensitive)."""
    if not secrets:
        return result

    def changes(items: tuple[Change, ...]) -> tuple[Change, ...]:
        return tuple(Change(c.path, secrets.data(c.before), secrets.data(c.after)) for c in items)

    result.actions = [
        replace(
            a,
            before=secrets.data(a.before),
            after=secrets.data(a.after),
            changes=changes(a.changes),
        )
        for a in result.actions
    ]
    result.drift = [replace(d, changes=changes(d.changes)) for d in result.drift]
    return result


def _common(res: DesiredResource, sensitive: frozenset[str]) -> dict[str, Any]:
    """The fields every action for ``res`` carries, whatever it does."""
    return {
        "address": res.address,
        "provider": res.provider,
        "type": res.type,
        "name": res.name,
        "after": redact(res.properties, sensitive),
        "after_hash": properties_hash(res.properties),
        "depends_on": res.depends_on,
        "protected": res.protected,
        "entity": res.source.entity if res.source else None,
        "source": f"{res.source.file}:{res.source.line}" if res.source else None,
    }


def _plan_one(
    res: DesiredResource,
    current: ResourceState | None,
    observed: Mapping[str, Observed | None] | None,
    types: TypeLookup,
    result: Plan,
) -> Action:
    """The action for one desired resource; its drift, if any, is added to ``result``."""
    sensitive = _sensitive(types, res.provider, res.type)
    common = _common(res, sensitive)
    created = tuple(diff_properties({}, common["after"]))
    if current is None:
        return Action(action="create", reason="not yet provisioned", changes=created, **common)
    before = dict(current.properties)
    seen = observed.get(res.address) if observed is not None else None
    if observed is not None and seen is None:
        result.drift.append(Drift(res.address, (), missing=True))
        reason = "deleted outside spo: recreate it"
        return Action(action="create", reason=reason, before=before, changes=created, **common)
    drift = _drift(current, seen, sensitive) if seen is not None else ()
    if drift:
        result.drift.append(Drift(res.address, drift))
    if common["after_hash"] != current.hash:
        return _changed(res, current, types, sensitive, common)
    if drift:
        fields = ", ".join(sorted({c.path.split("/")[1] for c in drift}))
        return Action(
            action="update",
            reason=f"drifted outside spo ({fields}): restore the catalog's values",
            id=current.id,
            before=redact({**before, **(seen.properties if seen else {})}, sensitive),
            changes=tuple(Change(c.path, c.after, c.before) for c in drift),
            **common,
        )
    return Action(action="no-op", reason="up to date", id=current.id, before=before, **common)


def _changed(
    res: DesiredResource,
    current: ResourceState,
    types: TypeLookup,
    sensitive: frozenset[str],
    common: dict[str, Any],
) -> Action:
    """The update (or replace, when a field that cannot change in place changed) of a resource
    whose properties in the catalog differ from those last applied."""
    before = dict(current.properties)
    changes = tuple(diff_properties(before, common["after"]))
    if not changes:  # only a sensitive value changed
        changes = tuple(Change(f"/{k}", REDACTED, REDACTED) for k in sorted(sensitive))
    fields = sorted({c.path.split("/")[1] for c in changes})
    spec = types(res.provider, res.type)
    forced = sorted(set(fields) & set(spec.replace_on if spec else ()))
    if forced:
        action: ActionKind = "replace"
        reason = f"{', '.join(forced)} cannot change in place"
    else:
        action, reason = "update", f"catalog changed: {', '.join(fields)}"
    return Action(
        action=action, reason=reason, id=current.id, before=before, changes=changes, **common
    )


def _with_dependencies(wanted: Mapping[str, DesiredResource], targets: list[str]) -> set[str]:
    """The targets and everything they depend on, transitively."""
    out: set[str] = set()
    todo = list(targets)
    while todo:
        addr = todo.pop()
        if addr in out:
            continue
        out.add(addr)
        if addr in wanted:
            todo.extend(wanted[addr].depends_on)
    return out
