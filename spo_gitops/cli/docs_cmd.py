"""``spo docs build``: the static, offline HTML service catalog."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from spo_gitops import jsonio
from spo_gitops.catalog.validate import ValidationResult
from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import progress_bar, project_from, require_catalog
from spo_gitops.cli.output import output_folder, write_file
from spo_gitops.config import Project
from spo_gitops.git import GitError, join, repository
from spo_gitops.site import History, SiteInput, build_site

if TYPE_CHECKING:
    from spo_gitops.portfolio.forecast import PoolForecast
    from spo_gitops.portfolio.report import PortfolioReport

MANIFEST = ".spo-site.json"  # what the last build wrote, so that the next removes what it drops


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> None:
    """Write each file under ``folder`` atomically, then remove the files an earlier build wrote
    that this one did not (only those: other files in the folder are left alone)."""
    for rel, content in files.items():
        write_file(folder / rel, content)
    manifest = folder / MANIFEST
    try:
        before = set(json.loads(manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        before = set()
    for rel in sorted(before - set(files)):
        stale = (folder / rel).resolve()
        if stale.is_relative_to(folder.resolve()) and stale.is_file():
            stale.unlink()
    write_file(manifest, jsonio.dumps(sorted(files), indent=0) + "\n")


def service_history(project: Project, result: ValidationResult, limit: int = 20) -> History:
    """Commits touching each service's files: its model, portfolio entry and SLAs."""
    files: dict[str, set[str]] = {}
    for doc in result.documents:
        if not doc.valid:
            continue
        spec = doc.data.get("spec") or {}
        if doc.kind == "ServiceModel":
            files.setdefault(doc.name, set()).add(doc.file)
        elif doc.kind in ("PortfolioEntry", "ServiceLevelAgreement"):
            files.setdefault(str(spec.get("service")), set()).add(doc.file)
    try:
        with repository(project.root) as repo:
            prefix = repo.relative(project.root)
            return {
                name: repo.log(sorted(join(prefix, f) for f in paths), limit)
                for name, paths in files.items()
            }
    except GitError:
        return {}


def portfolio_pages(
    project: Project, result: ValidationResult
) -> tuple[PortfolioReport, list[PoolForecast]]:
    """The portfolio report and capacity forecast the site's portfolio pages show."""
    from spo_gitops.portfolio.forecast import forecast
    from spo_gitops.portfolio.history import stage_history
    from spo_gitops.portfolio.report import build_report

    today, stages = project.today(), project.config.reconcile.provisioned_stages
    rep = build_report(
        result.index,
        today,
        rate=project.config.portfolio.discount_rate,
        provisioned=stages,
        history=lambda services: stage_history(project, result.index, services),
    )
    pools = forecast(result.index, today, stages, project.config.portfolio.forecast_quarters)
    return rep, pools


@click.group()
def docs() -> None:
    """The static HTML service catalog."""


@docs.command("build")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the site into.",
)
@click.option(
    "--metrics",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Measured values (as for spo sla report): show the latest attainment per objective.",
)
@click.option("--period", help="With --metrics: attainment up to this period.")
@click.pass_context
def build(ctx: click.Context, output: Path, metrics: tuple[Path, ...], period: str | None) -> int:
    """Build the site: portfolio board with search, a page per service, party and pool."""
    project = project_from(ctx)
    require_catalog(project)
    output_folder(project, output)
    result = run_validate(project)
    report = None
    if metrics:
        from spo_gitops.cli.sla_cmd import show_diagnostics
        from spo_gitops.errors import UsageError
        from spo_gitops.sla import PeriodError
        from spo_gitops.sla import report as sla_report

        paths = [(p, project.display(p.absolute())) for p in metrics]
        try:
            report = sla_report(result.index, paths, period=period)
        except PeriodError as e:
            raise UsageError(str(e), hint="e.g. --period 2026-06") from None
        show_diagnostics(report.diagnostics)
    data = SiteInput(result.index, result.capacity, report, service_history(project, result))
    data.portfolio, data.forecast = portfolio_pages(project, result)
    with progress_bar("building the site"):
        files = build_site(data)
        write_files(output, files)
    click.echo(f"spo: wrote the site ({len(files)} files) to {output}", err=True)
    return 0
