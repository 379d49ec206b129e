"""Renderers for findings. Each is a pure function from a run's findings to a ``str``.

The core returns findings; the CLI picks a format and writes what ``render`` returns.
Every rendering ends with a newline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.errors import UsageError
from spo_gitops.report import github, json_report, junit, sarif, text
from spo_gitops.report.common import Run
from spo_gitops.report.rules import describe

FORMATS = ("text", "json", "github", "sarif", "junit")

_RENDERERS: dict[str, Callable[[Run], str]] = {
    "json": json_report.render,
    "github": github.render,
    "sarif": sarif.render,
    "junit": junit.render,
}


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
    """Render sorted ``findings`` of a run over ``files`` (display paths, relative to ``root``).

    ``color`` applies to the text format only. ``policies`` (Policy documents' data) describe
    the policy codes where a format describes its rules; ``prefix`` is the folder of ``root``
    in its git repository, for formats whose paths are relative to the repository.
    """
    rules = describe(findings, policies) if policies else {}
    run = Run(tuple(findings), root, tuple(files), documents, tool_version, rules, prefix)
    if fmt == "text":
        return text.render(run, color=color)
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise UsageError(f"unknown output format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    return renderer(run)


__all__ = ["FORMATS", "render"]
