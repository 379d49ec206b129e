"""The one way commands take ``--format`` and ``-o`` and write what they rendered.

``format_option(kind)`` offers the formats of a result type (``spo_gitops.report.formats``);
``output_option()`` takes a file; :func:`write_output` writes it atomically and says on stderr
what it wrote, or prints to stdout without ``-o``. An unwritable path is one line with a hint and
exit 1. :func:`output_folder` checks a folder given to ``-o`` (``spo docs build``): never the
catalog's root or a folder that holds it.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from spo_gitops.cli.habits import info
from spo_gitops.config import Project
from spo_gitops.errors import OutputError, UsageError
from spo_gitops.fsutil import write_atomic
from spo_gitops.report.formats import formats

F = TypeVar("F", bound=Callable[..., Any])


def format_option(
    kind: str, default: str | None = None, help: str = "Output format."
) -> Callable[[F], F]:
    choices = formats(kind)
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default or choices[0],
        show_default=True,
        help=help,
    )


def output_option(help: str = "Write to this file instead of standard output.") -> Callable[[F], F]:
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


def _reason(e: OSError) -> str:
    return {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOENT: "a folder on the way does not exist",
        errno.ENOTDIR: "a part of the path is not a folder",
        errno.EEXIST: "a part of the path is a file, not a folder",
        errno.EISDIR: "it is a folder",
        errno.EROFS: "the file system is read-only",
        errno.ENOSPC: "no space left on the device",
    }.get(e.errno or 0, e.strerror or str(e))


def write_file(path: Path, content: str | bytes) -> None:
    """``content`` written atomically to ``path``; an OSError becomes an :class:`OutputError`."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder", hint="name a file for -o")
    try:
        write_atomic(path, content)
    except OSError as e:
        raise OutputError(
            f"cannot write {path}: {_reason(e)}",
            hint="choose a path you can write to, e.g. in the current folder",
        ) from e


def write_output(text: str, output: Path | None, what: str) -> None:
    """``text`` to stdout, or to the file ``output`` with a line on stderr naming ``what``."""
    if output is None:
        # colour was decided by the command (use_color): click must not strip it again
        click.echo(text, nl=not text.endswith("\n"), color=True)
        return
    write_file(output, text)
    info(f"spo: wrote {what} to {output}")


def output_folder(project: Project, folder: Path) -> Path:
    """``folder`` when it is a place to write generated files into; refuses the catalog's root
    (and any folder above it), where a build would mix its files with the catalog's."""
    target = folder.resolve()
    root = project.root.resolve()
    if project.config_file is not None and (target == root or root.is_relative_to(target)):
        raise UsageError(
            f"refusing to write into {folder}: it is the catalog's root folder"
            if target == root
            else f"refusing to write into {folder}: it holds the catalog",
            hint="name a folder of its own, e.g. -o site",
        )
    if target.exists() and not target.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file", hint="name a folder")
    return folder
