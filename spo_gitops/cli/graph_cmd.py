"""``spo graph``: the dependency graph of services, suppliers and pools."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import project_from, require_catalog
from spo_gitops.cli.output import format_option, output_option, write_output
from spo_gitops.report.formats import render
from spo_gitops.report.graph import build_graph


@click.command()
@format_option("graph", help="svg uses Graphviz's dot when installed, else a built-in layout.")
@output_option()
@click.pass_context
def graph(ctx: click.Context, fmt: str, output: Path | None) -> int:
    """The dependency graph of services, their suppliers and resource pools."""
    project = project_from(ctx)
    require_catalog(project)
    result = run_validate(project)
    write_output(render("graph", fmt, build_graph(result.index)), output, "the graph")
    return 0
