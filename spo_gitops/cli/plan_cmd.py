"""``spo plan``, ``spo apply``, ``spo reconcile`` and ``spo drift``."""

from __future__ import annotations

import difflib
import sys
import time
from pathlib import Path

import click

from spo_gitops import __version__
from spo_gitops.cli.common import (
    ProgressUpdate,
    progress_bar,
    project_from,
    require_catalog,
    use_color,
)
from spo_gitops.cli.habits import detail
from spo_gitops.cli.output import format_option, write_file, write_output
from spo_gitops.config import Project
from spo_gitops.errors import Cancelled, SpoError, UsageError
from spo_gitops.provision import planfile
from spo_gitops.provision.apply import ApplyReport
from spo_gitops.provision.partition import Partition, PartitionKeyError, parse_partition
from spo_gitops.provision.plan import Plan
from spo_gitops.provision.reconcile import (
    CatalogInvalid,
    Desired,
    apply_plan,
    check_approved,
    desired,
    hold_lock,
    make_plan,
)
from spo_gitops.provision.verify import StalePlan, check_commit
from spo_gitops.report import render as render_findings
from spo_gitops.report.formats import render as render_result
from spo_gitops.report.plan import render_apply
from spo_gitops.state import open_state


def _plan_or_findings(project: Project, **options: object) -> tuple[Plan, Desired]:
    try:
        if options.pop("desired_only", False):
            partition, progress = options.pop("partition", None), options.pop("progress", None)
            want = desired(project, partition, progress)  # type: ignore[arg-type]
            return Plan("", 0, want.commit), want
        return make_plan(project, **options)  # type: ignore[arg-type]
    except CatalogInvalid as e:
        _show(project, e)
        raise


def _show(project: Project, e: CatalogInvalid) -> None:
    text = render_findings(
        "text",
        e.diagnostics,
        root=project.root,
        files=[],
        documents=0,
        tool_version=__version__,
    )
    click.echo(text, err=True, nl=False)


_format = format_option("plan")


def _parse_partition(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> Partition | None:
    try:
        return None if value is None else parse_partition(value)
    except PartitionKeyError as e:
        raise click.BadParameter(f"{e.message} ({e.hint})") from None


_partition = click.option(
    "--partition",
    metavar="KEY",
    callback=_parse_partition,
    help="Only the resources of one partition: provider:NAME, label:KEY=VALUE or shard:I/N "
    "(reconcile: under a state lock of its own, beside runners of other partitions).",
)
_exitcode = click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0 when none)."
)


@click.command()
@click.option(
    "-o",
    "--output",
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (JSON) for spo apply.",
)
@_format
@_exitcode
@click.option(
    "--target", "targets", multiple=True, help="Only this address (and its dependencies)."
)
@click.option("--refresh/--no-refresh", default=True, show_default=True, help="Read providers.")
@click.option("--prune/--no-prune", default=None, help="Plan deletes (default: spo.yaml).")
@_partition
@click.pass_context
def plan(
    ctx: click.Context,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    refresh: bool,
    prune: bool | None,
    partition: Partition | None,
) -> int:
    """Show (and save) what apply would change to make the providers match the catalog."""
    project = project_from(ctx)
    require_catalog(project)
    started = time.perf_counter()
    with progress_bar("validating") as progress:
        want = _desired(project, partition, progress)
    compiled = time.perf_counter()
    detail(
        f"spo: {len(want.compiled.resources):,} desired resource(s) compiled in "
        f"{compiled - started:.2f} s (validation included)"
    )
    with progress_bar("planning"):
        result, _ = _plan_or_findings(
            project,
            refresh_state=refresh,
            prune=prune,
            targets=targets,
            partition=partition,
            want=want,
        )
    detail(
        f"spo: planned {len(result.actions):,} action(s) in {time.perf_counter() - compiled:.2f} s"
        + (" (providers read)" if refresh else " (from the state, without reading providers)")
    )
    _check_targets(targets, want, result)
    if out is not None:
        write_file(out, planfile.dumps(result))
    write_output(render(fmt, result), None, "the plan")
    if out is not None:
        click.echo(f"spo: wrote the plan to {out}; apply it with: spo apply {out}", err=True)
    return 2 if detailed_exitcode and result.has_changes else 0


def _desired(
    project: Project, partition: Partition | None = None, progress: ProgressUpdate | None = None
) -> Desired:
    try:
        return desired(project, partition, progress)
    except CatalogInvalid as e:
        _show(project, e)
        raise


def _check_targets(targets: tuple[str, ...], want: Desired, result: Plan) -> None:
    """Every --target names a resource of the catalog or the state."""
    wanted = [r.address for r in want.compiled.resources]
    known = {*wanted, *(a.address for a in result.actions), *result.orphans, *result.kept}
    for target in targets:
        if target in known:
            continue
        close = difflib.get_close_matches(target, sorted(known), n=1)
        raise UsageError(
            f"--target {target}: no resource of the catalog or the state has this address",
            hint=f"did you mean {close[0]}?"
            if close
            else "addresses are provider.type.name, as `spo plan` shows them",
        )


