"""``spo validate --changed-since REV``: validate what changed since REV and what it touches.

The files that differ between REV and the working tree (untracked catalog files included) are
*changed*; the entities they define, now and at REV, are the changed entities. Validated with
them are the files of every entity that refers to a changed entity (its referrers, owners
included) and of every entity a changed entity refers to, now or at REV (a policy on a service
reads its SLAs, a pool's capacity depends on its consumers), and, for a changed Party, of every
SPI whose process roles and every portfolio entry whose approvals name it or a member it lists,
now or at REV (a role is held, an approval given, by a Party or a member of one). Those are the
*touched* files: their findings are exactly those of a full run, restricted to them.

Cross-document checks (duplicate names, references, cycles, portfolio entries, policies) read
every entity, not only the touched ones (they report on the touched ones alone: the scope of
``catalog_checks``). Parsing 10,000 files for that takes seconds, so the
documents of the unchanged files come from a cache in ``.spo/index.bin``, keyed by path and git
blob id (``git ls-tree REV`` gives the ids of the unchanged files for free: their content is
REV's). A cache entry holds what the checks read of a document: kind, name, whether it passed its
schema, the entities it refers to and, for a valid document, its facts (the fields catalog-wide
work reads of every document of its kind: catalog/documents.py) and its data, which is decoded
only when a check reads more than the facts (the touched documents, what a policy looks up): a
warm run builds a few hundred documents' data, not the catalog's. The cache is rewritten
atomically when entries were added or dropped; it is discarded whole when the toolkit (its
source, or any library installed: catalog/toolkit.py) or the limits change. Cold, a run costs
a full validation; warm, it parses the touched files only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from spo_gitops.catalog import files as catalog_files
from spo_gitops.catalog import heap, toolkit
from spo_gitops.catalog.checks import ROLES
from spo_gitops.catalog.documents import FACTS, Document, EntityKey, check_document, facts_of
from spo_gitops.catalog.index import Scope
from spo_gitops.catalog.loader import decode, parse_text
from spo_gitops.catalog.references import (
    REFERENCES,
    Index,
    _walk,
    build_index,
)
from spo_gitops.catalog.validate import (
    LoadProgress,
    ValidationResult,
    catalog_checks,
    load_all,
    provider_settings,
)
from spo_gitops.catalog.validate import validate as validate_all
from spo_gitops.config import WORK_FOLDER, Project, ProjectConfig
from spo_gitops.diagnostics import Diagnostic, Findings
from spo_gitops.errors import CatalogLoadError
from spo_gitops.fsutil import read_sealed, write_sealed
from spo_gitops.git import Repository, join, repository
from spo_gitops.models import KIND_MODELS
from spo_gitops.policy import PoolUsage, evaluate_policies
from spo_gitops.policy.capacity import check_capacity, pool_usage
from spo_gitops.policy.engine import check_targets, compile_policies
from spo_gitops.policy.lookups import Lookups

CACHE_DIR = WORK_FOLDER
CACHE_FILE = "index.bin"
# 2: the names of roles and members in references; 3: of approvers too; 4: marshal, not JSON,
# and whether a file is clean; 5: facts beside each entry, data decoded per file on demand
CACHE_FORMAT = 5


@dataclass
class ChangedResult(ValidationResult):
    """A validation restricted to the touched files (``files``), with how it came about."""

    changed: list[str] = field(default_factory=list)  # files changed since REV, as displayed
    cache_hits: int = 0
    cache_misses: int = 0
    full: bool = False  # spo.yaml changed: everything was validated


# A name that is no reference but that a Party change reaches: an SPI's process role is held by a
# Party or a member one lists (catalog/checks.py), and so is an approval of a portfolio entry
# given (review/lifecycle.py), so (NAME, holder) is in the SPI's or entry's references and (NAME,
# member) in a Party's; a changed Party touches the SPIs and entries naming it or its members.
NAME = "name"
_NAMES: dict[str, list[tuple[str, ...]]] = {
    "ServiceProviderInterface": list(ROLES.values()),
    "PortfolioEntry": [("spec", "approvals", "*", "approver")],
    "Party": [("spec", "members", "*")],
}


def outgoing(kind: str, data: dict[str, Any], *, owners: bool = True) -> list[EntityKey]:
    """The entities a document refers to, through the fields validation checks, and the names
    of :data:`NAME`."""
    out: list[EntityKey] = []
    for path in _NAMES.get(kind, []):
        out.extend(
            (NAME, v) for _where, v, _is_key in _walk(data, path, None) if isinstance(v, str)
        )
    for path, target, _types in REFERENCES.get(kind, []):
        if path == ("metadata", "owner") and not owners:
            continue
        for _where, value, _is_key in _walk(data, path, None):
            if not isinstance(value, str):
                continue
            if target == "*":
                ref_kind, _, name = value.partition(":")
                out.append((ref_kind, name))
            else:
                out.append((target, value))
    return out


# --- the cache ---------------------------------------------------------------------------------

Entry = list[Any]  # [index, line, valid, kind, name, refs, facts or None]

# The cache file: MAGIC, the fingerprint (64 hex digits), the SHA-256 of the body, the body
# (marshal of {path: [blob id, [entry per document], clean, data]}, where data is the marshal of
# [data or None per document]: plain data only, the documents' data kept as bytes until read).
MAGIC = b"spo-index\n"


def _fingerprint(project: Project) -> str:
    """The cache's format, the toolkit (catalog/toolkit.py: its source and the libraries
    installed) and the limits: what decides a document's data and whether it is valid."""
    return hashlib.sha256(
        f"{CACHE_FORMAT} {toolkit.digest()} {project.limits}".encode()
    ).hexdigest()


