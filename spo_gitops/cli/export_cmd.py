"""``spo export backstage``: the catalog as Backstage entities, and a Software Template."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import project_from, require_catalog
from spo_gitops.cli.output import output_folder, write_file
from spo_gitops.errors import SpoError


@click.group()
def export() -> None:
    """Export the catalog into the formats of other tools."""


@export.command("backstage")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the entities into.",
)
@click.option(
    "--repo-url",
    help="URL of the repository's files in its browser, e.g. "
    "https://github.com/acme/catalog/blob/main: entity pages link to their YAML.",
)
@click.option(
    "--template/--no-template",
    default=True,
    show_default=True,
    help="Also write the Software Template that proposes a service (template/).",
)
@click.pass_context
def backstage(ctx: click.Context, output: Path, repo_url: str | None, template: bool) -> int:
    """Write the catalog as Backstage entities into OUTPUT.

    A Group per party, a Component per service (in the System of its business domain, with its
    dependencies and pools), a Resource per pool, and catalog-info.yaml, the Location to
    register. With the Software Template, Backstage's form proposes a service as
    spo new service does and opens the pull request.
    """
    from spo_gitops.export.backstage import export as to_backstage
    from spo_gitops.export.backstage_template import TEMPLATE_FILE, software_template
    from spo_gitops.git import prefix_of

    project = project_from(ctx)
    require_catalog(project)
    output_folder(project, output)
    result = run_validate(project)
    if result.findings.has_errors:
        for d in result.findings.items:
            if d.severity == "error" and d.waived is None:
                click.echo(f"{d.location()}: error {d.code} {d.message}", err=True)
        raise SpoError(
            "the catalog has errors: nothing exported",
            hint="fix what spo validate reports, then export again",
        )
    prefix = prefix_of(project.root)
    exported = to_backstage(result.documents, prefix=prefix, repo_url=repo_url)
    files: dict[str, str] = {}
    if template:
        parties = {
            d.name: str((d.data.get("spec") or {}).get("type"))
            for d in result.documents
            if d.kind == "Party" and d.valid
        }
        written = software_template(
            project,
            teams=sorted(n for n, t in parties.items() if t == "team"),
            customers=sorted(n for n, t in parties.items() if t == "customer"),
            prefix=prefix,
        )
        files.update({f"template/{rel}": text for rel, text in written.items()})
    files.update(exported.files(extra_targets=[f"template/{TEMPLATE_FILE}"] if template else ()))
    for rel, text in sorted(files.items()):
        write_file(output / rel, text)
    click.echo(
        f"spo: wrote {len(exported.entities)} entities to {output}; "
        f"register {output / 'catalog-info.yaml'} in Backstage",
        err=True,
    )
    return 0