def interactive() -> bool:
    """Whether a person can answer a question on standard input."""
    return sys.stdin.isatty()


def _confirm(auto_approve: bool, what: str) -> None:
    if auto_approve:
        return
    if not interactive():
        raise SpoError(
            f"refusing to {what} without confirmation: standard input is not a terminal",
            hint="pass --auto-approve in automation",
        )
    if not click.confirm(f"Do you want to {what}?", err=True):
        raise Cancelled("Apply cancelled.", hint="nothing was changed")


def render(fmt: str, plan: Plan) -> str:
    return render_result("plan", fmt, plan, color=use_color())


def _report(report: ApplyReport) -> int:
    click.echo(render_apply(report), nl=False)
    return 0 if report.ok else 1


@click.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--parallelism", type=click.IntRange(1, 64), help="Actions at once (default 10).")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=0.0, help="Seconds to wait.")
@click.pass_context
def apply(
    ctx: click.Context,
    plan_file: Path,
    parallelism: int | None,
    auto_approve: bool,
    lock_timeout: float,
) -> int:
    """Carry out a saved plan exactly (refusing a stale or altered one)."""
    project = project_from(ctx)
    saved = planfile.loads(plan_file.read_text(encoding="utf-8"), str(plan_file))
    if not saved.has_changes:
        click.echo("No changes in the plan: nothing to apply.")
        return 0
    want = fresh_for(project, saved)  # a stale plan is refused before it is shown
    click.echo(render("text", saved), nl=False, err=True)
    _confirm(auto_approve, "apply these changes")
    with progress_bar("applying") as progress:
        report = apply_plan(
            project,
            saved,
            parallelism=parallelism,
            lock_timeout=lock_timeout,
            progress=progress,
            want=want,
        )
    return _report(report)


def fresh_for(project: Project, saved: Plan) -> Desired:
    """The catalog's desired resources, when ``saved`` was made at the catalog's commit and
    against this state (its lineage); StalePlan otherwise. apply checks the rest under its lock.
    """
    partition = parse_partition(saved.partition) if saved.partition else None
    want = desired(project, partition)
    check_commit(saved, want.commit)
    state = open_state(project)
    try:
        lineage = state.snapshot().lineage
    finally:
        state.close()
    if lineage != saved.lineage:
        raise StalePlan(
            f"the plan is for state lineage {saved.lineage}, this state is {lineage}",
            hint="the plan was made against another state: plan again here",
        )
    return want


@click.command()
@click.option("--parallelism", type=click.IntRange(1, 64), help="Actions at once (default 10).")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-unapproved", is_flag=True, help="Local experiments: skip the approval check."
)
@click.option("--prune/--no-prune", default=None, help="Delete what left the catalog.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=0.0, help="Seconds to wait.")
@_partition
@_format
@click.pass_context
def reconcile(
    ctx: click.Context,
    parallelism: int | None,
    auto_approve: bool,
    allow_unapproved: bool,
    prune: bool | None,
    lock_timeout: float,
    partition: Partition | None,
    fmt: str,
) -> int:
    """Plan and apply in one step, for an approved commit (what a merge to main runs).

    The state lock (of the partition, with --partition) is taken before the state is read and
    held until the apply ends, so that runners at once serialise without a stale plan."""
    project = project_from(ctx)
    with progress_bar("validating") as progress:
        _, want = _plan_or_findings(
            project, desired_only=True, partition=partition, progress=progress
        )
    with hold_lock(project, "reconcile", partition=partition, timeout=lock_timeout) as held:
        with progress_bar("planning"):
            result, want = _plan_or_findings(project, prune=prune, held=held, want=want)
        if not allow_unapproved:
            check_approved(project, want)
        write_output(render(fmt, result), None, "the plan")
        if not result.has_changes:
            return 0
        _confirm(auto_approve, "apply these changes")
        with progress_bar("reconciling") as progress:
            report = apply_plan(
                project,
                result,
                parallelism=parallelism,
                progress=progress,
                want=want,
                held=held,
            )
    return _report(report)


@click.command()
@format_option("drift")
@click.pass_context
def drift(ctx: click.Context, fmt: str) -> int:
    """Compare the providers with the last applied state; exit 2 when something drifted."""
    project = project_from(ctx)
    require_catalog(project)
    with progress_bar("refreshing"):
        result, _ = _plan_or_findings(project, refresh_state=True)
    write_output(render_result("drift", fmt, result, color=use_color()), None, "drift")
    return 2 if result.drift else 0
