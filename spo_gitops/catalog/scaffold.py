"""``spo init``: a new catalog repository that validates clean."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from spo_gitops import __version__
from spo_gitops.catalog import schema
from spo_gitops.errors import UsageError
from spo_gitops.models.common import NAME_PATTERN
from spo_gitops.templating import environment


def _title(name: str) -> str:
    return " ".join(part.capitalize() for part in name.split("-"))


def init_project(target: Path, *, org: str, team: str, force: bool = False) -> list[Path]:
    """Write a new project into ``target``; returns the files written (relative)."""
    for label, value in (("organisation", org), ("team", team)):
        if not re.match(NAME_PATTERN, value):
            raise UsageError(
                f"{label} name {value!r} is not a lowercase DNS label",
                hint="use a-z, 0-9 and '-', e.g. acme or team-platform",
            )
    if (target / "spo.yaml").exists() and not force:
        raise UsageError(
            f"{target / 'spo.yaml'} already exists",
            hint="pick an empty directory, or pass --force to overwrite the sample files",
        )
    present = (
        sorted(p.name for p in target.iterdir() if p.name != ".git") if target.is_dir() else []
    )
    if present and not force:
        shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
        raise UsageError(
            f"{target} is not empty ({shown})",
            hint="spo init writes a new catalog into an empty directory (a clone of an empty "
            "repository is fine); pass --force to write the sample files over what is there",
        )
    env = environment("init")
    today = dt.date.today()
    context = {
        "org": org,
        "spo_version": __version__,  # the workflow pins the action of this release
        "org_title": _title(org),
        "team": team,
        "team_title": _title(team),
        "start": today.replace(day=1).isoformat(),
        "end": today.replace(year=today.year + 1, month=12, day=31).isoformat(),
    }
    written = []
    for template in sorted(env.list_templates(extensions=["j2"])):
        # dot-github/ in the package becomes .github/ (packaging tools skip hidden folders)
        rel = Path(*(re.sub(r"^dot-", ".", part) for part in Path(template[: -len(".j2")]).parts))
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(env.get_template(template).render(**context), encoding="utf-8")
        written.append(rel)
    schema.export(target / "schemas")
    written.extend(Path("schemas") / name for name in schema.schema_files())
    return written
