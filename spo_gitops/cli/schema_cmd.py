"""``spo schema``: export the JSON Schemas generated from the models, or show one."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops import jsonio
from spo_gitops.catalog import schema as schemas
from spo_gitops.cli.common import project_from


@click.group()
def schema() -> None:
    """JSON Schemas of the document kinds (for editors and other tools)."""


@schema.command("export")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Target folder (default: schemas/ beside spo.yaml).",
)
@click.option("--check", is_flag=True, help="Fail if the files differ from the models; write none.")
@click.pass_context
def export(ctx: click.Context, directory: Path | None, check: bool) -> None:
    """Write schemas/v1/<Kind>.json for every kind."""
    target = directory or project_from(ctx).root / "schemas"
    changed = schemas.export(target, check=check)
    if check:
        click.echo(f"schemas in {target} match the models")
    elif changed:
        click.echo(f"wrote {len(changed)} schema file(s) to {target}: " + ", ".join(changed))
    else:
        click.echo(f"schemas in {target} are up to date")


@schema.command("show")
@click.argument("kind", type=click.Choice(schemas.known_kinds()))
def show(kind: str) -> None:
    """Print the JSON Schema of KIND."""
    click.echo(jsonio.dumps(schemas.kind_schema(kind), indent=2))