def _entries(
    docs: Sequence[Document], refs: Sequence[list[EntityKey]] | None = None
) -> tuple[list[Entry], bytes]:
    """The entries of a file's documents and the marshal of their data (ValueError: data that
    marshal cannot hold; the entries hold only numbers, names and parts of that data, so what
    marshal takes of the data it takes of them). ``refs``: each document's :func:`outgoing`,
    when known already."""
    out: list[Entry] = []
    datas: list[dict[str, Any] | None] = []
    if refs is None or len(refs) != len(docs):
        refs = [outgoing(d.kind, d.data) for d in docs]
    for d, to in zip(docs, refs, strict=True):
        facts = facts_of(d.kind, d.data) if d.valid else None
        out.append([d.index, d.line, d.valid, d.kind, d.name, to, facts])
        datas.append(d.data if d.valid else None)
    return out, marshal.dumps(datas, 4)


class Stored:
    """The data of a cached file's documents: the marshal written by :meth:`IndexCache.put`,
    decoded whole on first use (a file holds one document, or a few)."""

    __slots__ = ("_count", "_datas", "_raw")

    def __init__(self, raw: bytes, count: int) -> None:
        self._raw = raw
        self._count = count
        self._datas: list[dict[str, Any] | None] | None = None

    def data(self, position: int) -> dict[str, Any] | None:
        """The data of the file's ``position``-th cached document (None: it was not valid)."""
        if self._datas is None:
            try:
                datas = marshal.loads(self._raw)
            except (ValueError, EOFError, TypeError):
                datas = None
            if not (
                isinstance(datas, list)
                and len(datas) == self._count
                and all(d is None or isinstance(d, dict) for d in datas)
            ):  # under the file's checksum, written from the same documents: never seen
                raise CatalogLoadError(
                    "the changed-only cache is damaged",
                    hint="remove .spo/index.bin (it is rebuilt on the next run)",
                )
            self._datas, self._raw = datas, b""
        return self._datas[position]


class CachedDocument(Document):
    """A document of an unchanged file, taken from the cache: its kind, name and facts
    (catalog/documents.py: FACTS) at hand, its data decoded from the file's :class:`Stored` on
    first use, so that catalog-wide work reading only facts decodes nothing."""

    def __init__(self, file: str, fs_path: str, position: int, entry: Entry, stored: Stored):
        index, line, valid, kind, name, _refs, facts = entry
        self.file, self.fs_path, self.index, self.line = file, fs_path, index, line
        self.valid, self.node, self._model, self.locate = valid, None, None, True
        self._kind, self._name, self._facts = kind, name, facts or {}
        self._stored, self._position = stored, position
        # what build_index reads of an invalid document, whose data is not kept
        self._data: dict[str, Any] | None = (
            None if valid else {"kind": kind, "metadata": {"name": name}}
        )

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            got = self._stored.data(self._position)
            self._data = got if got is not None else {}
        return self._data

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        self._data = value

    @property
    def kind(self) -> str:
        return str(self._kind)

    @property
    def name(self) -> str:
        return str(self._name)

    def fact(self, section: str, key: str) -> Any:
        if self._data is None and key in FACTS.get(self._kind, {}).get(section, ()):
            part = self._facts.get(section)
            return part.get(key) if isinstance(part, dict) else None
        return super().fact(section, key)


