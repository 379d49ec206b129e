"""Where a policy finding points: the start of its entity's document, found without a re-parse.

A finding about a whole entity points where its document's root node starts (what
``Document.diag`` with no path gives). The loader drops the node graphs, so ``Document.diag``
re-parses the file for it (about 0.6 ms); a policy run with thousands of findings spent seconds
there. The root starts on ``Document.line``; its column is that of the first token on that line
(after a ``---`` marker), which reading the line gives. Anything unusual falls back to
``Document.diag``.
"""

from __future__ import annotations

import re

from spo_gitops.catalog.documents import Document
from spo_gitops.diagnostics import Diagnostic, Severity, pointer_join

# Line breaks as YAML (libyaml) counts them; str.splitlines() also splits on \v, \f, \x1c-\x1e.
_BREAKS = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")


class RootPositions:
    """Root-node positions of documents, reading each file once per run."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def _file_lines(self, fs_path: str) -> list[str] | None:
        if fs_path not in self._lines:
            try:
                with open(fs_path, encoding="utf-8-sig", newline="") as fh:
                    self._lines[fs_path] = _BREAKS.split(fh.read())
            except (OSError, UnicodeDecodeError):
                self._lines[fs_path] = None
        return self._lines[fs_path]

    def column(self, doc: Document) -> int | None:
        """1-based column of the root node of ``doc`` on ``doc.line``, None when unsure."""
        lines = self._file_lines(doc.fs_path)
        if lines is None or not 0 < doc.line <= len(lines):
            return None
        line = lines[doc.line - 1]
        start = 0
        if line.startswith("---") and line[3:4] in (" ", "\t"):
            start = 4
        rest = line[start:].lstrip(" \t" if start else " ")
        if not rest or rest[0] in "#\t" or rest.startswith(("---", "...")):
            return None
        return len(line) - len(rest) + 1

    def diag(
        self,
        doc: Document,
        code: str,
        message: str,
        *,
        severity: Severity = "error",
        hint: str | None = None,
    ) -> Diagnostic:
        """``doc.diag(code, message, severity=..., hint=...)``, without re-parsing the file."""
        column = self.column(doc) if doc.node is None else None
        if column is None:
            return doc.diag(code, message, severity=severity, hint=hint)
        return Diagnostic(
            severity,
            code,
            message,
            doc.file,
            doc.line,
            column,
            entity=doc.ref if doc.name else None,
            pointer=pointer_join([]),
            hint=hint,
        )
