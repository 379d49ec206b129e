"""Exceptions. One base class; each subclass also inherits the matching builtin.

Every class carries the exit code the CLI ends with when it is raised (as click's exceptions do):
1 for an expected failure (a user mistake or a failed operation), 64 for a usage error. Only bugs,
which are not ``SpoError``, end with 70.
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 64


class SpoError(Exception):
    """An expected failure: the CLI prints its message (and hint) and exits with ``exit_code``."""

    exit_code: int = EXIT_FAILURE
    label: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(SpoError, ValueError):
    """spo.yaml is missing, unreadable or invalid."""


class CatalogLoadError(SpoError, OSError):
    """A catalog path cannot be read at all (as opposed to a file with findings)."""


class EmptyCatalogError(SpoError, FileNotFoundError):
    """There is no catalog here, or its paths match no file: nothing to check is not success."""


class SchemaDriftError(SpoError, RuntimeError):
    """Committed schema files differ from the models."""


class UsageError(SpoError, ValueError):
    """The command line asks for something impossible; the CLI exits 64."""

    exit_code = EXIT_USAGE
    label = "usage error"


class OutputError(SpoError, OSError):
    """An output file or directory (``-o``) cannot be written."""


class Cancelled(SpoError, RuntimeError):
    """The user declined a confirmation (e.g. ``spo apply`` answered "no"): exit 1, not 130."""


class MissingExtraError(SpoError, ImportError):
    """A command needs an optional dependency that is not installed.

    ``extra`` is the name of the package extra that provides it (``aws``, ``postgres``, ``http``,
    ``charts``); the message names the module that is missing and the hint the install command.
    """

    def __init__(
        self, extra: str, *, module: str | None = None, feature: str | None = None
    ) -> None:
        what = feature or "this command"
        missing = f" ({module} is not installed)" if module else ""
        super().__init__(
            f"{what} needs the optional dependency '{extra}'{missing}",
            hint=f"pip install 'spo-gitops[{extra}]'",
        )
        self.extra = extra
        self.module = module