def read_cache(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The files of the cache at ``path``, or None when there is none that can be used: missing,
    not this user's own, from another version of the toolkit, schemas or limits (the
    fingerprint), truncated or corrupt (the checksum), or not the shape written
    (fsutil.read_sealed)."""
    files = read_sealed(path, MAGIC, fingerprint)
    return files if isinstance(files, dict) else None


class IndexCache:
    """{path: [blob id, [entry per document]]} in ``.spo/index.bin`` (:func:`read_cache`): plain
    data through marshal, which builds values, never objects that run code, read only from a
    file of this user's own and checked against its checksum, so that a cache file from
    elsewhere is ignored, never trusted."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.dir = project.work_folder
        self.path = self.dir / CACHE_FILE
        self.fingerprint = _fingerprint(project)
        self.dirty = False
        with heap.bulk():
            self.files: dict[str, Any] = read_cache(self.path, self.fingerprint) or {}

    def get(self, path: str, blob: str) -> list[Entry] | None:
        hit = self.lookup(path, blob)
        return None if hit is None else hit[0]

    def lookup(self, path: str, blob: str) -> tuple[list[Entry], bool, Stored] | None:
        """The entries of the file at ``path`` with content ``blob``, whether it was found clean
        when it was parsed (:func:`_clean`) and its documents' data; None when the cache has no
        such file."""
        hit = self.files.get(path)
        if isinstance(hit, list) and len(hit) == 4 and hit[0] == blob:
            entries, raw = hit[1], hit[3]
            if (
                isinstance(entries, list)
                and isinstance(raw, bytes)
                and all(_is_entry(e) for e in entries)
            ):
                return entries, hit[2] is True, Stored(raw, len(entries))
        return None

    def put(
        self,
        path: str,
        blob: str,
        docs: Sequence[Document],
        *,
        clean: bool = False,
        refs: Sequence[list[EntityKey]] | None = None,
    ) -> None:
        try:  # data that marshal cannot hold is never cached: the file is parsed each time
            entries, raw = _entries(docs, refs)
        except ValueError:
            return
        self.files[path] = [blob, entries, clean, raw]
        self.dirty = True

    def keep_only(self, paths: set[str]) -> None:
        stale = [p for p in self.files if p not in paths]
        for p in stale:
            del self.files[p]
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.project.make_work_folder()
            if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
                self.path.unlink()  # replaced, never written through (a FIFO would block)
            write_sealed(self.path, MAGIC, self.fingerprint, self.files)
            (self.dir / "index.json").unlink(missing_ok=True)  # the JSON cache of earlier versions
        except (OSError, ValueError):
            pass  # a read-only checkout still validates; it only stays slow


def _is_entry(e: Any) -> bool:
    return (
        isinstance(e, list)
        and len(e) == 7
        and type(e[0]) is int
        and type(e[1]) is int
        and type(e[2]) is bool
        and isinstance(e[3], str)
        and isinstance(e[4], str)
        and isinstance(e[5], list)
        and (e[6] is None or isinstance(e[6], dict))
    )


def _cached_docs(
    entries: list[Entry], stored: Stored, display: str, fs_path: str
) -> list[Document]:
    return [CachedDocument(display, fs_path, i, e, stored) for i, e in enumerate(entries)]


# --- the run -----------------------------------------------------------------------------------


@dataclass
class _File:
    path: str  # as the file system takes it
    display: str
    rel: str  # relative to the repository root
    docs: list[Document] = field(default_factory=list)
    keys: list[EntityKey] = field(default_factory=list)  # (kind, name) per document
    refs: list[list[EntityKey]] = field(default_factory=list)  # per document
    loaded: bool = False  # parsed now (its own findings are known), not taken from the cache
    clean: bool = False  # taken from the cache, and found clean (:func:`_clean`) when parsed


