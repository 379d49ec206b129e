"""``spo state``: the managed resources, the journal of applies and the lock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click
import yaml

from spo_gitops import jsonio
from spo_gitops.cli.common import project_from
from spo_gitops.cli.output import format_option, write_output
from spo_gitops.errors import SpoError
from spo_gitops.report.formats import render
from spo_gitops.report.state import table as _table
from spo_gitops.state import open_state, state_path
from spo_gitops.state.base import StateBackend

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


@contextmanager
def _open(ctx: click.Context) -> Iterator[StateBackend | None]:
    """The state, or None when there is none yet (a missing file is an empty state)."""
    project = project_from(ctx)
    if project.config.state.backend == "sqlite" and not state_path(project).exists():
        yield None
        return
    backend = open_state(project)
    try:
        yield backend
    finally:
        backend.close()


@click.group()
def state() -> None:
    """Inspect the state: managed resources, the journal of applies, the lock."""


@state.command("list")
@format_option("state")
@click.pass_context
def list_(ctx: click.Context, fmt: str) -> None:
    """List the managed resources (address, provider id, entity, last update)."""
    with _open(ctx) as backend:
        snap = backend.snapshot() if backend else None
    write_output(render("state", fmt, snap), None, "the state")


@state.command("show")
@click.argument("address")
@FORMAT
@click.pass_context
def show(ctx: click.Context, address: str, fmt: str) -> None:
    """Show every field of the resource at ADDRESS."""
    with _open(ctx) as backend:
        resource = backend.snapshot().resources.get(address) if backend else None
    if resource is None:
        raise SpoError(f"no resource {address} in the state", hint="spo state list shows them")
    data = asdict(resource)
    if fmt == "json":
        click.echo(jsonio.dumps(data, indent=2))
        return
    properties = data.pop("properties")
    width = max(len(k) for k in data) + 1
    for key, value in data.items():
        if isinstance(value, bool):
            shown = str(value).lower()
        elif isinstance(value, tuple | list):
            shown = ", ".join(value) or "-"
        else:
            shown = "-" if value is None else str(value)
        click.echo(f"{key + ':':<{width}} {shown}")
    click.echo("properties:")
    text = yaml.safe_dump(properties, sort_keys=True, default_flow_style=False, allow_unicode=True)
    click.echo("".join(f"  {line}\n" for line in text.splitlines()), nl=False)


@state.command("history")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@FORMAT
@click.pass_context
def history(ctx: click.Context, limit: int, fmt: str) -> None:
    """The latest applies, newest first, with their actions counted per phase."""
    with _open(ctx) as backend:
        records = backend.history(limit) if backend else []
    if fmt == "json":
        out: list[dict[str, Any]] = []
        for record in records:
            data = asdict(record)
            data["phases"] = dict(Counter(a.phase for a in record.actions))
            out.append(data)
        click.echo(jsonio.dumps(out, indent=2))
        return
    if not records:
        click.echo("no applies")
        return
    rows = [("APPLY", "STARTED", "COMMIT", "WHO", "OUTCOME", "ACTIONS")]
    for r in records:
        counts = Counter(a.phase for a in r.actions)
        phases = ", ".join(f"{n} {phase}" for phase, n in counts.items()) or "-"
        rows.append((str(r.id), r.started, r.commit[:12], r.who, r.outcome, phases))
    click.echo(_table(rows))


@state.command("unlock")
@click.argument("lock_id")
@click.pass_context
def unlock(ctx: click.Context, lock_id: str) -> None:
    """Remove the lock LOCK_ID left by a holder that is gone for good.

    With the SQLite backend a lock is freed by the operating system when its holder's process
    ends, however it ends; this removes the record of a lock, not a live process's hold.
    """
    with _open(ctx) as backend:
        removed = backend.unlock(lock_id) if backend else None
        current = backend.current_lock() if backend and removed is None else None
    if removed is None:
        raise SpoError(
            f"no lock with id {lock_id}",
            hint=f"the current one is {current.describe()}" if current else "the state is unlocked",
        )
    click.echo(f"removed {removed.describe()}")
