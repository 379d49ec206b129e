"""Secrets never leave: the one home of redaction, by key and by value.

A provider names the properties of a resource type that are secret (``ResourceType.sensitive``).
Their values are replaced by ``(sensitive)`` by key wherever properties are shown or stored, and
by value everywhere else: a provider's answer that echoes a secret under another field, an API
error that quotes the request, a schema error that quotes the whole object. Every exit (plan
files, plan and drift output, apply output, the journal, the state, the bug-report log) passes
through :func:`redact` (properties, by key) and a :class:`Secrets` (anything, by value).

The process also remembers every secret value it has seen (:func:`remember`), so that a last
line of defence such as the bug-report log can scrub text it knows nothing about
(:func:`scrub`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "(sensitive)"
MIN_LENGTH = 4  # shorter values would redact half of every message; they are no secret anyway

_known: set[str] = set()
_known_lock = threading.Lock()


def redact(properties: Mapping[str, Any], sensitive: Iterable[str]) -> dict[str, Any]:
    """``properties`` with the values of the ``sensitive`` keys replaced."""
    secret = set(sensitive)
    return {k: (REDACTED if k in secret else v) for k, v in properties.items()}


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def secret_values(properties: Mapping[str, Any], sensitive: Iterable[str]) -> set[str]:
    """The values (every leaf, as text) of the ``sensitive`` keys of ``properties``."""
    out: set[str] = set()
    for key in sensitive:
        if key in properties:
            out.update(v for v in _leaves(properties[key]) if len(v) >= MIN_LENGTH)
    return out


class Secrets:
    """A set of secret values, and the redaction of any text or data that contains one."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        fresh = {v for v in values if len(v) >= MIN_LENGTH}
        self._values.update(fresh)
        remember(fresh)

    def add_properties(self, properties: Mapping[str, Any], sensitive: Iterable[str]) -> None:
        self.add(secret_values(properties, sensitive))

    def __bool__(self) -> bool:
        return bool(self._values)

    def text(self, text: str) -> str:
        """``text`` with every secret value in it replaced (longest first, so that a secret
        that contains another is replaced whole)."""
        if not self._values or not text:
            return text
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def data(self, value: Any) -> Any:
        """A copy of ``value`` (JSON-like data) with every secret in its strings replaced."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.data(v) for v in value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return REDACTED if str(value) in self._values else value
        return value


def remember(values: Iterable[str]) -> None:
    """Add secret values to what :func:`scrub` removes from text in this process."""
    with _known_lock:
        _known.update(v for v in values if len(v) >= MIN_LENGTH)


def scrub(text: str) -> str:
    """``text`` without any secret value this process has seen."""
    with _known_lock:
        known = Secrets.__new__(Secrets)
        known._values = set(_known)
    return known.text(text)
