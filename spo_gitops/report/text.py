"""Compiler-style text: each finding with its source line and a caret under the column.

catalog/slas/banking.yaml:14:7: error SPO204 'target' must be a number [ServiceLevelAgreement:x]
  14 |       target: high
     |       ^
  hint: ...
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from spo_gitops.catalog.files import boundary
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.fsutil import read_limited
from spo_gitops.report.common import Run, summary

TAB_SIZE = 4
MAX_SOURCE_BYTES = 8 * 1024 * 1024  # larger files get no excerpt: reading them is not worth it
MAX_EXCERPT = 160  # characters of a long source line shown around the column
BEFORE_CARET = 60

# The line breaks YAML (and so libyaml's marks) count: CRLF, CR, LF, NEL, LS, PS.
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_ELLIPSIS = "…"
_REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
# Bidirectional controls would reorder what the terminal shows (as "Trojan Source" does).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_GUTTER = "\x1b[1;34m"
_DIM = "\x1b[2m"
_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}


class Sources:
    """Source lines by file, each file read at most once; None where a file can't be shown."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fence = boundary(root)
        self._lines: dict[str, list[str] | None] = {}

    def line(self, file: str, number: int) -> str | None:
        if file not in self._lines:
            self._lines[file] = self._read(file)
        lines = self._lines[file]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]

    def _read(self, file: str) -> list[str] | None:
        path = self.root / file
        try:  # never quote a file outside the repository (a link to /proc/self/environ)
            if not path.resolve().is_relative_to(self._fence):
                return None
            data = read_limited(path, MAX_SOURCE_BYTES)
        except (OSError, ValueError):  # missing, unreadable, a directory, a NUL in the name
            return None
        if len(data) > MAX_SOURCE_BYTES:
            return None
        try:
            return _BREAKS.split(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return None


def _safe(ch: str) -> str:
    """A control or bidi character as a visible stand-in (so no source can drive the terminal)."""
    if ch in _BIDI or (unicodedata.category(ch) == "Cc" and ch != "\t"):
        return _REPLACEMENT
    return ch


def _safe_text(s: str) -> str:
    """A message: line breaks kept, each later line indented, so that no line of the report
    starts with what a CI runner reads as a command (``::error``)."""
    text = "".join(ch if ch in "\t\n" else _safe(ch) for ch in s)
    return text.replace("\n", "\n    ")


def safe_name(s: str) -> str:
    """A file name or entity on one line: every control character (newlines too) shown as a
    stand-in."""
    return "".join(_safe(ch) if ch != "\t" else _REPLACEMENT for ch in s)


def char_width(ch: str) -> int:
    """Terminal columns a character takes: 0 for combining marks, 2 for wide East Asian ones."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def excerpt(source: str, column: int | None) -> tuple[str, int | None]:
    """The line as shown (tabs expanded, long lines cut) and the caret's offset in it.

    Tabs are expanded by display position, so the caret line, which is all spaces up to the
    caret, lines up with the source line whatever mix of tabs and wide characters precedes it.
    """
    index = None if column is None else max(column - 1, 0)
    start = 0
    if len(source) > MAX_EXCERPT:
        start = max(0, min((index or 0) - BEFORE_CARET, len(source) - MAX_EXCERPT))
    end = start + MAX_EXCERPT
    parts: list[str] = []
    pos = 0
    caret = None
    if start > 0:
        parts.append(_ELLIPSIS)
        pos += 1
    for i, ch in enumerate(source[start:end], start):
        if i == index:
            caret = pos
        if ch == "\t":
            n = TAB_SIZE - pos % TAB_SIZE
            parts.append(" " * n)
            pos += n
        else:
            shown = _safe(ch)
            parts.append(shown)
            pos += char_width(shown)
    if index is not None and caret is None:
        caret = pos  # at or past the end of the line: just after its last character
    if end < len(source):
        parts.append(_ELLIPSIS)
    return "".join(parts).rstrip(), caret


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def _finding(d: Diagnostic, sources: Sources, style: _Style) -> list[str]:
    severity = style(d.severity, _COLORS[d.severity])
    head = f"{style(safe_name(d.location()), _BOLD)}: {severity} {d.code} {_safe_text(d.message)}"
    if d.entity:
        head += f" [{safe_name(d.entity)}]"
    if d.waived is not None:
        head += " " + style(f"(waived: {_safe_text(d.waived)})", _DIM)
    lines = [head]
    source = sources.line(d.file, d.line) if d.file is not None and d.line is not None else None
    if source is not None and d.line is not None:
        shown, caret = excerpt(source, d.column)
        number = str(d.line)
        pad = " " * len(number)
        lines.append(f"  {style(number + ' |', _GUTTER)} {shown}".rstrip())
        if caret is not None:
            caret_mark = style("^", _COLORS[d.severity])
            lines.append(f"  {style(pad + ' |', _GUTTER)} {' ' * caret}{caret_mark}")
    if d.hint:
        lines.append(f"  {style('hint:', _BOLD)} {_safe_text(d.hint)}")
    return lines


def render(run: Run, *, color: bool = False) -> str:
    style = _Style(color)
    sources = Sources(run.root)
    blocks = ["\n".join(_finding(d, sources, style)) for d in run.findings]
    blocks.append(summary(run))
    return "\n\n".join(blocks) + "\n"