def validate_changed(
    project: Project,
    rev: str,
    *,
    jobs: int | None = None,
    progress: LoadProgress | None = None,
    today: dt.date | None = None,
) -> ChangedResult:
    """Findings of a full validation restricted to the files touched since ``rev``."""
    today = today or project.today()
    with repository(project.root) as repo, heap.bulk():
        repo.resolve(rev)
        prefix = repo.relative(project.root)
        with ThreadPoolExecutor(2) as pool:
            # git compares the working tree with REV and lists REV's blobs while this process
            # reads the cache and lists the catalog's files (each ~0.02-0.05 s of 10,000 files)
            asked_changed = pool.submit(repo.changed_files, rev)
            asked_blobs = pool.submit(repo.blob_ids, rev, [prefix] if prefix else [])
            cache = IndexCache(project)
            discovered = catalog_files.worktree(project)
            changed_rel = set(asked_changed.result())
            blobs = asked_blobs.result()
        config = project.config_file
        if config is not None and config.resolve().is_relative_to(repo.root):
            config_changed = repo.relative(config) in changed_rel
        else:
            config_changed = False
        # spo.yaml, the published schemas and the blueprints bear on every entity
        inside = f"{prefix}/" if prefix else ""
        folders = ("schemas", project.config.reconcile.blueprints)
        wide = [f"{inside}{folder.strip('/')}/" for folder in folders if folder]
        if config_changed or any(rel.startswith(tuple(wide)) for rel in changed_rel):
            full = validate_all(
                project, jobs=jobs, progress=progress, today=today, discovered=discovered
            )
            return ChangedResult(**vars(full), changed=list(full.files), full=True)
        change = _Change(project, repo, rev, prefix, changed_rel, blobs, cache)
        return heap.keep(_run(change, discovered, jobs, progress, today))


@dataclass
class _Change:
    """What changed since REV, and where to read REV from."""

    project: Project
    repo: Repository
    rev: str
    prefix: str  # the project folder inside the repository
    changed_rel: set[str]  # paths (from the repository root) that differ from REV
    blobs: dict[str, str]  # path -> blob id at REV
    cache: IndexCache

    def at_rev(self, rel: str, display: str) -> list[tuple[str, str, list[EntityKey]]]:
        return _at_rev(self.repo, self.rev, rel, display, self.blobs, self.cache, self.project)


def _run(
    change: _Change,
    discovered: catalog_files.Discovered,
    jobs: int | None,
    progress: LoadProgress | None,
    today: dt.date,
) -> ChangedResult:
    project, prefix, changed_rel, blobs = (
        change.project,
        change.prefix,
        change.changed_rel,
        change.blobs,
    )
    workers = project.config.validation.jobs if jobs is None else jobs
    files = [
        _File(f.path, f.display, join(prefix, f.display) if prefix else f.display)
        for f in discovered.files
    ]
    changed = [f for f in files if f.rel in changed_rel or f.rel not in blobs]
    hits, misses = _from_cache(files, {f.display for f in changed}, change)
    providers, settings_findings = provider_settings(project)
    diagnostics = _load(project, [*changed, *misses], workers, progress, providers)
    with_findings = {d.file for d in diagnostics if d.file is not None}
    for f in misses:
        change.cache.put(f.rel, blobs[f.rel], f.docs, clean=_clean(f, with_findings), refs=f.refs)
    change.cache.keep_only({f.rel for f in files})
    touched = _touched(files, changed, change, today)
    # the touched files taken from the cache are parsed now, for their own findings, unless
    # they have none
    by_display = {f.display: f for f in files}
    neighbours = [
        f for f in (by_display[d] for d in sorted(touched)) if not f.loaded and not f.clean
    ]
    found = _load(project, neighbours, workers, None, providers)
    with_findings = {d.file for d in found if d.file is not None}
    for f in neighbours:  # a file last read at REV (its findings unknown) may be clean now
        if _clean(f, with_findings):
            change.cache.put(f.rel, blobs[f.rel], f.docs, clean=True, refs=f.refs)
    diagnostics += found
    change.cache.save()

    for f in files:
        if f.display not in touched:
            for doc in f.docs:
                doc.locate = False  # their findings are not reported: no re-parse for places
    findings = Findings([*project.diagnostics, *settings_findings, *discovered.diagnostics])
    findings.extend(d for d in diagnostics if d.file in touched)
    all_docs = [doc for f in files for doc in f.docs]
    touched_docs = [doc for f in files if f.display in touched for doc in f.docs]
    index, duplicates = build_index(all_docs)
    cross: list[Diagnostic] = list(duplicates)
    capacity: list[PoolUsage] = []
    if touched:  # nothing touched, nothing to report: the catalog-wide checks are skipped
        cross += catalog_checks(project, index, touched_docs, today, Scope(touched_docs))
        policy_findings, capacity = _policies(index, touched_docs, today, project.config)
        cross += policy_findings
    findings.extend(d for d in cross if d.file in touched)
    findings.items = findings.sorted()
    return ChangedResult(
        touched_docs,
        findings,
        [f.display for f in files if f.display in touched],
        index,
        capacity,
        changed=[f.display for f in changed],
        cache_hits=hits,
        cache_misses=len(misses),
    )


