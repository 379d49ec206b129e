"""The one jinja2 environment factory: sandboxed, strict about undefined names."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["Budget", "SandboxedEnvironment", "TooMuchWork", "environment", "render_bounded"]


class TooMuchWork(jinja2.TemplateRuntimeError):
    """A template ran past its budget of steps, seconds or output (a loop that never ends)."""


@dataclass(frozen=True)
class Budget:
    """What one rendering may spend: loop iterations and calls (steps), wall-clock seconds, and
    characters of output (or of one value built by ``*`` or ``**``)."""

    steps: int = 2_000_000
    seconds: float = 10.0
    size: int = 10_000_000


class _Spending:
    __slots__ = ("budget", "deadline", "left", "seen")

    def __init__(self, budget: Budget, seen: set[str] | None) -> None:
        self.budget = budget
        self.left = budget.steps
        self.deadline = time.monotonic() + budget.seconds
        self.seen = seen  # names of the keys the template looked up, when asked

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise TooMuchWork(
                f"rendering stopped after {self.budget.steps:,} steps (loop iterations and "
                "calls): is a loop nested too deep?"
            )
        if self.left % 1024 == 0 and time.monotonic() > self.deadline:
            raise TooMuchWork(f"rendering stopped after {self.budget.seconds:g} seconds")


_spending: ContextVar[_Spending | None] = ContextVar("spo_template_spending", default=None)


def _counted(iterable: Iterable[Any], spending: _Spending) -> Iterator[Any]:
    for item in iterable:
        spending.spend()
        yield item


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with every loop iteration, call and operator counted while a template is
    rendered by :func:`render_bounded` (elsewhere nothing is counted)."""

    intercepted_binops = frozenset({"*", "**"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):  # for x in steps(ITER): each iteration counts
            loop.iter = nodes.Call(
                nodes.EnvironmentAttribute("steps"), [loop.iter], [], None, None
            ).set_lineno(loop.lineno)
        return tree

    def steps(self, iterable: Any) -> Any:
        spending = _spending.get()
        return iterable if spending is None else _counted(iterable, spending)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        spending = _spending.get()
        if spending is not None:
            spending.spend()
            if (
                spending.seen is not None
                and args
                and isinstance(args[0], str)
                and getattr(__obj, "__name__", "") == "get"
                and isinstance(getattr(__obj, "__self__", None), dict)
            ):
                spending.seen.add(args[0])  # mapping.get('key')
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        spending = _spending.get()
        if spending is not None and spending.seen is not None:
            spending.seen.add(attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        spending = _spending.get()
        if spending is not None and spending.seen is not None and isinstance(argument, str):
            spending.seen.add(argument)
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        spending = _spending.get()
        if spending is not None:
            spending.spend()
            _check_size(operator, left, right, spending.budget.size)
        return super().call_binop(context, operator, left, right)


def _check_size(operator: str, left: Any, right: Any, limit: int) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
            if sized and len(seq) * times > limit:
                raise TooMuchWork(f"a value of more than {limit:,} items or characters")
    elif operator == "**" and isinstance(left, int | float) and isinstance(right, int | float):
        digits = right * math.log10(abs(left)) if abs(left) > 1 and right > 0 else 0
        if digits > 10_000:
            raise TooMuchWork("a number of more than 10,000 digits")


def render_bounded(
    template: jinja2.Template,
    context: dict[str, Any],
    budget: Budget | None = None,
    *,
    seen: set[str] | None = None,
) -> str:
    """``template.render(context)`` within ``budget``: TooMuchWork (a TemplateError, pointing at
    the template's line) when it runs past it, or recurses too deep. With ``seen``, the names of
    the keys the template looks up are added to it."""
    budget = budget or Budget()
    token = _spending.set(_Spending(budget, seen))
    try:
        out: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > budget.size:
                raise TooMuchWork(f"rendering stopped at {budget.size:,} characters of output")
            out.append(chunk)
        return "".join(out)
    except RecursionError as e:
        error = TooMuchWork("rendering stopped: a macro or recursive loop calls itself too deep")
        raise error.with_traceback(e.__traceback__) from None
    finally:
        _spending.reset(token)


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
    return BoundedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
