"""``spo review pack``: the material for each customer's service review."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import project_from, write_atomic
from spo_gitops.cli.sla_cmd import show_diagnostics
from spo_gitops.errors import UsageError
from spo_gitops.sla.rollup import PER, Per


@click.group()
def review() -> None:
    """Service reviews with customers: review packs from the SLA report and the catalog."""


@review.command("pack")
@click.option(
    "--customer",
    "customers",
    multiple=True,
    help="The customer (a Party) to write a pack for; repeatable. Default: every customer of an "
    "SLA.",
)
@click.option("--period", required=True, help="The review period: YYYY-Qn, YYYY-MM or YYYY.")
@click.option(
    "--metrics",
    "metrics",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Measured values, as for spo sla report; repeatable.",
)
@click.option(
    "--periods",
    type=click.IntRange(min=1, max=36),
    default=6,
    show_default=True,
    help="Periods of each objective shown, up to the end of the review period.",
)
@click.option(
    "--per",
    type=click.Choice(PER),
    help="Show each SLA per its own measurement period, or per quarter (monthly SLAs reviewed "
    "quarterly rolled up from their months). Default: quarter when --period is a quarter.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write <customer>.html and <customer>.md into.",
)
@click.pass_context
def pack(
    ctx: click.Context,
    customers: tuple[str, ...],
    period: str,
    metrics: tuple[Path, ...],
    periods: int,
    per: str | None,
    output: Path,
) -> int:
    """One page per customer for the service review (HTML, and a markdown twin): attainment of
    every objective with charts, breaches with their improvement plans and action status,
    CSAT/NPS, escalation and reporting, portfolio changes coming. Offline and self-contained."""
    from spo_gitops.sla import PeriodError, default_per
    from spo_gitops.sla import report as build
    from spo_gitops.sla.pack import build_pack, review_period
    from spo_gitops.sla.pack import customers as all_customers
    from spo_gitops.sla.pack_render import render_pack_html, render_pack_markdown

    try:
        when = review_period(period)
    except PeriodError as e:
        raise UsageError(str(e), hint="e.g. --period 2026-Q2") from None
    project = project_from(ctx)
    result = run_validate(project)
    known = all_customers(result.index)
    chosen = list(customers) or known
    for name in chosen:
        if result.index.get("Party", name) is None:
            raise UsageError(f"no Party {name!r}", hint="customers of SLAs: " + ", ".join(known))
    files = [(path, project.display(path.absolute())) for path in metrics]
    rep = build(
        result.index, files, period=None, per=cast(Per, per) if per else default_per(period)
    )
    show_diagnostics(rep.diagnostics)
    for name in chosen:
        data = build_pack(rep, result.index, name, when, periods)
        write_atomic(output / f"{name}.html", render_pack_html(data))
        write_atomic(output / f"{name}.md", render_pack_markdown(data))
        click.echo(f"spo: wrote {output / name}.html and .md", err=True)
    return 1 if any(d.severity == "error" for d in rep.diagnostics) else 0
