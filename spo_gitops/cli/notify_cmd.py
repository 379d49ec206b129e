"""``spo notify``: tell each party what it must hear, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from spo_gitops.catalog.validate import validate as run_validate
from spo_gitops.cli.common import project_from, write_atomic
from spo_gitops.cli.sla_cmd import show_diagnostics
from spo_gitops.errors import SpoError, UsageError


@click.command()
@click.option(
    "--changes",
    metavar="BASE..HEAD",
    help="Announce the impact of the catalog changes between two revisions (a merge).",
)
@click.option(
    "--metrics",
    "metrics",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Announce the objectives breached in their latest period (as for spo sla report).",
)
@click.option(
    "--preview", is_flag=True, help="Print the messages and their recipients; send nothing."
)
@click.pass_context
def notify(
    ctx: click.Context, changes: str | None, metrics: tuple[Path, ...], preview: bool
) -> int:
    """Tell each party what it must hear, by e-mail and webhooks, each message once.

    The impact of a merged change (--changes), breaches (--metrics), open improvement plans,
    reviews and actions falling due; channels are set in spo.yaml (notify)."""
    from spo_gitops.notify.messages import (
        addresses,
        breach_messages,
        change_messages,
        due_messages,
        plan_messages,
    )
    from spo_gitops.notify.send import Ledger, deliver

    project = project_from(ctx)
    result = run_validate(project)
    index = result.index
    messages = []
    if changes:
        base, sep, head = changes.partition("..")
        if not sep or not base:
            raise UsageError(f"--changes {changes!r} is not BASE..HEAD", hint="e.g. HEAD~1..HEAD")
        from spo_gitops.review.compare import compare

        diff = compare(project, base, head or None)
        rows = [
            (c.kind, c.name, c.status, diff.impact.get(f"{c.kind}:{c.name}", []))
            for c in diff.changes
        ]
        messages += change_messages(rows, diff.head.index, changes)
    if metrics:
        from spo_gitops.sla import report as build

        rep = build(index, [(p, project.display(p.absolute())) for p in metrics])
        show_diagnostics(rep.diagnostics)
        messages += breach_messages(rep, index)
    cfg = project.config.notify
    messages += plan_messages(index)
    messages += due_messages(index, dt.date.today(), cfg.horizon_days)
    if preview:
        for m in messages:
            to = ", ".join(a.email for a in addresses(index, m.parties)) or "no e-mail address"
            click.echo(f"{m.key}: {m.subject}\n  to {', '.join(m.parties)} ({to})")
        return 0
    ledger_path = project.root / cfg.ledger
    try:
        text = ledger_path.read_text(encoding="utf-8") if ledger_path.exists() else None
        ledger = Ledger.parse(text)
    except (OSError, ValueError) as e:
        raise SpoError(
            f"cannot read the notification ledger {project.display(ledger_path)}: {e}",
            hint="it records what was sent; move it away to start afresh (everything is resent)",
        ) from None
    outcomes = deliver(
        messages, index, cfg, ledger, lambda led: write_atomic(ledger_path, led.render())
    )
    for o in outcomes:
        if o.status != "skipped":
            click.echo(f"{o.status} {o.key} -> {o.target}" + (f": {o.detail}" if o.detail else ""))
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("sent", "skipped", "failed")}
    click.echo(
        f"spo: {counts['sent']} sent, {counts['skipped']} already sent before, "
        f"{counts['failed']} failed ({len(messages)} messages)",
        err=True,
    )
    return 1 if counts["failed"] else 0
