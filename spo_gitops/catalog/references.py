"""Checks across documents: unique names, references that resolve, dependency cycles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Index as Index  # re-exported: it used to live here
from spo_gitops.catalog.index import Scope
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models import KIND_MODELS

# Where each kind refers to others: path (``*`` = every list item, ``@`` = every mapping key),
# the kind referred to, and the Party types accepted (None: any).
RefRule = tuple[tuple[str, ...], str, frozenset[str] | None]
TEAM = frozenset({"team"})
SUPPLIER = frozenset({"supplier"})
_OWNER: RefRule = (("metadata", "owner"), "Party", TEAM)
REFERENCES: dict[str, list[RefRule]] = {
    "Party": [_OWNER],
    "ResourcePool": [_OWNER, (("spec", "provider"), "Party", None)],
    "ServiceModel": [
        _OWNER,
        (("spec", "resources", "*", "pool"), "ResourcePool", None),
        (("spec", "dependsOn", "*"), "ServiceModel", None),
        (("spec", "suppliers", "*"), "Party", SUPPLIER),
    ],
    "PortfolioEntry": [_OWNER, (("spec", "service"), "ServiceModel", None)],
    "ServiceProviderInterface": [
        _OWNER,
        (("spec", "provider"), "Party", None),
        (("spec", "consumers", "*"), "Party", None),
        (("spec", "services", "*"), "ServiceModel", None),
        (("spec", "processes", "*", "activities", "*", "raci", "@"), "Party", None),
        (("spec", "escalation", "*", "party"), "Party", None),
    ],
    "ServiceLevelAgreement": [
        _OWNER,
        (("spec", "service"), "ServiceModel", None),
        (("spec", "customer"), "Party", None),
        (("spec", "provider"), "Party", None),
        (("spec", "window", "calendar"), "HolidayCalendar", None),
    ],
    "HolidayCalendar": [_OWNER],
    "Policy": [_OWNER, (("spec", "waivers", "*", "entity"), "*", None)],
    "Risk": [
        _OWNER,
        (("spec", "services", "*"), "ServiceModel", None),
        (("spec", "suppliers", "*"), "Party", SUPPLIER),
    ],
    "ImprovementPlan": [
        _OWNER,
        (("spec", "service"), "ServiceModel", None),
        (("spec", "trigger", "objectives", "*", "sla"), "ServiceLevelAgreement", None),
        (("spec", "trigger", "risk"), "Risk", None),
        (("spec", "actions", "*", "owner"), "Party", None),
    ],
}


def build_index(docs: list[Document]) -> tuple[Index, list[Diagnostic]]:
    by_ref: dict[tuple[str, str], Document] = {}
    found = []
    for doc in docs:
        if not doc.valid:
            if doc.kind in KIND_MODELS and doc.name:
                by_ref.setdefault((doc.kind, doc.name), doc)  # known, though invalid
            continue
        key = (doc.kind, doc.name)
        first = by_ref.get(key)
        if first is not None and first.valid:
            found.append(
                doc.diag(
                    "SPO301",
                    f"{doc.kind} {doc.name!r} is already defined at "
                    f"{first.file}:{first.position(['metadata', 'name'])[0]}",
                    ["metadata", "name"],
                    hint="names are unique per kind: rename one of them",
                )
            )
            continue
        by_ref[key] = doc
    return Index(by_ref), found


Found = tuple[tuple[str, ...], object, bool]  # (location, value, is_key)


def _walk(data: object, path: tuple[str, ...], trail: tuple[str, ...] | None = ()) -> list[Found]:
    """(location, value, is_key) for every value at ``path`` (``@``: the keys there, whatever
    follows it); with ``trail=None`` the locations are left empty: they cost a tuple per level,
    and most callers need them only for a finding. A loop over levels, not recursive
    generators: it runs for every reference of every document."""
    if trail is None:
        values: list[object] = [data]
        for head in path:
            if head == "@":
                return [((), key, True) for d in values if isinstance(d, dict) for key in d]
            if head == "*":
                values = [item for d in values if isinstance(d, list) for item in d]
            else:
                values = [d[head] for d in values if isinstance(d, dict) and head in d]
        return [((), value, False) for value in values]
    level: list[tuple[tuple[str, ...], object]] = [(trail, data)]
    for head in path:
        step: list[tuple[tuple[str, ...], object]] = []
        if head == "@":
            return [
                ((*where, key), key, True) for where, d in level if isinstance(d, dict) for key in d
            ]
        for where, d in level:
            if head == "*":
                if isinstance(d, list):
                    step.extend(((*where, str(i)), item) for i, item in enumerate(d))
            elif isinstance(d, dict) and head in d:
                step.append(((*where, head), d[head]))
        level = step
    return [(where, value, False) for where, value in level]


def check_references(docs: list[Document], index: Index) -> Iterator[Diagnostic]:
    for doc in docs:
        if not doc.valid:
            continue
        for path, target, types in REFERENCES.get(doc.kind, []):
            for _where, value, _is_key in _walk(doc.data, path, None):
                if value is not None and not _resolves(index, str(value), target, types):
                    break
            else:
                continue
            # a finding: walk again for the places
            for where, value, is_key in _walk(doc.data, path):
                if value is None:
                    continue
                yield from _check_one(doc, index, list(where), str(value), target, types, is_key)


def _resolves(index: Index, value: str, target: str, types: frozenset[str] | None) -> bool:
    """Whether :func:`_check_one` finds nothing wrong with the reference (without its place)."""
    if target == "*":
        target, _, value = value.partition(":")
        if target not in KIND_MODELS:
            return False
    if index.get(target, value) is None:
        return False
    if types is None:
        return True
    kind = index.party_type(value)
    return kind is None or kind in types


def _check_one(
    doc: Document,
    index: Index,
    where: list[str],
    value: str,
    target: str,
    types: frozenset[str] | None,
    is_key: bool,
) -> Iterator[Diagnostic]:
    if target == "*":
        target, _, value = value.partition(":")
        if target not in KIND_MODELS:
            yield doc.diag(
                "SPO305",
                f"unknown kind {target!r} in reference",
                where,
                hint="write Kind:name with one of: " + ", ".join(sorted(KIND_MODELS)),
            )
            return
    found = index.get(target, value)
    if found is None:
        others = [
            k for k in KIND_MODELS if index.get(k, value) not in (None, doc) and k != doc.kind
        ]
        hint = (
            f"{value!r} is a {' and a '.join(others)}, not a {target}"
            if others
            else f"define a {target} named {value!r}, or fix the name"
        )
        yield doc.diag(
            "SPO302" if not others else "SPO303",
            f"{target} {value!r} does not exist",
            where,
            hint=hint,
            key=is_key,
        )
        return
    kind = index.party_type(value) if types is not None else None  # a valid Party's type
    if types is not None and kind is not None and kind not in types:
        yield doc.diag(
            "SPO303",
            f"Party {value!r} is a {kind}, expected a {' or '.join(sorted(types))}",
            where,
            key=is_key,
            hint=f"name a Party whose spec.type is {' or '.join(sorted(types))}",
        )


def check_cycles(index: Index) -> Iterator[Diagnostic]:
    """Every dependency cycle among services, once, with its whole path."""
    graph: dict[str, list[str]] = defaultdict(list)
    for doc in index.of_kind("ServiceModel"):
        deps = (doc.fact("spec", "dependsOn") or []) if doc.valid else []
        graph[doc.name] = [d for d in deps if index.get("ServiceModel", d) is not None]
    for cycle in find_cycles(graph):
        first = index.get("ServiceModel", cycle[0])
        assert first is not None
        position = graph[cycle[0]].index(cycle[1 % len(cycle)])
        yield first.diag(
            "SPO304",
            "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
            ["spec", "dependsOn", str(position)],
            hint="a service cannot depend on itself, directly or through others",
        )


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Cycles closed by the back edges of a depth-first search: at least one for every group of
    services that depend on each other, each once, rotated to start at its least node.
    Iterative, so that long dependency chains never hit the recursion limit."""
    seen: set[tuple[str, ...]] = set()
    cycles = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in sorted(graph):
        if root in state:
            continue
        stack: list[str] = [root]
        iters = [iter(graph.get(root, []))]
        state[root] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[stack.pop()] = 2
                iters.pop()
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                start = cycle.index(min(cycle))
                rotated = tuple(cycle[start:] + cycle[:start])
                if rotated not in seen:
                    seen.add(rotated)
                    cycles.append(list(rotated))
            elif nxt not in state:
                state[nxt] = 1
                stack.append(nxt)
                iters.append(iter(graph.get(nxt, [])))
    return cycles


def check_portfolio(index: Index, scope: Scope | None = None) -> Iterator[Diagnostic]:
    """Each service has exactly one portfolio entry (of the entries and services of ``scope``,
    None: all)."""
    entries = index.entries  # service -> its first entry
    for extra in index.subjects("PortfolioEntry", scope):
        service = extra.data["spec"]["service"] if extra.valid else None
        first = entries.get(service) if isinstance(service, str) else None
        if first is not None and first is not extra:
            yield extra.diag(
                "SPO306",
                f"service {service!r} already has the portfolio entry {first.name!r}",
                ["spec", "service"],
                hint="a service stands at one place in the portfolio: merge the entries",
            )
    for doc in index.subjects("ServiceModel", scope):
        if doc.valid and doc.name not in entries:
            yield doc.diag(
                "SPO307",
                f"service {doc.name!r} has no PortfolioEntry",
                ["metadata", "name"],
                severity="warning",
                hint="add a PortfolioEntry with spec.service: " + doc.name,
            )