def _from_cache(files: list[_File], changed: set[str], change: _Change) -> tuple[int, list[_File]]:
    """Fill in the documents of unchanged files from the cache: (hits, the files it missed)."""
    misses: list[_File] = []
    hits = 0
    for f in files:
        if f.display in changed:
            continue
        hit = change.cache.lookup(f.rel, change.blobs[f.rel])
        if hit is None:
            misses.append(f)
            continue
        hits += 1
        entries, f.clean, stored = hit
        f.docs = _cached_docs(entries, stored, f.display, f.path)
        f.keys = [(e[3], e[4]) for e in entries]
        f.refs = [e[5] for e in entries]
    return hits, misses


@dataclass
class _Catalog:
    """What the reach of a change is worked out from, gathered in one pass over the documents
    (what only a changed policy or an expired waiver needs, on first use)."""

    files: list[_File]
    services: list[tuple[Document, str, list[EntityKey]]]  # (document, name, references)
    policies: list[tuple[Document, str]]  # (document, its file)

    @classmethod
    def of(cls, files: list[_File]) -> _Catalog:
        services: list[tuple[Document, str, list[EntityKey]]] = []
        policies: list[tuple[Document, str]] = []
        for f in files:
            for doc, (kind, name), refs in zip(f.docs, f.keys, f.refs, strict=True):
                if kind == "ServiceModel":
                    services.append((doc, name, refs))
                elif kind == "Policy":
                    policies.append((doc, f.display))
        return cls(files, services, policies)

    def files_of_kinds(self, kinds: set[str]) -> set[str]:
        return {f.display for f in self.files if not kinds.isdisjoint(k for k, _ in f.keys)}

    @cached_property
    def entity_files(self) -> dict[str, str]:
        """Each entity ("kind:name") -> the file of its first definition."""
        out: dict[str, str] = {}
        for f in self.files:
            for kind, name in f.keys:
                out.setdefault(f"{kind}:{name}", f.display)
        return out


def _clean(f: _File, with_findings: set[str]) -> bool:
    """A file just parsed whose documents are all valid and that has no finding of its own, and
    none that depends on more than its content, the limits and the toolkit (the cache's
    fingerprint): a provisioning entry is checked against the providers installed and their
    settings in spo.yaml. Taken from the cache, such a file is not parsed again when a change
    touches it: its own findings are known to be none."""
    if f.display in with_findings or not f.loaded:
        return False
    for doc, (kind, _name) in zip(f.docs, f.keys, strict=True):
        if not doc.valid:
            return False
        if kind == "ServiceModel":
            spec = doc.data.get("spec")
            if isinstance(spec, dict) and spec.get("provisioning"):
                return False
    return True


