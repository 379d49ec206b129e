"""``spo init``: start a new catalog repository."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.catalog.scaffold import init_project


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--org", default="acme", show_default=True, help="Organisation name (DNS label).")
@click.option("--team", default="team-platform", show_default=True, help="First owning team.")
@click.option("--force", is_flag=True, help="Overwrite an existing spo.yaml and sample files.")
def init(directory: Path, org: str, team: str, force: bool) -> None:
    """Write a new catalog repository into DIRECTORY: spo.yaml, sample entities, schemas, CI."""
    written = init_project(directory, org=org, team=team, force=force)
    click.echo(f"initialised {directory} ({len(written)} files)")
    for rel in written:
        click.echo(f"  {rel}")
    click.echo("next: cd into it and run 'spo validate'")
