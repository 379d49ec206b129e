"""The validate stage: load every document, check it, then check the catalog as a whole."""

from __future__ import annotations

import contextlib
import datetime as dt
import marshal
import os
import pickle
import signal
import struct
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from spo_gitops.catalog import files, heap
from spo_gitops.catalog.agreements import agreement_checks
from spo_gitops.catalog.checks import document_checks, process_roles
from spo_gitops.catalog.documents import Document, load_file_digest
from spo_gitops.catalog.files import Discovered
from spo_gitops.catalog.index import Scope
from spo_gitops.catalog.loader import Limits
from spo_gitops.catalog.plans import check_plans
from spo_gitops.catalog.references import (
    Index,
    build_index,
    check_cycles,
    check_portfolio,
    check_references,
)
from spo_gitops.config import Project
from spo_gitops.diagnostics import Diagnostic, Findings
from spo_gitops.policy import PoolUsage, evaluate_policies
from spo_gitops.portfolio import portfolio_checks
from spo_gitops.review.lifecycle import check_approvers as approvers
from spo_gitops.review.lifecycle import check_trail as approval_trail

LoadProgress = Callable[[int, int], None]
PARALLEL_FROM = 300  # files; below this, starting workers costs more than it saves
PARALLEL_MAX = 8  # worker processes at most, the parent included
_CHUNK = 64  # files per chunk of work, and between two progress reports
_MAX_CHUNKS = 16_000  # chunk numbers the pipe holds (64 KiB) before its writer would wait
# Workers are forked, which is safe on Linux; elsewhere (macOS forbids forking a process that
# may have touched its system frameworks) the files are loaded in one process.
_FORKS = sys.platform.startswith("linux")


@dataclass
class ValidationResult:
    documents: list[Document]
    findings: Findings
    files: list[str]
    index: Index = field(default_factory=lambda: Index({}))
    capacity: list[PoolUsage] = field(default_factory=list)  # one row per resource pool
    # file (as shown) -> SHA-256 of the bytes validated (None: not read whole); a full
    # validation's files only
    digests: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings.has_errors


# spo.yaml's providers: name -> settings (None: its settings are wrong, reported at spo.yaml)
ProviderSettings = Mapping[str, Mapping[str, Any] | None]
# per file: its documents, its findings and the SHA-256 of the bytes parsed (None: not read)
Loaded = list[tuple[list[Document], list[Diagnostic], bytes | None]]


def _load_one(
    fs_path: str, display: str, limits: Limits, providers: ProviderSettings | None = None
) -> tuple[list[Document], list[Diagnostic], bytes | None]:
    docs, diagnostics, digest = load_file_digest(fs_path, display, limits)
    for doc in docs:
        if doc.model is not None:
            diagnostics.extend(document_checks(doc, providers))
        # Keeping every node graph costs ~50 KB a document and makes the garbage collector
        # crawl; the few cross-document findings re-parse their file for positions instead.
        doc.node = None
    return docs, diagnostics, digest


def _jobs(requested: int, files: int) -> int:
    if requested > 0:
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if files < PARALLEL_FROM or not cores or cores < 2:
        return 1
    return min(cores, PARALLEL_MAX)


def load_all(
    items: Sequence[tuple[str, str]],
    limits: Limits,
    jobs: int = 0,
    progress: LoadProgress | None = None,
    providers: ProviderSettings | None = None,
    digests: list[bytes | None] | None = None,
) -> tuple[list[Document], list[Diagnostic]]:
    """Load and check each file on its own, in worker processes when the catalog is large.
    ``providers``: spo.yaml's provider settings (the resource types they configure);
    ``digests``: filled with the SHA-256 of each file's bytes as parsed, in the order of
    ``items`` (None for a file not read whole)."""
    with heap.bulk():
        workers = _jobs(jobs, len(items))
        chunks = _chunks(len(items))
        if workers > 1 and _FORKS:
            loaded = _load_shared(items, chunks, limits, workers, progress, providers)
        else:
            loaded = []
            for chunk in chunks:
                loaded.extend(_load_files(items, chunk, limits, providers))
                if progress:
                    progress(chunk.stop, len(items))
    docs: list[Document] = []
    diagnostics: list[Diagnostic] = []
    for file_docs, file_diags, digest in loaded:
        docs.extend(file_docs)
        diagnostics.extend(file_diags)
        if digests is not None:
            digests.append(digest)
    return docs, diagnostics


