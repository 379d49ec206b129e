"""``spo state list``: the managed resources as a table, or a versioned JSON document
(``schemas/output/state-list.json``). ``None`` is a state that does not exist yet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from spo_gitops import jsonio
from spo_gitops.state.base import StateSnapshot

FORMAT_VERSION = 1


def table(rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def render_text(snapshot: StateSnapshot | None) -> str:
    resources = list(snapshot.resources.values()) if snapshot else []
    if not resources:
        return "no resources\n"
    rows = [("ADDRESS", "ID", "ENTITY", "UPDATED")]
    rows += [(r.address, r.id, r.entity or "-", r.updated) for r in resources]
    return table(rows) + "\n"


def to_document(snapshot: StateSnapshot | None) -> dict[str, Any]:
    resources = list(snapshot.resources.values()) if snapshot else []
    return {
        "format_version": FORMAT_VERSION,
        "lineage": snapshot.lineage if snapshot else None,
        "serial": snapshot.serial if snapshot else 0,
        "resources": [asdict(r) for r in resources],
    }


def render_json(snapshot: StateSnapshot | None) -> str:
    return jsonio.dumps(to_document(snapshot), indent=2) + "\n"
