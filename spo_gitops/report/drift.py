"""Drift (``spo drift``): what changed at the providers since the last apply, as text, markdown
and a versioned JSON document (``schemas/output/drift.json``).

The renderers take the refresh-only plan as it came from planning: the resources it saw that did
not drift are counted as unchanged, as ``spo plan`` counts its no-ops.
"""

from __future__ import annotations

from typing import Any

from spo_gitops import __version__, jsonio
from spo_gitops.provision.plan import Plan
from spo_gitops.report.plan import change_line
from spo_gitops.report.style import colorize

FORMAT_VERSION = 1


def counts(plan: Plan) -> dict[str, int]:
    """``drifted`` (changed or deleted at the provider), ``deleted`` and ``unchanged``."""
    drifted = {d.address for d in plan.drift}
    managed = {a.address for a in plan.actions if a.id is not None} | set(plan.orphans) | drifted
    return {
        "drifted": len(drifted),
        "deleted": sum(1 for d in plan.drift if d.missing),
        "unchanged": len(managed - drifted),
    }


def summary_line(plan: Plan) -> str:
    c = counts(plan)
    if not c["drifted"]:
        return f"No drift: the providers match the state ({c['unchanged']} unchanged)."
    deleted = f", {c['deleted']} deleted at the provider" if c["deleted"] else ""
    return f"Drift: {c['drifted']} drifted{deleted} ({c['unchanged']} unchanged)."


def render_text(plan: Plan, *, color: bool = False) -> str:
    lines: list[str] = []
    for d in plan.drift:
        if d.missing:
            lines.append(f"! {d.address}: deleted at the provider")
        for c in d.changes:
            lines.append(f"! {d.address} {change_line(c, 'update')}")
    if lines:
        lines.append("")
    lines.append(summary_line(plan))
    text = "\n".join(lines) + "\n"
    return colorize(text) if color else text


def render_markdown(plan: Plan) -> str:
    lines = ["### spo drift", "", f"**{summary_line(plan)}**", ""]
    if plan.commit:
        lines += [f"Catalog commit `{plan.commit[:12]}`, state serial {plan.serial}.", ""]
    if plan.drift:
        lines += ["| resource | what changed at the provider |", "|---|---|"]
        for d in plan.drift:
            what = "deleted" if d.missing else ", ".join(f"`{c.path}`" for c in d.changes)
            lines.append(f"| `{d.address}` | {what} |")
        lines.append("")
    return "\n".join(lines)


def to_document(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "spo-gitops", "version": __version__},
        "created": plan.created,
        "catalog": {"commit": plan.commit},
        "state": {"lineage": plan.lineage, "serial": plan.serial},
        "summary": counts(plan),
        "drift": [
            {
                "address": d.address,
                "missing": d.missing,
                "changes": [
                    {"path": c.path, "before": c.before, "after": c.after} for c in d.changes
                ],
            }
            for d in plan.drift
        ],
    }


def render_json(plan: Plan) -> str:
    return jsonio.dumps(to_document(plan), indent=2, ensure_ascii=False) + "\n"
