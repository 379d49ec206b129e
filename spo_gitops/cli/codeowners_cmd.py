"""``spo codeowners``: write .github/CODEOWNERS from the catalog's owners, or check it."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops import __version__
from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import project_from, require_config, require_files
from spo_gitops.cli.output import write_file
from spo_gitops.report import render as render_findings
from spo_gitops.review.codeowners import render


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write (default: .github/CODEOWNERS beside spo.yaml).",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the file is stale.")
@click.pass_context
def codeowners(ctx: click.Context, output: Path | None, check: bool) -> int:
    """Write .github/CODEOWNERS: each catalog file owned by its teams' code-host handles."""
    project = project_from(ctx)
    require_config(project)
    target = output or project.root / ".github" / "CODEOWNERS"
    result = run_validate(project)
    require_files(project, result.files)
    owners = render(result.documents, result.index, result.files)
    if owners.findings:
        text = render_findings(
            "text",
            owners.findings,
            root=project.root,
            files=result.files,
            documents=len(result.documents),
            tool_version=__version__,
        )
        click.echo(text.rstrip("\n"), err=True)
    shown = project.display(target)
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if check:
        if current != owners.text:
            click.echo(
                f"spo: {shown} is stale: it does not match the catalog's owners\n"
                "  hint: run `spo codeowners` and commit the file",
                err=True,
            )
            return 1
        click.echo(f"{shown} is up to date ({owners.files} file(s) with owners)")
        return 0
    if current == owners.text:
        click.echo(f"{shown} is up to date ({owners.files} file(s) with owners)")
        return 0
    write_file(target, owners.text)
    click.echo(f"spo: wrote {shown}: {owners.files} file(s) with owners", err=True)
    return 0
