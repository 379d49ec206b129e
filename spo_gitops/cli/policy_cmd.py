"""``spo policy``: policy unit tests."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.catalog import files as catalog_files
from spo_gitops.cli.common import project_from
from spo_gitops.errors import UsageError
from spo_gitops.policy.testing import run_tests


@click.group()
def policy() -> None:
    """Work with the Policy documents of the catalog."""


@policy.command("test")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--policies",
    "policy_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Policy files or folders under test (default: the policy paths of spo.yaml).",
)
@click.pass_context
def test(ctx: click.Context, directory: Path | None, policy_paths: tuple[Path, ...]) -> int:
    """Run the policy test cases under DIRECTORY (default: policies/tests).

    Each case is a folder of fixture documents with an expect.yaml listing the findings
    expected ({code, entity}); a case fails when the findings differ.
    """
    project = project_from(ctx)
    directory = directory or catalog_files.policy_tests_dir(project)
    if not directory.is_dir():
        raise UsageError(f"no policy tests at {directory}", hint="create policies/tests/<case>/")
    if policy_paths:
        found = catalog_files.named(project, list(policy_paths)).files
    else:
        found = catalog_files.policy_files(project)
    files = [Path(f.path) for f in found]
    results = run_tests(directory, files, project.limits)
    if not results:
        raise UsageError(f"no test cases (folders with expect.yaml) under {directory}")
    for r in results:
        click.echo(f"{'PASS' if r.ok else 'FAIL'}  {r.name}")
        for line in r.errors:
            click.echo(f"    ! {line}")
        for code, entity in r.missing:
            click.echo(f"    - expected {code} {entity} (not found)")
        for code, entity in r.unexpected:
            click.echo(f"    + unexpected {code} {entity}")
    failed = sum(not r.ok for r in results)
    click.echo(f"{len(results)} cases, {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0
