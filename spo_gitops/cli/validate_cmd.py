"""``spo validate``: schemas, references and checks over the catalog."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import click

from spo_gitops import __version__
from spo_gitops.catalog.validate import LoadProgress, ValidationResult
from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import (
    progress_bar,
    project_from,
    require_config,
    require_files,
    use_color,
)
from spo_gitops.cli.habits import detail
from spo_gitops.cli.output import format_option, output_option, write_output
from spo_gitops.config import Project
from spo_gitops.errors import UsageError
from spo_gitops.policy import PoolUsage
from spo_gitops.report import render


def capacity_table(rows: list[PoolUsage], stages: Sequence[str]) -> str:
    """Plain-text capacity table: pool, unit, capacity, committed demand and its utilization,
    pipeline demand and the utilization once the pipeline is live, status."""
    head = [
        "pool",
        "unit",
        "capacity",
        "allocated",
        "utilization",
        "pipeline",
        "when live",
        "status",
    ]
    cells = [
        [
            r.pool,
            r.unit,
            _amount(r.capacity),
            _amount(r.allocated),
            f"{r.utilization:.1f} %",
            _amount(r.pipeline),
            f"{r.pipeline_utilization:.1f} %",
            r.status,
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]
    lines = []
    for row in [head, *cells]:
        parts = [
            c.rjust(w) if 2 <= i <= 6 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    return "Capacity (provisioned stages: " + ", ".join(stages) + ")\n" + "\n".join(lines) + "\n"


def _amount(value: float) -> str:
    """Capacity figures as people read them: 95,000,000 and 188.5, never 9.5e+07."""
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0")


def _prefix(root: Path) -> str:
    from spo_gitops.git import prefix_of  # the repository is asked only by formats that need it

    return prefix_of(root)


def changed_since(
    project: Project,
    rev: str,
    paths: tuple[Path, ...],
    *,
    jobs: int | None,
    progress: LoadProgress | None,
) -> ValidationResult:
    from spo_gitops.review.changed import validate_changed

    if paths:
        raise UsageError("--changed-since takes no PATHS", hint="drop the paths, or the option")
    result = validate_changed(project, rev, jobs=jobs, progress=progress)
    scope = (
        "spo.yaml changed: validated everything"
        if result.full
        else (
            f"{len(result.changed)} file(s) changed since {rev}; "
            f"validated {len(result.files)} touched file(s)"
        )
    )
    click.echo(f"spo: {scope}", err=True)
    return result


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@format_option("findings")
@output_option()
@click.option("--jobs", type=click.IntRange(min=0), help="Worker processes (0: by catalog size).")
@click.option("--color/--no-color", default=None, help="Colour the text output.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors for the exit code.")
@click.option(
    "--changed-since",
    "since",
    metavar="REV",
    help="Only the files changed since REV and the entities they touch (README).",
)
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    jobs: int | None,
    color: bool | None,
    strict: bool,
    since: str | None = None,
) -> int:
    """Validate the catalog (or PATHS): YAML, schemas, references and semantic checks."""
    project = project_from(ctx)
    if not paths:
        require_config(project)
    started = time.perf_counter()
    with progress_bar("validating") as progress:
        if since is not None:
            result = changed_since(project, since, paths, jobs=jobs, progress=progress)
        else:
            result = run_validate(project, paths, jobs=jobs, progress=progress)
    took = time.perf_counter() - started
    detail(
        f"spo: {len(result.documents):,} document(s) in {len(result.files):,} file(s) checked "
        f"in {took:.2f} s; {len(result.findings.items):,} finding(s)"
    )
    hits, misses = getattr(result, "cache_hits", None), getattr(result, "cache_misses", None)
    if hits is not None:
        detail(f"spo: cache (.spo/index.bin): {hits:,} file(s) taken from it, {misses:,} parsed")
    if not paths and since is None:
        require_files(project, result.files)
    findings = result.findings
    text = render(
        fmt,
        findings.items,
        root=project.root,
        files=result.files,
        documents=len(result.documents),
        tool_version=__version__,
        color=fmt == "text" and output is None and use_color(color),
        # SARIF describes each policy code by its Policy; its paths and the annotations' are
        # repository-relative (spo.yaml may be in a subfolder)
        policies=[d.data for d in result.documents if d.kind == "Policy"]
        if fmt == "sarif"
        else None,
        prefix=_prefix(project.root) if fmt in ("sarif", "github") else "",
    )
    if fmt == "text" and result.capacity:
        stages = project.config.reconcile.provisioned_stages
        text = text.rstrip("\n") + "\n\n" + capacity_table(result.capacity, stages)
    write_output(text, output, "the report")
    counts = findings.counts()
    failed = counts["error"] > 0 or (strict and counts["warning"] > 0)
    return 1 if failed else 0
