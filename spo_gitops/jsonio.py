"""JSON in and out of spo: strict JSON only, in one place.

NaN and the infinities are not JSON; Python's json module writes them (``NaN``, ``Infinity``) and
reads them back unless told otherwise, and a plan file or report holding one breaks every other
JSON reader. Everything spo writes goes through :func:`dumps`/:func:`dump`, which refuse them
(ValueError), and :func:`loads` refuses them in what it reads (a provider's answer, a plan file).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any


def _refuse(constant: str) -> Any:
    # a JSONDecodeError, so that every handler of malformed JSON handles this one too
    raise json.JSONDecodeError(f"{constant} is not JSON (NaN and infinities are refused)", "", 0)


def dumps(value: Any, **options: Any) -> str:
    """:func:`json.dumps` that refuses NaN and infinities."""
    return json.dumps(value, allow_nan=False, **options)


def dump(value: Any, fh: IO[str], **options: Any) -> None:
    """:func:`json.dump` that refuses NaN and infinities."""
    json.dump(value, fh, allow_nan=False, **options)


def loads(text: str | bytes) -> Any:
    """:func:`json.loads` that refuses NaN and infinities (``NaN``, ``Infinity``)."""
    return json.loads(text, parse_constant=_refuse)


def json_lines(text: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, object, problem) for every non-empty line of JSON lines text: the object
    when the line is a JSON object, else None and what is wrong with the line."""
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = loads(raw)
        except json.JSONDecodeError as e:
            yield n, None, f"line is not JSON: {e.msg}"
            continue
        if not isinstance(obj, dict):
            yield n, None, "line is not a JSON object"
            continue
        yield n, obj, None
