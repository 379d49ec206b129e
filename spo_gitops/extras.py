"""Optional dependencies: which package extra provides which module, and the one guard.

The core install (validate, diff, plan and apply on the embedded providers, text and JSON
reports) needs none of these. Code that needs one imports it inside :func:`guard`, which turns a
missing module into :class:`~spo_gitops.errors.MissingExtraError`: the CLI exits 1 with
``pip install 'spo-gitops[NAME]'`` instead of a traceback. Loaders of plugins (the provider
registry) translate an ``ImportError`` with :func:`missing_extra` the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from spo_gitops.errors import MissingExtraError

#: top-level module -> the extra in pyproject.toml that installs it
EXTRA_OF: dict[str, str] = {
    "matplotlib": "charts",
    "psycopg": "postgres",
    "requests": "http",
    "urllib3": "http",
    "boto3": "aws",
    "botocore": "aws",
}


def missing_extra(error: ImportError, feature: str | None = None) -> MissingExtraError | None:
    """The extra to install when ``error`` is a module of an extra failing to import."""
    name = (error.name or "").partition(".")[0]
    extra = EXTRA_OF.get(name)
    if extra is None:
        return None
    return MissingExtraError(extra, module=name, feature=feature)


@contextmanager
def guard(feature: str) -> Iterator[None]:
    """Imports of optional modules go inside: a missing one names the extra to install."""
    try:
        yield
    except ImportError as e:
        translated = missing_extra(e, feature)
        if translated is None:
            raise
        raise translated from e
