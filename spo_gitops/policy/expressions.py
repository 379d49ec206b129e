"""CEL expressions of policies: compiled once, checked for unknown functions, run safely.

The CEL implementation is ``common-expression-language`` (module ``cel``, Rust bindings); see
docs/policies.md for why. This module is the only one that imports it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any


@cache
def cel_module() -> ModuleType:
    """The CEL library, imported on first use, without its command-line interface.

    ``import cel`` runs the package's ``__init__``, which imports its own CLI and with it
    prompt_toolkit: about 1 s of start-up that no policy needs. A placeholder stands in for
    ``cel.cli`` while the package is imported, and is taken away afterwards (so that a later
    ``import cel.cli`` gets the real one).
    """
    if "cel" in sys.modules:
        return sys.modules["cel"]
    placeholder = ModuleType("cel.cli")
    sys.modules["cel.cli"] = placeholder
    try:
        import cel
    finally:
        if sys.modules.get("cel.cli") is placeholder:
            del sys.modules["cel.cli"]
    if getattr(cel, "cli", None) is placeholder:
        del cel.cli
    return cel


# Functions of the CEL core the Rust implementation provides (operators are named _x_, @x, !_).
BUILTINS = frozenset(
    [
        "size",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "bool",
        "dyn",
        "type",
        "timestamp",
        "duration",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "has",
        "all",
        "exists",
        "exists_one",
        "map",
        "filter",
        "getFullYear",
        "getMonth",
        "getDayOfYear",
        "getDayOfMonth",
        "getDate",
        "getDayOfWeek",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    ]
)
_INTERPOLATION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(Exception):
    """An expression that does not compile, or fails on an entity."""


@dataclass(frozen=True)
class Expression:
    source: str
    program: Any  # cel.Program

    def run(self, context: Any) -> Any:
        """The value of the expression; ExpressionError for anything that goes wrong."""
        try:
            return self.program.execute(context)
        except Exception as e:  # the CEL library raises KeyError, TypeError, RuntimeError, ...
            raise ExpressionError(describe(e)) from e


def describe(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, KeyError):
        return f"no such key: {text}"
    return text.splitlines()[0] if "\n" not in text else _first_lines(text)


def _first_lines(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:1]) + (f" ({lines[1].strip()})" if len(lines) > 1 else "")


def compile_expression(source: str, functions: Iterable[str]) -> Expression:
    """Compile ``source``; ExpressionError for a syntax error or an unknown function."""
    try:
        program = cel_module().compile(source)
    except Exception as e:
        raise ExpressionError(describe(e)) from e
    known = BUILTINS | set(functions)
    unknown = sorted(
        f
        for f in program.functions()
        if not f.startswith(("_", "@", "!_", "-_")) and f not in known and "." not in f
    )
    if unknown:
        raise ExpressionError(
            f"unknown function {', '.join(unknown)}(); "
            f"available: {', '.join(sorted(set(functions)))}"
        )
    return Expression(source, program)


@dataclass(frozen=True)
class Template:
    """A message with ``{{ expr }}`` parts."""

    parts: tuple[str | Expression, ...]

    def render(self, context: Any) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            try:
                out.append(format_value(part.run(context)))
            except ExpressionError as e:
                out.append(f"<{e}>")
        return "".join(out)


def compile_template(text: str, functions: Iterable[str]) -> Template:
    names = list(functions)
    parts: list[str | Expression] = []
    pos = 0
    for m in _INTERPOLATION.finditer(text):
        parts.append(text[pos : m.start()])
        parts.append(compile_expression(m.group(1).strip(), names))
        pos = m.end()
    parts.append(text[pos:])
    return Template(tuple(p for p in parts if p != ""))


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else str(value)
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    return str(value)
