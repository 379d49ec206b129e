"""``spo sla report``: measured service levels against the SLAs' objectives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import click

from spo_gitops import jsonio
from spo_gitops.cli.common import progress_bar, project_from, read_catalog, require_catalog
from spo_gitops.cli.output import write_file, write_output
from spo_gitops.cli.sla_rules_cmd import rules
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.errors import SpoError, UsageError
from spo_gitops.report.formats import formats
from spo_gitops.report.formats import render as render_result
from spo_gitops.sla import PER, Per, PeriodError, Series, default_per
from spo_gitops.sla import report as build


def show_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        click.echo(f"{d.location()}: {d.severity} {d.code} {d.message}", err=True)
        if d.hint:
            click.echo(f"  hint: {d.hint}", err=True)


@click.group()
def sla() -> None:
    """Service level management: SLA reports from measured values."""


@sla.command("report")
@click.option(
    "--metrics",
    "metrics",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Measured values: CSV or JSON lines (README 'SLA reports'); repeatable.",
)
@click.option("--period", help="Report up to this period (YYYY-MM, YYYY-Qn or YYYY).")
@click.option(
    "--per",
    type=click.Choice(PER),
    help="Judge each SLA per its own measurement period, or per quarter: SLAs measured monthly "
    "and reviewed quarterly are rolled up from their months (availability weighted by service "
    "minutes, other metrics the mean). Default: quarter when --period is a quarter, else "
    "measurement.",
)
@click.option(
    "--consecutive",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Periods missed or worsening in a row that call for an improvement plan.",
)
@click.option(
    "-f", "--format", "fmt", type=click.Choice(formats("sla")), default="text", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file."
)
@click.option(
    "--chart-format",
    type=click.Choice(["svg", "png"]),
    default="svg",
    show_default=True,
    help="Chart files written beside a markdown report (-o).",
)
@click.option(
    "--require-plans",
    is_flag=True,
    help="Exit 1 when a service the report flags has no open ImprovementPlan for the flagged "
    "objective; also names the open plans that can close.",
)
@click.pass_context
def report(
    ctx: click.Context,
    metrics: tuple[Path, ...],
    period: str | None,
    per: str | None,
    consecutive: int,
    fmt: str,
    output: Path | None,
    chart_format: str,
    require_plans: bool,
) -> int:
    """Attainment, margin, error budget and trend per SLA objective and period, and the services
    that need a service improvement plan. Bad metric rows are reported and skipped (exit 1)."""
    project = project_from(ctx)
    unreadable = [p for p in metrics if not p.is_file()]
    if unreadable:  # before anything is printed: no empty report for a mistyped file name
        raise SpoError(
            f"metrics file {unreadable[0]} does not exist",
            hint="name the CSV or JSON lines files of measured values (spo metrics pull)",
        )
    require_catalog(project)
    result = read_catalog(project)
    files = [(path, project.display(path.absolute())) for path in metrics]
    try:
        with progress_bar("computing attainment"):
            rep = build(
                result.index,
                files,
                period=period,
                consecutive=consecutive,
                worsening_margin=project.config.agreements.worsening_margin,
                per=cast(Per, per) if per else default_per(period),
            )
    except PeriodError as e:
        raise UsageError(str(e), hint="e.g. --period 2026-06") from None
    show_diagnostics(rep.diagnostics)
    if fmt == "html":
        from spo_gitops.sla.svg import chart_svg

        drawn: dict[Series, str] = {}
        with progress_bar("charts") as update:
            for n, s in enumerate(rep.series, 1):
                drawn[s] = chart_svg(s)
                if update:
                    update(n, len(rep.series))
        text = render_result("sla", "html", rep, chart=drawn.__getitem__)
    elif fmt == "markdown" and output is not None:
        from spo_gitops.sla.charts import chart, chart_name
        from spo_gitops.sla.svg import chart_svg

        folder = f"{output.stem}-charts"
        paths = {s: f"{folder}/{chart_name(s, chart_format)}" for s in rep.series}  # type: ignore[arg-type]
        with progress_bar("charts") as update:
            for n, s in enumerate(rep.series, 1):
                # SVG is written directly; PNG needs matplotlib (the charts extra)
                data = chart_svg(s).encode() if chart_format == "svg" else chart(s, "png")
                write_file(output.parent / paths[s], data)
                if update:
                    update(n, len(rep.series))
        text = render_result("sla", "markdown", rep, charts=paths)
    else:
        text = render_result("sla", fmt, rep)
    missing_plans = False
    if require_plans:
        from spo_gitops.sla.improvement import render_review, review_json, review_plans

        review = review_plans(rep, result.index)
        show_diagnostics(review.diagnostics)
        missing_plans = not review.ok
        if fmt == "text":
            text += "\n" + render_review(review)
        elif fmt == "json":
            data = json.loads(text)
            data["plan_review"] = review_json(review)
            text = jsonio.dumps(data, indent=2) + "\n"
    write_output(text, output, "the SLA report")
    return 1 if missing_plans or any(d.severity == "error" for d in rep.diagnostics) else 0


sla.add_command(rules)
