"""Helpers shared by the commands: loading the project, writing output files atomically."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from spo_gitops.config import Project, load_project
from spo_gitops.errors import EmptyCatalogError
from spo_gitops.fsutil import write_atomic as write_atomic  # re-exported for the commands

if TYPE_CHECKING:
    from spo_gitops.catalog.validate import ValidationResult


def project_from(ctx: click.Context) -> Project:
    config_file = (ctx.obj or {}).get("config_file")
    return load_project(Path.cwd(), config_file)


def require_config(project: Project) -> None:
    """Outside a catalog (no spo.yaml here or in any folder above) a command stops at once."""
    if project.config_file is None:
        raise EmptyCatalogError(
            f"no spo.yaml in {Path.cwd()} or any folder above it: this is not a catalog",
            hint="start one with `spo init`, or point at one with -C DIR or --config FILE",
        )


def require_files(project: Project, files: Sequence[object]) -> None:
    """Nothing found is not success: ``catalog.paths`` matching no file (``files``) stops the
    command before it writes anything. A spo.yaml with findings of its own is left to the
    command, which reports them."""
    require_config(project)
    if files or project.diagnostics:
        return
    assert project.config_file is not None
    paths = ", ".join(project.config.catalog.paths)
    raise EmptyCatalogError(
        f"catalog.paths in {project.display(project.config_file)} ({paths}) match no catalog file",
        hint="fix catalog.paths, or add a document, e.g. `spo new service NAME --owner TEAM`",
    )


def require_catalog(project: Project) -> None:
    """:func:`require_files` on the working tree's catalog files (``catalog/files.py``)."""
    from spo_gitops.catalog.files import worktree

    require_config(project)
    require_files(project, worktree(project).files)


def read_catalog(project: Project) -> ValidationResult:
    """The validated catalog for a command that reports on it (an SLA report, the portfolio,
    alerting rules): it goes on with the valid documents, and warns when others were left out."""
    from spo_gitops.catalog.validate import validate

    result = validate(project)
    if result.findings.has_errors:
        click.echo(
            "spo: warning: the catalog has errors (spo validate); invalid documents are left out",
            err=True,
        )
    return result


def emit(text: str, output: Path | None, what: str = "the output") -> None:
    """:func:`spo_gitops.cli.output.write_output`: stdout, or the file with a note on stderr."""
    from spo_gitops.cli.output import write_output

    write_output(text, output, what)


class ProgressUpdate(Protocol):
    def __call__(self, done: int, total: int, detail: str = "") -> None: ...


SHOW_AFTER = 1.0  # seconds: a command that ends sooner shows no progress
_STARTED = time.monotonic()  # about when the command started (this module is among its first)


@contextmanager
def progress_bar(label: str) -> Iterator[ProgressUpdate | None]:
    """A progress bar on stderr when it is a terminal (rich) and -q is not given, shown once the
    command has run for :data:`SHOW_AFTER` seconds and gone when the step ends; nothing
    otherwise (never on stdout, which carries the results)."""
    from spo_gitops.cli.habits import verbosity

    if not sys.stderr.isatty() or verbosity() < 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task(label, total=None)

    def update(done: int, total: int, detail: str = "") -> None:
        bar.update(task, completed=done, total=total, description=f"{label} {detail}")

    shown = threading.Timer(max(0.0, SHOW_AFTER - (time.monotonic() - _STARTED)), bar.start)
    shown.daemon = True
    shown.start()
    try:
        yield update
    finally:
        shown.cancel()
        shown.join()  # when it fired meanwhile, the bar has started: stopped here
        bar.stop()


def use_color(flag: bool | None = None) -> bool:
    """Colour on stdout: ``--color``/``--no-color`` (of the command, or ``--no-color`` given to
    any command), else ``NO_COLOR`` (set and not empty: off), ``FORCE_COLOR`` (on), else
    whether stdout is a terminal."""
    if flag is not None:
        return flag
    from spo_gitops.cli.habits import no_color

    if no_color():
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()
