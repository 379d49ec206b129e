"""Renderers for findings. Each is a pure function from a run's findings to a ``str``.

The core returns findings; the CLI picks a format and writes what ``render`` returns.
Every rendering ends with a newline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.report import formats
from spo_gitops.report.common import Run

FORMATS = formats.formats("findings")


def render(
    fmt: str,
    findings: list[Diagnostic],
    *,
    root: Path,
    files: list[str],
    documents: int,
    tool_version: str,
    color: bool = False,
    policies: list[Mapping[str, Any]] | None = None,
    prefix: str = "",
) -> str:
    """Render sorted ``findings`` of a run over ``files`` (display paths, relative to ``root``),
    through the findings' line of the renderer table (report/formats.py): only the format asked
    for is imported.

    ``color`` applies to the text format only. ``policies`` (Policy documents' data) describe
    the policy codes where a format describes its rules; ``prefix`` is the folder of ``root``
    in its git repository, for formats whose paths are relative to the repository.
    """
    formats.renderer("findings", fmt)  # an unknown format is a usage error, before any work
    rules = {}
    if policies:
        from spo_gitops.report.rules import describe

        rules = describe(findings, policies)
    run = Run(tuple(findings), root, tuple(files), documents, tool_version, rules, prefix)
    return formats.render("findings", fmt, run, color=color)


__all__ = ["FORMATS", "render"]
