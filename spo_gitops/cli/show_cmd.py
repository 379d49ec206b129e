"""``spo show PLAN``: a saved plan, as plan prints it; an altered plan is refused."""

from __future__ import annotations

from pathlib import Path

import click

from spo_gitops.cli.common import use_color
from spo_gitops.cli.output import format_option, write_output
from spo_gitops.provision import planfile
from spo_gitops.report.formats import render


@click.command()
@click.argument("plan_file", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@format_option("plan")
def show(plan_file: Path, fmt: str) -> None:
    """Print a saved plan (text, markdown or json), refusing one that was altered."""
    try:
        text = plan_file.read_text(encoding="utf-8")
    except OSError as e:
        raise planfile.PlanFileError(
            f"cannot read the plan {plan_file}: {e.strerror or e}",
            hint="save one with `spo plan -o FILE`",
        ) from e
    saved = planfile.loads(text, str(plan_file))
    write_output(render("plan", fmt, saved, color=use_color()), None, "the plan")
