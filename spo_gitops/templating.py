"""The one jinja2 environment factory: sandboxed, strict about undefined names."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["SandboxedEnvironment", "environment"]


def environment(
    *search: str, folders: Sequence[Path] = (), html: bool = False
) -> SandboxedEnvironment:
    """An environment over ``folders`` (a repository's own templates, searched first) and then the
    package's templates/<search...> folders; the first match wins.

    ``html`` turns autoescaping on, so catalog text containing markup is shown as text.
    """
    root = resources.files("spo_gitops") / "templates"
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(f)) for f in folders]
    loaders.extend(jinja2.FileSystemLoader(str(root / folder)) for folder in search)
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
