"""Entity-level diff of the catalog between two revisions, read from git without a checkout."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import ValidationError

from spo_gitops.catalog import YAML_SUFFIXES, Document, check_document, discover, load_file
from spo_gitops.config import CONFIG_NAME, Project, ProjectConfig
from spo_gitops.diagnostics import Diagnostic, Findings, pointer_join
from spo_gitops.git import Repository, join, repository
from spo_gitops.loading.yamlfast import decode, parse_text
from spo_gitops.references import Index, build_index

Status = Literal["added", "removed", "renamed", "changed"]
STATUSES: tuple[Status, ...] = ("added", "removed", "renamed", "changed")
WORKING_TREE = "working tree"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # an absent value on one side of a field change


@dataclass
class Snapshot:
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
    base: Snapshot
    head: Snapshot
    changes: list[EntityChange]
    findings: Findings = field(default_factory=Findings)
    impact: dict[str, list[str]] = field(default_factory=dict)  # ref -> refs that depend on it

    @property
    def changed(self) -> bool:
        return bool(self.changes)


# --- reading a revision -------------------------------------------------------------------------


def _documents(
    text: str, display: str, project: Project
) -> tuple[list[Document], list[Diagnostic]]:
    parsed = parse_text(text, display, project.limits)
    docs, found = [], list(parsed.diagnostics)
    for raw in parsed.documents:
        if raw.broken or not isinstance(raw.data, dict):
            continue
        doc = Document(display, display, raw.index, raw.line, raw.data, raw.node)
        check_document(doc)
        docs.append(doc)
    return docs, found


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


def _wanted(display: str, config: ProjectConfig) -> bool:
    path = PurePosixPath(display)
    if not path.name.endswith(YAML_SUFFIXES) or any(p.startswith(".") for p in path.parts):
        return False
    exclude = [*config.catalog.exclude, *config.policies.exclude]
    return not any(fnmatch.fnmatch(display, pat) for pat in exclude)


def read_revision(project: Project, repo: Repository, rev: str) -> Snapshot:
    """The catalog at ``rev``: spo.yaml and the catalog files read from git's objects."""
    commit = repo.resolve(rev)
    prefix = repo.relative(project.root)
    config = _config_at(repo, commit, prefix, project)
    roots = [join(prefix, p) for p in (*config.catalog.paths, *config.policies.paths)]
    docs: list[Document] = []
    found: list[Diagnostic] = []
    for path in repo.files(commit, roots):
        display = path[len(prefix) + 1 :] if prefix else path
        if not _wanted(display, config):
            continue
        data = repo.read(commit, path) or b""
        if len(data) > project.limits.max_file_size:
            continue
        text, problem = decode(data, display)
        if text is None:
            found.extend([problem] if problem else [])
            continue
        file_docs, file_found = _documents(text, display, project)
        docs.extend(file_docs)
        found.extend(file_found)
    index, _ = build_index(docs)
    return Snapshot(commit, docs, index, config, found)


def read_working_tree(project: Project) -> Snapshot:
    config = project.config
    roots = [project.root / p for p in (*config.catalog.paths, *config.policies.paths)]
    docs: list[Document] = []
    found: list[Diagnostic] = []
    for path in discover(roots, [*config.catalog.exclude, *config.policies.exclude]):
        file_docs, file_found = load_file(str(path), project.display(path), project.limits)
        docs.extend(file_docs)
        found.extend(d for d in file_found if d.code.startswith("SPO1"))
    index, _ = build_index(docs)
    return Snapshot(WORKING_TREE, docs, index, config, found)


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


def _entities(snapshot: Snapshot) -> dict[tuple[str, str], Document]:
    out: dict[tuple[str, str], Document] = {}
    for doc in snapshot.documents:
        if doc.kind and doc.name:
            out.setdefault((doc.kind, doc.name), doc)
    return out


def _same_but_name(a: Document, b: Document) -> bool:
    return a.kind == b.kind and (a.data.get("spec") == b.data.get("spec") or a.file == b.file)


def diff_snapshots(base: Snapshot, head: Snapshot) -> list[EntityChange]:
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


def compare(project: Project, base: str, head: str | None = None) -> CatalogDiff:
    """The diff from ``base`` to ``head`` (default: the working tree), with the versioning and
    lifecycle findings and the impact of each change."""
    from spo_gitops import impact, lifecycle, versioning

    with repository(project.root) as repo:
        before = read_revision(project, repo, base)
        after = read_working_tree(project) if head is None else read_revision(project, repo, head)
    result = CatalogDiff(before, after, diff_snapshots(before, after))
    result.findings.extend(versioning.check(result))
    result.findings.extend(lifecycle.check(result, project.config.lifecycle))
    result.findings.items = result.findings.sorted()
    result.impact = impact.analyse(result)
    return result
