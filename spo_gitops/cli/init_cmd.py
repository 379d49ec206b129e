"""``spo init``: start a new catalog repository."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.catalog.scaffold import init_project
from spo_gitops.git import in_repository, init_with_commit


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--org", default="acme", show_default=True, help="Organisation name (DNS label).")
@click.option("--team", default="team-platform", show_default=True, help="First owning team.")
@click.option("--force", is_flag=True, help="Write into a non-empty directory, over its files.")
def init(directory: Path, org: str, team: str, force: bool) -> None:
    """Write a new catalog repository into DIRECTORY: spo.yaml, sample entities, schemas, CI.

    Outside a git repository it also creates one (branch main) with a first commit."""
    inside = directory.exists() and in_repository(directory)
    written = init_project(directory, org=org, team=team, force=force)
    click.echo(f"initialised {directory} ({len(written)} files)")
    for rel in written:
        click.echo(f"  {rel}")
    if not inside:
        commit = init_with_commit(directory, "A new service catalog (spo init)")
        if commit is None:
            click.echo(
                "created a git repository; the files are staged but not committed: git has no "
                "user.email (git config --global user.email ...), then run git commit"
            )
        else:
            click.echo(f"created a git repository with a first commit {commit[:12]} on main")
    click.echo("next: cd into it and run 'spo validate'")
