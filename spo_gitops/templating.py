"""The one jinja2 environment factory: sandboxed, strict about undefined names."""

from __future__ import annotations

from importlib import resources

import jinja2
from jinja2.sandbox import SandboxedEnvironment


def environment(*search: str, html: bool = False) -> SandboxedEnvironment:
    """An environment over the package's templates/<search...> folders (first match wins).

    ``html`` turns autoescaping on, so catalog text containing markup is shown as text.
    """
    root = resources.files("spo_gitops") / "templates"
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FileSystemLoader(str(root / folder)) for folder in search
    ]
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
