"""Colour for the text of plans, diffs and drift: each line coloured by the symbol it starts with
(``+`` create/added green, ``-`` delete/removed red, ``~`` update yellow, ``-/+`` replace magenta,
``!`` drift yellow). The renderers call :func:`colorize` only when asked to (``color=True``); the
CLI decides (``--no-color``, ``NO_COLOR``, ``FORCE_COLOR``, a terminal)."""

from __future__ import annotations

_CODES = {"green": "32", "red": "31", "yellow": "33", "magenta": "35", "bold": "1"}
_BY_SYMBOL = (
    ("-/+ ", "magenta"),
    ("+ ", "green"),
    ("- ", "red"),
    ("~ ", "yellow"),
    ("→ ", "yellow"),
    ("! ", "yellow"),
)


def paint(text: str, color: str) -> str:
    return f"\x1b[{_CODES[color]}m{text}\x1b[0m"


def colorize(text: str) -> str:
    """``text`` with each line that starts (after its indent) with a change symbol coloured."""
    out = []
    for line in text.split("\n"):
        body = line.lstrip(" ")
        color = next((c for symbol, c in _BY_SYMBOL if body.startswith(symbol)), None)
        out.append(paint(line, color) if color else line)
    return "\n".join(out)
