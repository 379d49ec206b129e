"""``spo diff`` and ``spo bump``: what a change means, and the version bump it needs."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.cli.common import project_from, use_color
from spo_gitops.cli.output import format_option, output_option, write_output
from spo_gitops.errors import SpoError, UsageError
from spo_gitops.fsutil import write_atomic
from spo_gitops.report.formats import render
from spo_gitops.review.compare import compare
from spo_gitops.review.diff import read_working_tree
from spo_gitops.review.versioning import Part, bump_text


@click.command()
@click.argument("base")
@click.argument("head", required=False)
@format_option("diff")
@output_option()
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when entities changed (0 when none)."
)
@click.pass_context
def diff(
    ctx: click.Context,
    base: str,
    head: str | None,
    fmt: str,
    output: Path | None,
    detailed_exitcode: bool,
) -> int:
    """Entity-level diff of the catalog from BASE to HEAD (default: the working tree), with the
    versioning and lifecycle rules checked and the impact of each change.

    Exits 1 when a rule fails; with --detailed-exitcode, 2 when something changed."""
    project = project_from(ctx)
    result = compare(project, base, head)
    write_output(render("diff", fmt, result, color=use_color()), output, "the diff")
    if result.findings.has_errors:
        return 1
    return 2 if detailed_exitcode and result.changed else 0


@click.command()
@click.argument("name")
@click.option("--kind", "kind", help="Kind of the entity, when several kinds use NAME.")
@click.option(
    "--part",
    type=click.Choice(["major", "minor", "patch"]),
    default="minor",
    show_default=True,
    help="Which part of the version to raise.",
)
@click.pass_context
def bump(ctx: click.Context, name: str, kind: str | None, part: Part) -> None:
    """Raise the metadata.version of entity NAME in place, keeping comments and layout."""
    project = project_from(ctx)
    found = [
        d
        for d in read_working_tree(project).documents
        if d.name == name and (kind is None or d.kind == kind)
    ]
    if not found:
        raise SpoError(f"no entity named {name!r}" + (f" of kind {kind}" if kind else ""))
    if len({d.kind for d in found}) > 1:
        kinds = ", ".join(sorted({d.kind for d in found}))
        raise UsageError(f"{name!r} names a {kinds}", hint="pick one with --kind")
    doc = found[0]
    path = project.root / doc.file
    text, old, new = bump_text(path.read_text(encoding="utf-8"), doc.kind, name, part)
    write_atomic(path, text)
    click.echo(f"{doc.ref}: {old} -> {new} ({doc.file})")