def _touched(files: list[_File], changed: list[_File], change: _Change, today: dt.date) -> set[str]:
    """The files whose findings a change can alter: the changed files, the files of the entities
    the changed ones refer to (now or at REV) and of those that refer to them, and what a policy
    change reaches (:func:`_policy_reach`)."""
    changed_refs: set[EntityKey] = set()
    forward: set[EntityKey] = set()
    facets_of: set[EntityKey] = set()

    def note(kind: str, name: str, refs: list[EntityKey]) -> None:
        changed_refs.add((kind, name))
        forward.update(refs)
        if kind in SERVICE_FACETS:
            facets_of.update(r for r in refs if r[0] == "ServiceModel")
        if kind == "Party":  # who holds a role is judged by the Parties and who they list
            changed_refs.add((NAME, name))
            changed_refs.update(r for r in refs if r[0] == NAME)

    for f in changed:
        for (kind, name), refs in zip(f.keys, f.refs, strict=True):
            note(kind, name, refs)
        for kind, name, refs in change.at_rev(f.rel, f.display):
            note(kind, name, refs)
    for rel in _deleted(
        change.repo, change.prefix, change.changed_rel, change.blobs, change.project.config
    ):
        for kind, name, refs in change.at_rev(rel, rel):
            note(kind, name, refs)
    catalog = _Catalog.of(files)
    # A changed portfolio entry, agreement, SPI, plan or risk changes its service as the rest of
    # the catalog sees it (its stage, its agreements): the service counts as changed. A changed
    # Party reaches through the services it owns: an agreement's provider defaults to its
    # service's owner, so the agreements (and SPIs, entries) of those services are judged by it.
    changed_refs |= facets_of
    parties = {name for kind, name in changed_refs if kind == "Party"}
    if parties:
        changed_refs |= {
            ("ServiceModel", name)
            for doc, name, _refs in catalog.services
            if isinstance(owner := doc.fact("metadata", "owner"), str) and owner in parties
        }
    # A changed service changes how its direct dependents look too: whether what they depend on
    # is ready (POL011/POL012), whether their agreements are backed by its OLAs/UCs (SPO419).
    services = {name for kind, name in changed_refs if kind == "ServiceModel"}
    if services:
        changed_refs |= {
            ("ServiceModel", name)
            for _doc, name, refs in catalog.services
            if any(k == "ServiceModel" and n in services for k, n in refs)
        }
    related = changed_refs | forward
    touched = {f.display for f in changed}
    for f in files:
        if f.display in touched:
            continue
        for key, refs in zip(f.keys, f.refs, strict=True):
            if key in related or not changed_refs.isdisjoint(refs):
                touched.add(f.display)
                break
    return touched | _policy_reach(catalog, changed, change, today)


SERVICE_FACETS = frozenset(
    {
        "PortfolioEntry",
        "ServiceLevelAgreement",
        "ServiceProviderInterface",
        "ImprovementPlan",
        "Risk",
    }
)


def _policy_kinds(data: Any) -> set[str]:
    spec = data.get("spec") if isinstance(data, dict) else None
    match = spec.get("match") if isinstance(spec, dict) else None
    kinds = match.get("kinds") if isinstance(match, dict) else None
    if not isinstance(kinds, list) or not kinds:
        return set(KIND_MODELS)  # a policy we cannot read may apply to anything
    return {k for k in kinds if isinstance(k, str)}


def _policy_reach(
    catalog: _Catalog, changed: list[_File], change: _Change, today: dt.date
) -> set[str]:
    """Files a policy change reaches: a Policy changed (added, edited, removed or renamed, at REV
    or now) applies to every entity of the kinds it matches, before and after the change; an
    expired waiver (a change of date, not of file) un-waives its entity and is itself a finding
    in the policy's file."""
    kinds: set[str] = set()
    for f in changed:
        for doc, (kind, _name) in zip(f.docs, f.keys, strict=True):
            if kind == "Policy":
                kinds |= _policy_kinds(doc.data)
    project = change.project
    inside = f"{change.prefix}/" if change.prefix else ""
    for rel in sorted(change.changed_rel):
        if rel not in change.blobs or not rel.startswith(inside):
            continue
        if not catalog_files.wanted(rel[len(inside) :], project.config):
            continue
        cached = change.cache.lookup(rel, change.blobs[rel])  # the file at REV, as last parsed
        if cached is not None:
            entries, _clean_file, stored = cached
            for position, entry in enumerate(entries):
                if entry[3] == "Policy":
                    kinds |= _policy_kinds(stored.data(position))
            continue
        content = change.repo.read_blob(change.blobs[rel])
        if content is None or b"Policy" not in content:
            continue
        text, _ = decode(content[: project.limits.max_file_size], rel)
        for raw in parse_text(text or "", rel, project.limits).documents:
            if isinstance(raw.data, dict) and raw.data.get("kind") == "Policy":
                kinds |= _policy_kinds(raw.data)
    reached = catalog.files_of_kinds(kinds) if kinds else set()
    for doc, display in catalog.policies:
        waivers = (doc.data.get("spec") or {}).get("waivers") or []
        for w in waivers if isinstance(waivers, list) else []:
            expires = w.get("expires") if isinstance(w, dict) else None
            try:
                expired = dt.date.fromisoformat(str(expires)) < today
            except ValueError:
                expired = True  # the full run reports it in the policy's file
            if expired:
                reached.add(display)
                entity = w.get("entity") if isinstance(w, dict) else None
                target = catalog.entity_files.get(str(entity))
                if target is not None:
                    reached.add(target)
    return reached


