"""Entity-level diff of the catalog between two revisions, read from git without a checkout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from spo_gitops.catalog import files as catalog_files
from spo_gitops.catalog import heap
from spo_gitops.catalog.documents import Document, load_file, load_text
from spo_gitops.catalog.loader import decode, parse_text
from spo_gitops.catalog.references import Index, build_index
from spo_gitops.config import CONFIG_NAME, Project, ProjectConfig
from spo_gitops.diagnostics import Diagnostic, Findings, pointer_join
from spo_gitops.git import Repository, join

Status = Literal["added", "removed", "renamed", "changed"]
STATUSES: tuple[Status, ...] = ("added", "removed", "renamed", "changed")
WORKING_TREE = "working tree"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # an absent value on one side of a field change


@dataclass
class CatalogSnapshot:
    """The catalog at one revision (or in the working tree)."""

    label: str  # the commit id, or WORKING_TREE
    documents: list[Document]
    index: Index
    config: ProjectConfig
    diagnostics: list[Diagnostic] = field(default_factory=list)  # files that do not parse


@dataclass(frozen=True)
class FieldChange:
    pointer: str
    old: Any
    new: Any

    @property
    def op(self) -> Literal["add", "remove", "replace"]:
        if self.old is MISSING:
            return "add"
        if self.new is MISSING:
            return "remove"
        return "replace"


@dataclass
class EntityChange:
    kind: str
    name: str  # the name in HEAD (the old name for a removed entity)
    status: Status
    old: Document | None
    new: Document | None
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def old_name(self) -> str | None:
        return self.old.name if self.old is not None else None

    @property
    def spec_changed(self) -> bool:
        return any(f.pointer == "/spec" or f.pointer.startswith("/spec/") for f in self.fields)


@dataclass
class CatalogDiff:
    base: CatalogSnapshot
    head: CatalogSnapshot
    changes: list[EntityChange]
    findings: Findings = field(default_factory=Findings)
    impact: dict[str, list[str]] = field(default_factory=dict)  # ref -> refs that depend on it

    @property
    def changed(self) -> bool:
        return bool(self.changes)


# --- reading a revision -------------------------------------------------------------------------


def _config_at(repo: Repository, rev: str, prefix: str, project: Project) -> ProjectConfig:
    name = project.config_file.name if project.config_file else CONFIG_NAME
    data = repo.read(rev, join(prefix, name))
    if data is None:
        return project.config
    text, _ = decode(data, name)
    parsed = parse_text(text or "", name, project.limits)
    docs = [d for d in parsed.documents if not d.broken and isinstance(d.data, dict)]
    try:
        return ProjectConfig.model_validate(docs[0].data) if docs else project.config
    except ValidationError:
        return project.config  # a broken spo.yaml at the base: read it as today's


def _syntax_only(found: list[Diagnostic]) -> list[Diagnostic]:
    # a snapshot keeps the files that do not parse; the rest is validate's business
    return [d for d in found if d.code.startswith("SPO1")]


def read_revision(project: Project, repo: Repository, rev: str) -> CatalogSnapshot:
    """The catalog at ``rev``: spo.yaml and the catalog files read from git's objects."""
    with heap.bulk():
        return _read_revision(project, repo, rev)


def _read_revision(project: Project, repo: Repository, rev: str) -> CatalogSnapshot:
    commit = repo.resolve(rev)
    prefix = repo.relative(project.root)
    config = _config_at(repo, commit, prefix, project)
    docs: list[Document] = []
    found: list[Diagnostic] = []
    files = catalog_files.revision_files(repo, commit, prefix, config)
    contents = repo.read_many(commit, [f.path for f in files])
    for file in files:
        data = contents[file.path] or b""
        if len(data) > project.limits.max_file_size:
            continue
        text, problem = decode(data, file.display)
        if text is None:
            found.extend([problem] if problem else [])
            continue
        file_docs, file_found = load_text(text, file.display, project.limits)
        docs.extend(file_docs)
        found.extend(_syntax_only(file_found))
    index, _ = build_index(docs)
    return CatalogSnapshot(commit, docs, index, config, found)


def read_working_tree(project: Project) -> CatalogSnapshot:
    with heap.bulk():
        return _read_working_tree(project)


def _read_working_tree(project: Project) -> CatalogSnapshot:
    docs: list[Document] = []
    discovered = catalog_files.worktree(project)
    found: list[Diagnostic] = list(discovered.diagnostics)
    for file in discovered.files:
        file_docs, file_found = load_file(file.path, file.display, project.limits)
        docs.extend(file_docs)
        found.extend(_syntax_only(file_found))
    index, _ = build_index(docs)
    return CatalogSnapshot(WORKING_TREE, docs, index, project.config, found)


# --- comparing -----------------------------------------------------------------------------------


def field_changes(old: Any, new: Any, trail: tuple[str, ...] = ()) -> Iterator[FieldChange]:
    """Leaf-level changes from ``old`` to ``new``, each at its JSON pointer.

    Mappings are compared key by key, lists of mappings item by item; a list of plain values
    (dependsOn, capabilities) is one value, shown whole."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            yield from field_changes(old.get(key, MISSING), new.get(key, MISSING), (*trail, key))
        return
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and any(isinstance(x, dict | list) for x in [*old, *new])
    ):
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else MISSING
            b = new[i] if i < len(new) else MISSING
            yield from field_changes(a, b, (*trail, str(i)))
        return
    yield FieldChange(pointer_join(trail), old, new)


def _entities(snapshot: CatalogSnapshot) -> dict[tuple[str, str], Document]:
    out: dict[tuple[str, str], Document] = {}
    for doc in snapshot.documents:
        if doc.kind and doc.name:
            out.setdefault((doc.kind, doc.name), doc)
    return out


def _same_but_name(a: Document, b: Document) -> bool:
    return a.kind == b.kind and (a.data.get("spec") == b.data.get("spec") or a.file == b.file)


def diff_snapshots(base: CatalogSnapshot, head: CatalogSnapshot) -> list[EntityChange]:
    """Added, removed, renamed and changed entities, ordered by kind and name."""
    old, new = _entities(base), _entities(head)
    removed = [k for k in old if k not in new]
    added = [k for k in new if k not in old]
    changes: list[EntityChange] = []
    for key in removed:
        before = old[key]
        # a rename: the same spec under another name, or another name in the same file
        match = next((k for k in added if _same_but_name(before, new[k])), None)
        if match is None:
            changes.append(EntityChange(key[0], key[1], "removed", before, None))
            continue
        added.remove(match)
        after = new[match]
        fields = list(field_changes(before.data, after.data))
        changes.append(EntityChange(match[0], match[1], "renamed", before, after, fields))
    for key in added:
        changes.append(EntityChange(key[0], key[1], "added", None, new[key]))
    for key, before in old.items():
        now = new.get(key)
        if now is not None and before.data != now.data:
            fields = list(field_changes(before.data, now.data))
            changes.append(EntityChange(key[0], key[1], "changed", before, now, fields))
    changes.sort(key=lambda c: (c.kind, c.name))
    return changes
