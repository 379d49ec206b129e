"""``spo capacity forecast``: committed and pipeline demand per pool and quarter."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.cli.common import emit, project_from, read_catalog
from spo_gitops.report.formats import formats, render


@click.group()
def capacity() -> None:
    """Resource pool capacity over time."""


@capacity.command("forecast")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(formats("forecast")),
    default="text",
    show_default=True,
)
@click.option(
    "--quarters",
    type=click.IntRange(1, 40),
    help="Quarters to look ahead (default: spo.yaml portfolio.forecastQuarters, 8).",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file."
)
@click.pass_context
def forecast(ctx: click.Context, fmt: str, quarters: int | None, output: Path | None) -> int:
    """Per pool and quarter from the validation date's: committed demand (services in
    provisioned stages, until a planned retirement) plus the pipeline's (from its planned
    go-live), against capacity; and the first quarter each pool overbooks."""
    from spo_gitops.portfolio.forecast import forecast as build

    project = project_from(ctx)
    result = read_catalog(project)
    pools = build(
        result.index,
        project.today(),
        project.config.reconcile.provisioned_stages,
        quarters or project.config.portfolio.forecast_quarters,
    )
    emit(render("forecast", fmt, pools), output)
    return 0
