"""Exceptions. One base class; each subclass also inherits the matching builtin."""

from __future__ import annotations


class SpoError(Exception):
    """An expected failure: the CLI prints its message (and hint) and exits 1."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(SpoError, ValueError):
    """spo.yaml is missing, unreadable or invalid."""


class CatalogLoadError(SpoError, OSError):
    """A catalog path cannot be read at all (as opposed to a file with findings)."""


class SchemaDriftError(SpoError, RuntimeError):
    """Committed schema files differ from the models."""


class UsageError(SpoError, ValueError):
    """The command line asks for something impossible; the CLI exits 64."""