def _load(
    project: Project,
    files: list[_File],
    workers: int,
    progress: LoadProgress | None,
    providers: Mapping[str, Any],
) -> list[Diagnostic]:
    """Parse and check ``files`` (as a full run does), filling in their documents."""
    if not files:
        return []
    docs, diagnostics = load_all(
        [(f.path, f.display) for f in files],
        project.limits,
        workers,
        progress,
        providers,
    )
    by_display = {f.display: f for f in files}
    for f in files:
        f.docs, f.keys, f.refs, f.loaded = [], [], [], True
    for doc in docs:
        f = by_display[doc.file]
        kind = doc.kind
        f.docs.append(doc)
        f.keys.append((kind, doc.name))
        f.refs.append(outgoing(kind, doc.data))
    return diagnostics


def _deleted(
    repo: Repository,
    prefix: str,
    changed_rel: set[str],
    blobs: dict[str, str],
    config: ProjectConfig,
) -> list[str]:
    """Catalog files of the project at REV that the working tree no longer has."""
    inside = f"{prefix}/" if prefix else ""
    return sorted(
        rel
        for rel in changed_rel
        if rel in blobs
        and rel.startswith(inside)
        and catalog_files.wanted(rel[len(inside) :], config)
        and not (repo.root / rel).exists()
    )


def _at_rev(
    repo: Repository,
    rev: str,
    rel: str,
    display: str,
    blobs: dict[str, str],
    cache: IndexCache,
    project: Project,
) -> list[tuple[str, str, list[EntityKey]]]:
    """(kind, name, references) of the documents a changed file held at REV."""
    blob = blobs.get(rel)
    if blob is None:
        return []
    entries = cache.get(rel, blob)
    if entries is not None:
        return [(e[3], e[4], e[5]) for e in entries]
    content = repo.read_blob(blob)
    if content is None:
        return []
    text, _problem = decode(content[: project.limits.max_file_size + 1], display)
    if text is None or len(content) > project.limits.max_file_size:
        return []  # no documents at REV, as loading the file would have found
    parsed = parse_text(text, display, project.limits)
    docs = []
    for raw in parsed.documents:
        if not raw.broken and isinstance(raw.data, dict):
            doc = Document(display, rel, raw.index, raw.line, raw.data, raw.node)
            check_document(doc)  # marks it valid, as loading the file would
            doc.node = None
            docs.append(doc)
    if not parsed.diagnostics:  # kept for the next run on this base
        cache.put(rel, blob, docs)
    return [(doc.kind, doc.name, outgoing(doc.kind, doc.data)) for doc in docs]


def _policies(
    index: Index, targets: list[Document], today: dt.date, config: ProjectConfig
) -> tuple[list[Diagnostic], list[PoolUsage]]:
    """The policy stage's findings on ``targets`` (lookups still see the whole catalog) and the
    capacity rows of the touched pools."""
    provisioned = config.reconcile.provisioned_stages
    rate = config.portfolio.discount_rate
    if any(d.kind == "Policy" for d in targets):
        # a changed policy applies to everything
        outcome = evaluate_policies(index, today, provisioned=provisioned, discount_rate=rate)
        pools = {d.name for d in targets if d.kind == "ResourcePool"}
        return outcome.findings, [u for u in outcome.capacity if u.pool in pools]
    # compile findings and expired waivers are in the policies' own (untouched) files
    policies, _in_policy_files = compile_policies(index, today)
    lookups = Lookups(index, today, provisioned, rate)
    found: list[Diagnostic] = []
    if policies:
        # only the first definition of a name is a target, as in a full run
        first = [t for t in targets if index.by_ref.get((t.kind, t.name)) is t]
        found.extend(check_targets(policies, first, lookups))
    pools = {d.name for d in targets if d.kind == "ResourcePool" and d.valid}
    capacity: list[PoolUsage] = []
    if pools:
        capacity = [u for u in pool_usage(index, lookups) if u.pool in pools]
        found.extend(check_capacity(index, capacity))
    return found, capacity
