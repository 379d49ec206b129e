"""Impact analysis: what depends on each changed entity.

Dependents are found through the same reference table that validation checks
(``references.REFERENCES``): services through ``dependsOn``, SLAs, SPIs and portfolio entries
through their ``service``, the consumers of a pool through ``resources[].pool``, and so on.
Ownership (``metadata.owner``) is left out: every entity refers to its team, which says nothing
about the impact of a change to the team's record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from spo_gitops.catalog.documents import Document, EntityKey
from spo_gitops.catalog.references import REFERENCES, _walk

if TYPE_CHECKING:
    from spo_gitops.review.diff import CatalogDiff


def reverse_references(
    docs: Iterable[Document], *, owners: bool = False
) -> dict[EntityKey, set[EntityKey]]:
    """(kind, name) -> the entities that refer to it."""
    out: dict[EntityKey, set[EntityKey]] = defaultdict(set)
    for doc in docs:
        if not doc.kind or not doc.name:
            continue
        for path, target, _types in REFERENCES.get(doc.kind, []):
            if path == ("metadata", "owner") and not owners:
                continue
            for _where, value, _is_key in _walk(doc.data, path):
                if not isinstance(value, str):
                    continue
                kind, name = target, value
                if target == "*":
                    kind, _, name = value.partition(":")
                if (kind, name) != (doc.kind, doc.name):
                    out[(kind, name)].add((doc.kind, doc.name))
    return out


def analyse(diff: CatalogDiff) -> dict[str, list[str]]:
    """``Kind:name`` of each changed entity -> ``Kind:name`` of what depends on it (in head, and
    for removed entities in base), sorted."""
    head = reverse_references(diff.head.documents)
    base = reverse_references(diff.base.documents)
    out: dict[str, list[str]] = {}
    for change in diff.changes:
        refs: set[EntityKey] = set()
        if change.new is not None:
            refs |= head.get((change.kind, change.name), set())
        if change.old is not None:
            old = base.get((change.kind, change.old.name), set())
            refs |= old if change.new is None else {r for r in old if _exists(diff, r)}
        refs.discard((change.kind, change.name))
        if refs:
            out[change.ref] = sorted(f"{k}:{n}" for k, n in refs)
    return out


def _exists(diff: CatalogDiff, ref: EntityKey) -> bool:
    return diff.head.index.get(*ref) is not None