def _chunks(files: int) -> list[range]:
    """The files' indices in chunks of work: of ``_CHUNK`` files, fewer than ``_MAX_CHUNKS``."""
    size = max(_CHUNK, -(-files // _MAX_CHUNKS))
    return [range(i, min(i + size, files)) for i in range(0, files, size)]


def _load_files(
    items: Sequence[tuple[str, str]],
    indices: range,
    limits: Limits,
    providers: ProviderSettings | None,
) -> Loaded:
    """The files ``items[i]`` for i in ``indices``, in that order, in this process."""
    return [_load_one(*items[i], limits, providers) for i in indices]


def _load_shared(
    items: Sequence[tuple[str, str]],
    chunks: list[range],
    limits: Limits,
    workers: int,
    progress: LoadProgress | None,
    providers: ProviderSettings | None,
) -> Loaded:
    """The files in chunks, loaded by this process and ``workers - 1`` forked children, each
    taking the next chunk as it is ready: the chunk numbers wait in a pipe, and a read of one
    takes it for one process alone, so that a process slowed down (by the machine, or by the
    work of taking the others' results) takes fewer. Forking shares the imports and the file
    list without pickling anything. Each child writes each chunk it loaded to a file of its own
    (:func:`_packed`: the documents' plain data through marshal) and exits; this process reads
    them between its own chunks. A chunk a child does not deliver (it failed, died or wrote
    something unreadable) costs time, not results: it is loaded here."""
    read, write = os.pipe()
    try:
        os.write(write, b"".join(_TOKEN.pack(k) for k in range(len(chunks))))
    finally:
        os.close(write)  # a read past the last chunk number sees the end of the pipe
    loaded: dict[int, Loaded] = {}
    children: list[_Child] = []
    try:
        for _ in range(workers - 1):
            child = _fork(items, chunks, read, limits, providers)
            if child is not None:
                children.append(child)
        while (k := _next_chunk(read)) is not None:
            loaded[k] = _load_files(items, chunks[k], limits, providers)
            for child in children:
                _take(child, chunks, loaded)
            if progress:
                progress(sum(len(chunks[k]) for k in loaded), len(items))
        for child in children:
            ok = _reap(child, kill=False)
            _take(child, chunks, loaded)
            if not ok or not child.finished:
                child.failed = True
    except BaseException:
        for child in children:
            _reap(child, kill=True)
        raise
    finally:
        os.close(read)
        for child in children:
            child.out.close()
    out: Loaded = []
    for k, chunk in enumerate(chunks):  # a chunk nobody delivered is loaded here
        out.extend(loaded[k] if k in loaded else _load_files(items, chunk, limits, providers))
    if progress:
        progress(len(items), len(items))
    return out


_TOKEN = struct.Struct("<i")  # a chunk number in the pipe
_RECORD = struct.Struct("<iq")  # a child's record: chunk number (-1: the last), payload size


def _next_chunk(tokens: int) -> int | None:
    token = os.read(tokens, _TOKEN.size)
    return _TOKEN.unpack(token)[0] if len(token) == _TOKEN.size else None


@dataclass
class _Child:
    pid: int
    out: IO[bytes]  # where it writes its records; read here with pread
    offset: int = 0  # where its next record starts
    finished: bool = False  # its last record was read
    failed: bool = False  # something it wrote was wrong: nothing more is taken from it
    reaped: bool = False


def _fork(
    items: Sequence[tuple[str, str]],
    chunks: list[range],
    tokens: int,
    limits: Limits,
    providers: ProviderSettings | None,
) -> _Child | None:
    out = tempfile.TemporaryFile(prefix="spo-validate-")  # noqa: SIM115 (closed by the loader)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()  # what the parent buffered is written once, by the parent
    try:
        pid = os.fork()
    except OSError:
        out.close()
        return None
    if pid:
        return _Child(pid, out)
    # the child: load chunks while there are any, write each, and leave without running the
    # parent's exit handlers
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and reaps us
        fd = out.fileno()
        while (k := _next_chunk(tokens)) is not None:
            payload = _packed(_load_files(items, chunks[k], limits, providers))
            _write_all(fd, _RECORD.pack(k, len(payload)) + payload)
        _write_all(fd, _RECORD.pack(-1, 0))
        code = 0
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _take(child: _Child, chunks: list[range], loaded: dict[int, Loaded]) -> None:
    """Read the records the child has written completely since the last look."""
    if child.failed or child.finished:
        return
    fd = child.out.fileno()
    size = os.fstat(fd).st_size
    while child.offset + _RECORD.size <= size:
        k, length = _RECORD.unpack(os.pread(fd, _RECORD.size, child.offset))
        if k == -1:
            child.finished = True
            return
        start = child.offset + _RECORD.size
        if start + length > size:
            return  # still being written
        try:
            if not 0 <= k < len(chunks) or k in loaded:
                raise ValueError("a chunk it was not given")
            result = _unpacked(os.pread(fd, length, start))
            if len(result) != len(chunks[k]):
                raise ValueError("not the chunk's files")
        except Exception:  # whatever it wrote, its chunks are loaded here
            child.failed = True
            return
        loaded[k] = result
        child.offset = start + length


def _packed(loaded: Loaded) -> bytes:
    """A share as bytes: the documents' data through marshal (several times faster than pickle
    for plain data), their findings pickled; all pickled when some data is not plain."""
    try:
        rows = [[doc.row() for doc in docs] for docs, _, _ in loaded]
        found = pickle.dumps([diagnostics for _, diagnostics, _ in loaded], pickle.HIGHEST_PROTOCOL)
        digests = [digest for _, _, digest in loaded]
        return b"M" + marshal.dumps((rows, found, digests))
    except ValueError:  # marshal refuses what is not plain data
        return b"P" + pickle.dumps(loaded, pickle.HIGHEST_PROTOCOL)


def _unpacked(payload: bytes) -> Loaded:
    if payload[:1] == b"P":
        loaded = pickle.loads(payload[1:])
        if not isinstance(loaded, list):
            raise ValueError("not a share")
        return loaded
    if payload[:1] != b"M":
        raise ValueError("not a share")
    rows, found, digests = marshal.loads(payload[1:])
    diagnostics = pickle.loads(found)
    if not all(d is None or (isinstance(d, bytes) and len(d) == 32) for d in digests):
        raise ValueError("not a share")
    return [
        ([Document.from_row(row) for row in file_rows], file_found, digest)
        for file_rows, file_found, digest in zip(rows, diagnostics, digests, strict=True)
    ]


def _reap(child: _Child, *, kill: bool) -> bool:
    """Wait for a child (killing it first when asked); True when it exited with success."""
    if child.reaped:
        return False
    try:
        if kill:
            os.kill(child.pid, signal.SIGKILL)
        _, status = os.waitpid(child.pid, 0)
    except OSError:
        return False
    finally:
        child.reaped = True
    return os.waitstatus_to_exitcode(status) == 0


def catalog_files(project: Project, paths: Sequence[Path] = ()) -> Discovered:
    """The files to validate: ``paths`` if given, else the catalog's files (catalog/files.py)."""
    return files.named(project, paths) if paths else files.worktree(project)


def provider_settings(project: Project) -> tuple[dict[str, Any], list[Diagnostic]]:
    """spo.yaml's provider settings, each checked by its provider: problems are findings at
    their place in spo.yaml, and a provider with bad settings maps to None so that the
    resources using it are not reported a second time."""
    if not project.config.providers:
        return {}, []  # nothing to check, nor the providers' modules to import (~0.1 s)
    from spo_gitops.providers.registry import settings_problems

    out: dict[str, Any] = {}
    found: list[Diagnostic] = []
    for name, raw in project.config.providers.items():
        problems = settings_problems(name, raw)
        out[name] = None if problems else raw
        for path, message in problems:
            parts = ["providers", name, *path]
            shown, line, col = project.config_position(parts, key=bool(path))
            where = ".".join(parts)
            found.append(
                Diagnostic(
                    "error",
                    "SPO901",
                    f"{where}: {message}",
                    shown,
                    line,
                    col,
                    hint=f"spo providers schema {name} --settings shows what it takes"
                    if path
                    else "spo providers list shows the installed providers",
                )
            )
    return out, found


def _blueprint_findings(project: Project, docs: list[Document], index: Any) -> list[Diagnostic]:
    """The blueprints rendered for every shape of their kinds (provision/shapes.py); without a
    template there is nothing to render, nor jinja2 to import."""
    if not project.has_blueprints():
        return []
    from spo_gitops.provision.shapes import check_blueprints

    return check_blueprints(project, docs, index)


def catalog_checks(
    project: Project,
    index: Index,
    docs: list[Document],
    today: dt.date,
    scope: Scope | None = None,
) -> list[Diagnostic]:
    """The checks of the catalog as a whole, after each document's own: the one list, run by a
    full validation and by changed-only validation (review/changed.py), which passes the
    documents of the touched files as ``docs`` and as ``scope``, and reports the findings in
    those files. Each check reads the whole index but reports on the entities of ``scope``
    alone (None: on every one); a finding is always placed on the entity it is about, so a
    scoped run finds exactly what a full one finds in the scope's files. A new cross-document
    check goes here, takes the scope, and says in review/changed.py what a change to it can
    affect."""
    found: list[Diagnostic] = []
    found.extend(check_references(docs, index))
    found.extend(check_cycles(index))
    found.extend(process_roles(docs, index))
    found.extend(check_portfolio(index, scope))
    found.extend(agreement_checks(project, index, today, scope))
    found.extend(approval_trail(index, project.config.lifecycle, today, scope))
    found.extend(approvers(index, scope))
    found.extend(portfolio_checks(index, project.config, today, scope=scope))
    found.extend(check_plans(index, today, scope))
    found.extend(_blueprint_findings(project, docs, index))
    return found


def validate(
    project: Project,
    paths: Sequence[Path] = (),
    *,
    jobs: int | None = None,
    progress: LoadProgress | None = None,
    today: dt.date | None = None,
    discovered: Discovered | None = None,
) -> ValidationResult:
    """``discovered``: the catalog's files, when the caller has listed them already."""
    with heap.bulk():  # the catalog and its index are built in one pause
        return heap.keep(_validate(project, paths, jobs, progress, today, discovered))


def _validate(
    project: Project,
    paths: Sequence[Path],
    jobs: int | None,
    progress: LoadProgress | None,
    today: dt.date | None,
    discovered: Discovered | None,
) -> ValidationResult:
    today = today or project.today()
    findings = Findings(list(project.diagnostics))
    # Named files are checked in the catalog's context: the whole catalog is loaded (so that
    # their references resolve), and only their findings are reported.
    if discovered is None:
        discovered = files.worktree(project)
    else:  # the caller's copy stays as it was
        discovered = Discovered(list(discovered.files), list(discovered.diagnostics))
    named = files.named(project, paths) if paths else None
    catalog_shown = {f.display for f in discovered.files}
    if named is not None:
        discovered.files += [f for f in named.files if f.display not in catalog_shown]
        discovered.diagnostics += named.diagnostics
    findings.extend(discovered.diagnostics)
    items = [(f.path, f.display) for f in discovered.files]
    for path in paths:
        if not path.exists():
            findings.add(
                Diagnostic("error", "SPO100", "no such file or directory", project.display(path))
            )
    workers = project.config.validation.jobs if jobs is None else jobs
    providers, settings_findings = provider_settings(project)
    findings.extend(settings_findings)
    digests: list[bytes | None] = []
    docs, diagnostics = load_all(items, project.limits, workers, progress, providers, digests)
    findings.extend(diagnostics)
    index, duplicates = build_index(docs)
    findings.extend(duplicates)
    findings.extend(catalog_checks(project, index, docs, today))
    policies = evaluate_policies(
        index,
        today,
        workers,
        project.config.reconcile.provisioned_stages,
        project.config.portfolio.discount_rate,
    )
    findings.extend(policies.findings)
    files_shown = [display for _, display in items]
    if named is not None:
        # what is not a file of the catalog (spo.yaml, a path that does not exist) stays
        wanted = {f.display for f in named.files}
        findings.items = [
            d for d in findings.items if d.file in wanted or d.file not in catalog_shown
        ]
        files_shown = [f.display for f in named.files]
    findings.items = findings.sorted()
    read = {display: digest for (_, display), digest in zip(items, digests, strict=True)}
    return ValidationResult(docs, findings, files_shown, index, policies.capacity, read)
