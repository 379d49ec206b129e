"""What a partitioned runner loads and compiles (``--partition KEY``).

Validation is about the whole catalog, always: an error anywhere refuses every partition, as it
refuses a full reconcile (a file that does not parse could define this partition's entities; a
broken portfolio entry changes what is provisioned). What is shared is the work: the catalog is
validated once per content, and the runners of one checkout read the verdict instead of each
validating again.

- **The record.** A validation without errors writes ``.spo/validated.bin``: the data of every
  document under a key (fsutil.sealed: marshal behind the key and a checksum, read only from a
  file of this user's own). The key is a digest of everything the findings depend on: each catalog
  file's path and content, spo.yaml, the validation date, the limits, and the toolkit (its
  source and the libraries installed: catalog/toolkit.py). A runner whose key matches
  the record takes the documents from it (no parsing, no checks); any other runner validates
  the whole catalog, and refuses on its errors, as without partitions. A runner that validates
  keys its record by the bytes it validated, file by file (the loader gives each file's
  SHA-256 as read), so that the catalog is read once, and an edit made meanwhile is never
  recorded as validated; only a runner that finds a record hashes the files to compare (while
  it waits, when another runner is validating). The first runner validates under a file lock
  (``.spo/validated.lock``) while the others wait for its record.
  The record holds plain data only (marshal gives it back exactly), else it is not written.
- **The compile.** Only the entities the partition needs are compiled: those producing a
  resource in it (their ``spec.provisioning`` addresses, read from the data), every producer of
  those addresses (identical copies are one resource, attributed to the first producer) and,
  transitively, the producers of the addresses they depend on (so that a missing dependency or a
  cycle through the partition's resources is still found). The index keeps every entity, so
  stages, portfolio entries and labels are those of the whole catalog. With blueprints every
  provisioned entity is compiled: what a template renders is only known once rendered.

The plan then keeps the partition's resources only (``reconcile._in_partition``), so that the
partitioned plans together equal the full one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spo_gitops.catalog import files, heap, toolkit
from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Index
from spo_gitops.catalog.references import build_index
from spo_gitops.catalog.validate import LoadProgress, ValidationResult, validate
from spo_gitops.config import Project
from spo_gitops.diagnostics import Findings
from spo_gitops.fsutil import read_sealed, write_sealed
from spo_gitops.provision.compile import (
    CompileResult,
    compile_catalog,
    is_provisioned,
    provisioned_services,
)
from spo_gitops.provision.partition import Partition, entity_labels
from spo_gitops.provision.resources import address

RECORD_FILE = "validated.bin"
_OLD_RECORD = "validated.json"  # what earlier versions wrote: removed when a record is written
RECORD_MAGIC = b"spo-validated\n"
LOCK_FILE = "validated.lock"
RECORD_FORMAT = 2  # 2: marshal, not JSON


# --- the record ---------------------------------------------------------------------------------


def catalog_key(project: Project, discovered: files.Discovered) -> str:
    """A digest of everything validation reads: the catalog files (paths and content, as they
    are now), spo.yaml, the validation date, the limits and the toolkit."""
    key = _key(project, discovered, _content_digest)
    assert key is not None  # every file has a digest, or says why it has none
    return key


def _content_digest(f: files.CatalogFile) -> bytes | str:
    try:
        with open(f.path, "rb") as fh:
            return hashlib.sha256(fh.read()).digest()
    except OSError as e:  # validation reports it; the key only has to differ
        return f"unreadable: {e}"


def _key(
    project: Project,
    discovered: files.Discovered,
    digest_of: Callable[[files.CatalogFile], bytes | str | None],
) -> str | None:
    """:func:`catalog_key` with each file's content digest from ``digest_of`` (None when one
    has none)."""
    digest = hashlib.sha256(f"{RECORD_FORMAT}\0{toolkit.digest()}\0{project.limits}\0".encode())
    digest.update(f"{project.today().isoformat()}\0".encode())
    config = project.config_file
    if config is not None and config.is_file():
        digest.update(config.read_bytes())
    digest.update(b"\0" + repr(sorted(str(d) for d in discovered.diagnostics)).encode())
    for f in discovered.files:
        content = digest_of(f)
        if content is None:
            return None
        digest.update(f"\0{f.display}\0".encode())
        digest.update(content if isinstance(content, bytes) else content.encode())
    return digest.hexdigest()


def _record_path(project: Project) -> Path:
    return project.work_folder / RECORD_FILE


@contextlib.contextmanager
def _validation_lock(project: Project, while_waiting: Callable[[], None]) -> Iterator[None]:
    """One runner of a checkout validates at a time; the others wait for its record, and run
    ``while_waiting`` first (once they know they will wait). Without a writable .spo/ folder
    every runner validates on its own."""
    try:
        fd = os.open(project.make_work_folder() / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another runner validates: prepare meanwhile, then wait
            while_waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing frees the lock


def _read_record(project: Project, key: str) -> list[list[Any]] | None:
    with heap.bulk():
        documents = read_sealed(_record_path(project), RECORD_MAGIC, f"{RECORD_FORMAT}:{key}")
    return documents if isinstance(documents, list) else None


def _write_record(project: Project, key: str, docs: list[Document]) -> bool:
    """Record a validation without errors; False when the data is not plain (marshal refuses
    it) or the folder is not writable."""
    entries = [[d.file, d.index, d.line, d.valid, d.data] for d in docs]
    path = _record_path(project)
    try:
        write_sealed(path, RECORD_MAGIC, f"{RECORD_FORMAT}:{key}", entries)
    except (ValueError, OSError):
        return False
    with contextlib.suppress(OSError):
        (path.parent / _OLD_RECORD).unlink(missing_ok=True)
    return True


def _documents(entries: list[list[Any]], discovered: files.Discovered) -> list[Document] | None:
    where = {f.display: f.path for f in discovered.files}
    docs = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 5 and entry[0] in where):
            return None  # not what this version writes: validate instead
        display, index, line, valid, data = entry
        docs.append(Document(display, where[display], index, line, data, valid=bool(valid)))
    return docs


def validated_catalog(
    project: Project, progress: LoadProgress | None = None
) -> tuple[ValidationResult, bool]:
    """The catalog's documents as a full validation gives them, and whether they came from the
    record. With errors, the validation itself (the caller refuses it). ``progress``: told how
    many files are loaded, when it validates."""
    discovered = files.worktree(project)
    keys: list[str] = []  # the catalog's key, once it is worked out

    def hash_while_waiting() -> None:  # the runner validating will most likely leave a record
        keys.append(catalog_key(project, discovered))

    with _validation_lock(project, hash_while_waiting):
        if _record_path(project).exists():  # a record (another runner's): is it of this catalog?
            entries = _read_record(project, keys[0] if keys else catalog_key(project, discovered))
            docs = _documents(entries, discovered) if entries is not None else None
            if docs is not None:
                with heap.bulk():
                    index, _ = build_index(docs)
                shown = sorted({d.file for d in docs})
                return ValidationResult(docs, Findings([]), shown, index), True
        result = validate(project, discovered=discovered, progress=progress)
        if not result.findings.has_errors:
            # keyed by the bytes validated, file by file: a file that changed meanwhile is
            # recorded as it was validated, under the key of that content, which a runner
            # reading the changed file does not compute
            key = _key(project, discovered, lambda f: result.digests.get(f.display))
            if key is not None:
                _write_record(project, key, result.documents)
        return result, False


# --- what the partition compiles ----------------------------------------------------------------


@dataclass(frozen=True)
class _Produced:
    doc: Document
    addresses: tuple[str, ...]
    depends_on: tuple[str, ...]


def _produced(doc: Document) -> _Produced:
    """The addresses a document's own ``spec.provisioning`` produces (as compile names them)."""
    addresses: list[str] = []
    deps: list[str] = []
    spec = doc.data.get("spec")
    entries = spec.get("provisioning") if isinstance(spec, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        addresses.append(address(entry["provider"], entry["type"], entry.get("name") or doc.name))
        deps.extend(entry.get("dependsOn", []))
    return _Produced(doc, tuple(addresses), tuple(deps))


def needed(
    project: Project, docs: list[Document], index: Index, partition: Partition
) -> list[Document]:
    """The documents whose compile the partition's resources depend on (see the module doc)."""
    services = provisioned_services(index, set(project.config.reconcile.provisioned_stages))
    compiled = [
        d
        for d in docs
        if d.valid and index.get(d.kind, d.name) is d and is_provisioned(d, services)
    ]
    if project.has_blueprints():
        return compiled
    labels = entity_labels(index)
    produced = [_produced(d) for d in compiled]
    producers: dict[str, list[_Produced]] = {}
    for p in produced:
        for addr in p.addresses:
            producers.setdefault(addr, []).append(p)
    todo = [
        p
        for p in produced
        if any(partition.covers(addr, p.doc.ref, labels) for addr in p.addresses)
    ]
    chosen: dict[int, _Produced] = {}
    while todo:
        p = todo.pop()
        if id(p.doc) in chosen:
            continue
        chosen[id(p.doc)] = p
        for addr in (*p.addresses, *p.depends_on):  # other copies, then what it depends on
            todo.extend(q for q in producers.get(addr, ()) if id(q.doc) not in chosen)
    return [p.doc for p in produced if id(p.doc) in chosen]


def load(
    project: Project, partition: Partition, progress: LoadProgress | None = None
) -> tuple[ValidationResult, CompileResult | None]:
    """The validated catalog and the compile of what ``partition`` needs (None when the catalog
    has errors: the caller refuses it with the validation's findings)."""
    result, _ = validated_catalog(project, progress)
    if result.findings.has_errors:
        return result, None
    docs = needed(project, result.documents, result.index, partition)
    return result, compile_catalog(project, docs, result.index)
