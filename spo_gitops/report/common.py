"""What every renderer shares: the run being reported, the summary line, message texts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from spo_gitops.diagnostics import Diagnostic, Findings

if TYPE_CHECKING:
    from spo_gitops.report.rules import Rule

TOOL_NAME = "spo-gitops"
INFORMATION_URI = "https://github.com/spo-gitops/spo-gitops"
CATALOG = "<catalog>"  # where a finding without a file is shown


@dataclass(frozen=True, slots=True)
class Run:
    """One validation run as the renderers see it."""

    findings: tuple[Diagnostic, ...]
    root: Path
    files: tuple[str, ...]
    documents: int
    tool_version: str
    # what each code means (the policies' titles and hints); reports that describe rules use it
    rules: Mapping[str, Rule] = field(default_factory=dict)
    # the project's folder in its git repository ('' at the root), for repository-relative paths
    prefix: str = ""

    def counts(self) -> dict[str, int]:
        """Counts by severity (waived findings not included) plus ``waived``."""
        return Findings(list(self.findings)).counts()


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(run: Run) -> str:
    """``Checked 57 documents in 31 files: 2 errors, 1 warning, 0 info (1 waived)``."""
    c = run.counts()
    checked = f"Checked {plural(run.documents, 'document')} in {plural(len(run.files), 'file')}"
    waived = f" ({c['waived']} waived)" if c["waived"] else ""
    if c["error"] + c["warning"] + c["info"] == 0:
        return f"{checked}: no problems found{waived}."
    counted = f"{plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, {c['info']} info"
    return f"{checked}: {counted}{waived}"


def headline(d: Diagnostic) -> str:
    """The message with the entity it is about: ``message [Kind:name]``."""
    return f"{d.message} [{d.entity}]" if d.entity else d.message


def full_message(d: Diagnostic) -> str:
    """The headline, then the hint on a line of its own."""
    text = headline(d)
    if d.hint:
        text += f"\nhint: {d.hint}"
    return text
