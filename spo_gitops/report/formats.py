"""How each result type is rendered in each format: the one table the commands pick from.

A result type (``findings``, ``plan``, ``drift``, ``diff``, ``sla``, ``portfolio``, ``forecast``,
``graph``, ``state``) maps
format names to the function that turns that result into text (``module:function``, imported on
first use, so that ``spo validate`` does not import the SLA or graph code). Every renderer takes
the result and returns a ``str`` ending in a newline; a few take keyword options of their own
(``color`` for findings as text, chart options for SLA reports). To add a format, add its line here.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from spo_gitops.errors import UsageError

TABLE: dict[str, dict[str, str]] = {
    "findings": {
        "text": "spo_gitops.report.text:render",
        "json": "spo_gitops.report.json_report:render",
        "github": "spo_gitops.report.github:render",
        "sarif": "spo_gitops.report.sarif:render",
        "junit": "spo_gitops.report.junit:render",
    },
    "plan": {
        "text": "spo_gitops.report.plan:render_text",
        "markdown": "spo_gitops.report.plan:render_markdown",
        "json": "spo_gitops.provision.planfile:dumps",
    },
    "drift": {
        "text": "spo_gitops.report.drift:render_text",
        "markdown": "spo_gitops.report.drift:render_markdown",
        "json": "spo_gitops.report.drift:render_json",
    },
    "diff": {
        "text": "spo_gitops.report.diff:render_text",
        "markdown": "spo_gitops.report.diff:render_markdown",
        "json": "spo_gitops.report.diff:render_json",
    },
    "sla": {
        "text": "spo_gitops.sla.render:render_text",
        "markdown": "spo_gitops.sla.render:render_markdown",
        "json": "spo_gitops.sla.render:render_json",
        "html": "spo_gitops.sla.render:render_html",
    },
    "portfolio": {
        "text": "spo_gitops.portfolio.render:render_text",
        "markdown": "spo_gitops.portfolio.render:render_markdown",
        "json": "spo_gitops.portfolio.render:render_json",
        "html": "spo_gitops.portfolio.render:render_html",
    },
    "forecast": {
        "text": "spo_gitops.portfolio.render:forecast_text",
        "markdown": "spo_gitops.portfolio.render:forecast_markdown",
        "json": "spo_gitops.portfolio.render:forecast_json",
    },
    "graph": {
        "dot": "spo_gitops.report.graph:to_dot",
        "mermaid": "spo_gitops.report.graph:to_mermaid",
        "svg": "spo_gitops.report.graph:svg_document",
    },
    "state": {
        "text": "spo_gitops.report.state:render_text",
        "json": "spo_gitops.report.state:render_json",
    },
}


def formats(kind: str) -> tuple[str, ...]:
    """The format names of result type ``kind``, the default first."""
    return tuple(TABLE[kind])


def renderer(kind: str, fmt: str) -> Callable[..., str]:
    """The renderer of ``kind`` results in format ``fmt``."""
    target = TABLE[kind].get(fmt)
    if target is None:
        raise UsageError(
            f"unknown output format {fmt!r}", hint=f"use one of {', '.join(formats(kind))}"
        )
    module, _, name = target.partition(":")
    function: Callable[..., str] = getattr(importlib.import_module(module), name)
    return function


def render(kind: str, fmt: str, result: Any, **options: Any) -> str:
    """``result`` (of type ``kind``) rendered as ``fmt``. Options are passed to the renderers
    that take them (``color`` to the text renderers of findings, plans, diffs and drift) and
    left out for the others, so that a command can say once what it wants."""
    function = renderer(kind, fmt)
    accepted = inspect.signature(function).parameters
    return function(result, **{k: v for k, v in options.items() if k in accepted})
