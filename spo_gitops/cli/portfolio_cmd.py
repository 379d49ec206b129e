"""``spo portfolio report``: the portfolio board's questions answered from the catalog."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.cli.common import emit, project_from, read_catalog
from spo_gitops.report.formats import formats, render


@click.group()
def portfolio() -> None:
    """Portfolio decisions: money, stages, lead times, run budget, risks."""


@portfolio.command("report")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(formats("portfolio")),
    default="text",
    show_default=True,
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file."
)
@click.pass_context
def report(ctx: click.Context, fmt: str, output: Path | None) -> int:
    """Services per stage and domain; investment, annual cost, TCO, NPV, ROI and payback by
    domain, stage and sponsor; lead time per stage (approval dates, else the entry's git
    history); the run budget; slipped plans; risks. Dates are judged on the validation date."""
    from spo_gitops.portfolio.history import stage_history
    from spo_gitops.portfolio.report import build_report

    project = project_from(ctx)
    result = read_catalog(project)
    rep = build_report(
        result.index,
        project.today(),
        rate=project.config.portfolio.discount_rate,
        provisioned=project.config.reconcile.provisioned_stages,
        history=lambda services: stage_history(project, result.index, services),
    )
    emit(render("portfolio", fmt, rep), output)
    return 0
