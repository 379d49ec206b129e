"""``spo new``: scaffold proposals from templates."""

from __future__ import annotations

import click

from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import project_from
from spo_gitops.fsutil import write_atomic
from spo_gitops.git import repository
from spo_gitops.review.codeowners import render as render_codeowners
from spo_gitops.review.proposals import new_service, owners_on_branch


@click.group()
def new() -> None:
    """Scaffold a proposal from templates."""


@new.command("service")
@click.argument("name")
@click.option("--owner", required=True, help="Owning team (a Party of type team).")
@click.option("--customer", help="Customer of the draft SLA (default: the first customer Party).")
@click.option("--template", default="service", show_default=True, help="Template set.")
@click.option("--branch", is_flag=True, help="Commit the proposal on a new branch proposal/NAME.")
@click.pass_context
def service(
    ctx: click.Context,
    name: str,
    owner: str,
    customer: str | None,
    template: str,
    branch: bool,
) -> None:
    """Propose service NAME: a ServiceModel, a PortfolioEntry (proposed) and a draft SLA."""
    project = project_from(ctx)
    proposal = new_service(project, name, owner=owner, customer=customer, template=template)
    for path in proposal.files:
        click.echo(f"created {project.display(path)}")
    files = list(proposal.files)
    owners_file = project.root / ".github" / "CODEOWNERS"
    if not branch:
        if owners_file.is_file():  # the repository requires owners' reviews: name the new files
            result = run_validate(project)
            owners = render_codeowners(result.documents, result.index, result.files)
            if owners_file.read_text(encoding="utf-8") != owners.text:
                write_atomic(owners_file, owners.text)
                click.echo(f"updated {project.display(owners_file)}")
        return
    with repository(project.root) as repo:
        # the branch holds HEAD and the proposal only: its CODEOWNERS is computed for that,
        # not for the working tree's other uncommitted changes
        if owners_file.is_file():
            text = owners_on_branch(project, repo, files)
            if owners_file.read_text(encoding="utf-8") != text:
                write_atomic(owners_file, text)
                files.append(owners_file)
                click.echo(f"updated {project.display(owners_file)}")
        ref = f"proposal/{name}"
        commit = repo.commit_on_new_branch(ref, files, f"Propose service {name}")
    click.echo(f"committed {commit[:12]} on branch {ref}; push it and open a pull request")
