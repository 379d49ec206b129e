"""``spo graph``: the dependency graph of services, suppliers and pools."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import emit, project_from
from spo_gitops.report.graph import build_graph, render


@click.command()
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["dot", "mermaid", "svg"]),
    default="dot",
    show_default=True,
    help="svg uses Graphviz's dot when installed, else a built-in layout.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file."
)
@click.pass_context
def graph(ctx: click.Context, fmt: str, output: Path | None) -> int:
    """The dependency graph of services, their suppliers and resource pools."""
    result = run_validate(project_from(ctx))
    text = render(build_graph(result.index), fmt)  # type: ignore[arg-type]
    if fmt == "svg":
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + text
    emit(text, output)
    return 0
