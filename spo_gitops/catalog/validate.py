"""The validate stage: load every document, check it, then check the catalog as a whole."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spo_gitops.catalog import files, heap
from spo_gitops.catalog.agreements import agreement_checks
from spo_gitops.catalog.checks import document_checks, process_roles
from spo_gitops.catalog.documents import Document, load_file
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
# Parallel loading pays only with cores to spare: on two cores, one process validated 10,000
# documents in 2.49 s (2.48 s of CPU) and two in 2.67 s (3.79 s of CPU), the documents being
# pickled back from the worker (docs/performance.md).
PARALLEL_CORES = 3
_CHUNK = 64


@dataclass
class ValidationResult:
    documents: list[Document]
    findings: Findings
    files: list[str]
    index: Index = field(default_factory=lambda: Index({}))
    capacity: list[PoolUsage] = field(default_factory=list)  # one row per resource pool

    @property
    def ok(self) -> bool:
        return not self.findings.has_errors


# spo.yaml's providers: name -> settings (None: its settings are wrong, reported at spo.yaml)
ProviderSettings = Mapping[str, Mapping[str, Any] | None]


def _load_one(
    fs_path: str, display: str, limits: Limits, providers: ProviderSettings | None = None
) -> tuple[list[Document], list[Diagnostic]]:
    docs, diagnostics = load_file(fs_path, display, limits)
    for doc in docs:
        if doc.model is not None:
            diagnostics.extend(document_checks(doc, providers))
        # Keeping every node graph costs ~50 KB a document and makes the garbage collector
        # crawl; the few cross-document findings re-parse their file for positions instead.
        doc.node = None
    return docs, diagnostics


def _load_chunk(
    items: list[tuple[str, str]], limits: Limits, providers: ProviderSettings | None
) -> list[tuple[list[Document], list[Diagnostic]]]:
    with heap.bulk():
        return [_load_one(fs, display, limits, providers) for fs, display in items]


def _jobs(requested: int, files: int) -> int:
    if requested > 0:
        return requested
    cores = os.cpu_count() or 1
    if files < PARALLEL_FROM or cores < PARALLEL_CORES:
        return 1
    return min(cores, 8)


def load_all(
    items: Sequence[tuple[str, str]],
    limits: Limits,
    jobs: int = 0,
    progress: LoadProgress | None = None,
    providers: ProviderSettings | None = None,
) -> tuple[list[Document], list[Diagnostic]]:
    """Load and check each file on its own, in worker processes when the catalog is large.
    ``providers``: spo.yaml's provider settings (the resource types they configure)."""
    with heap.bulk():
        return _load_all(items, limits, jobs, progress, providers)


def _load_all(
    items: Sequence[tuple[str, str]],
    limits: Limits,
    jobs: int,
    progress: LoadProgress | None,
    providers: ProviderSettings | None,
) -> tuple[list[Document], list[Diagnostic]]:
    docs: list[Document] = []
    diagnostics: list[Diagnostic] = []
    total = len(items)
    workers = _jobs(jobs, total)
    if workers == 1:
        for n, (fs, display) in enumerate(items, 1):
            file_docs, file_diags = _load_one(fs, display, limits, providers)
            docs.extend(file_docs)
            diagnostics.extend(file_diags)
            if progress and (n % _CHUNK == 0 or n == total):
                progress(n, total)
        return docs, diagnostics
    # The parent process loads a share of the chunks itself while workers - 1 processes load the
    # rest: it would otherwise wait idle, and what it loads needs no pickling back.
    chunks = [list(items[i : i + _CHUNK]) for i in range(0, total, _CHUNK)]
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    done = 0
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
        futures = {
            i: pool.submit(_load_chunk, chunk, limits, providers)
            for i, chunk in enumerate(chunks)
            if i % workers
        }
        own = {}
        for i in range(0, len(chunks), workers):
            own[i] = [_load_one(fs, display, limits, providers) for fs, display in chunks[i]]
            done += len(chunks[i])
            if progress:
                progress(done, total)
        for i, chunk in enumerate(chunks):
            if i in own:
                results = own.pop(i)
            else:
                results = futures.pop(i).result()
                done += len(chunk)
                if progress:
                    progress(done, total)
            for file_docs, file_diags in results:
                docs.extend(file_docs)
                diagnostics.extend(file_diags)
    return docs, diagnostics


def catalog_files(project: Project, paths: Sequence[Path] = ()) -> Discovered:
    """The files to validate: ``paths`` if given, else the catalog's files (catalog/files.py)."""
    return files.named(project, paths) if paths else files.worktree(project)


def provider_settings(project: Project) -> tuple[dict[str, Any], list[Diagnostic]]:
    """spo.yaml's provider settings, each checked by its provider: problems are findings at
    their place in spo.yaml, and a provider with bad settings maps to None so that the
    resources using it are not reported a second time."""
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
    """The blueprints rendered for every shape of their kinds (provision/shapes.py)."""
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
) -> ValidationResult:
    with heap.bulk():  # the catalog and its index are built in one pause
        return _validate(project, paths, jobs, progress, today)


def _validate(
    project: Project,
    paths: Sequence[Path],
    jobs: int | None,
    progress: LoadProgress | None,
    today: dt.date | None,
) -> ValidationResult:
    today = today or project.today()
    findings = Findings(list(project.diagnostics))
    # Named files are checked in the catalog's context: the whole catalog is loaded (so that
    # their references resolve), and only their findings are reported.
    discovered = files.worktree(project)
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
    docs, diagnostics = load_all(items, project.limits, workers, progress, providers)
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
    return ValidationResult(docs, findings, files_shown, index, policies.capacity)
