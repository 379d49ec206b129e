"""Renderers for ``spo diff``: text, markdown (a pull-request comment) and json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spo_gitops import jsonio
from spo_gitops.report.json_report import finding
from spo_gitops.report.style import colorize
from spo_gitops.review.diff import MISSING, STATUSES, CatalogDiff, EntityChange, FieldChange

DIFF_FORMATS = ("text", "markdown", "json")
FORMAT_VERSION = 2  # 2: keys in snake_case like every other output ("old_name")
_SIGN = {"added": "+", "removed": "-", "renamed": "→", "changed": "~"}
_MAX_FIELDS = 20


def _value(v: Any) -> str:
    if v is MISSING:
        return "(none)"
    return jsonio.dumps(v, ensure_ascii=False, default=str)


def _field(f: FieldChange) -> str:
    if f.op == "add":
        return f"{f.pointer}: + {_value(f.new)}"
    if f.op == "remove":
        return f"{f.pointer}: - {_value(f.old)}"
    return f"{f.pointer}: {_value(f.old)} → {_value(f.new)}"


def _heading(c: EntityChange) -> str:
    if c.status == "renamed":
        return f"{c.old_name} → {c.name} (renamed)"
    return f"{c.name} ({c.status})"


def _by_kind(diff: CatalogDiff) -> dict[str, list[EntityChange]]:
    out: dict[str, list[EntityChange]] = {}
    for c in diff.changes:
        out.setdefault(c.kind, []).append(c)
    return out


def _summary(diff: CatalogDiff) -> str:
    counts = [
        f"{sum(1 for c in diff.changes if c.status == s)} {s}"
        for s in STATUSES
        if any(c.status == s for c in diff.changes)
    ]
    return ", ".join(counts) if counts else "no changes"


def render_text(diff: CatalogDiff, *, color: bool = False) -> str:
    lines = [f"catalog diff {diff.base.label[:12]}..{diff.head.label[:12]}: {_summary(diff)}"]
    for kind, changes in _by_kind(diff).items():
        lines.append(f"\n{kind}")
        for c in changes:
            lines.append(f"  {_SIGN[c.status]} {_heading(c)}")
            if c.status in ("changed", "renamed"):
                lines.extend(f"      {_field(f)}" for f in c.fields)
            users = diff.impact.get(c.ref)
            if users:
                lines.append(f"      impact: {', '.join(users)}")
    if diff.findings.items:
        lines.append("\nfindings")
        for d in diff.findings.items:
            lines.append(f"  {d.location()}: {d.severity} {d.code} {d.message}")
            if d.hint:
                lines.append(f"      hint: {d.hint}")
    text = "\n".join(lines) + "\n"
    return colorize(text) if color else text


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(diff: CatalogDiff) -> str:
    errors = diff.findings.counts()["error"]
    mark = "❌" if errors else "✅"
    lines = [
        "## Catalog changes",
        "",
        f"`{diff.base.label[:12]}` → `{diff.head.label[:12]}`: **{_summary(diff)}**. "
        f"{mark} {errors} versioning/lifecycle error(s).",
    ]
    if diff.findings.items:
        lines += ["", "### Findings", "", "| | code | where | message |", "|---|---|---|---|"]
        for d in diff.findings.items:
            icon = {"error": "❌", "warning": "⚠️"}.get(d.severity, "ℹ️")
            lines.append(f"| {icon} | {d.code} | `{d.location()}` | {_md(d.message)} |")
    for kind, changes in _by_kind(diff).items():
        lines += ["", f"### {kind}", ""]
        for c in changes:
            lines.append(f"- **{_md(_heading(c))}**")
            users = diff.impact.get(c.ref)
            if users:
                lines.append(f"  - impact: {', '.join(f'`{u}`' for u in users)}")
            if c.status in ("changed", "renamed") and c.fields:
                lines += ["", "  | field | before | after |", "  |---|---|---|"]
                for f in c.fields[:_MAX_FIELDS]:
                    lines.append(
                        f"  | `{f.pointer}` | {_md(_value(f.old))} | {_md(_value(f.new))} |"
                    )
                if len(c.fields) > _MAX_FIELDS:
                    lines.append(f"  | … | {len(c.fields) - _MAX_FIELDS} more | |")
                lines.append("")
    text = "\n".join(lines).rstrip() + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _json_value(v: Any) -> Any:
    return None if v is MISSING else v


def _file(c: EntityChange) -> str | None:
    doc = c.new or c.old
    return doc.file if doc is not None else None


def render_json(diff: CatalogDiff) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "base": diff.base.label,
        "head": diff.head.label,
        "changes": [
            {
                "kind": c.kind,
                "name": c.name,
                "status": c.status,
                "old_name": c.old_name if c.status == "renamed" else None,
                "file": _file(c),
                "fields": [
                    {
                        "pointer": f.pointer,
                        "op": f.op,
                        "old": _json_value(f.old),
                        "new": _json_value(f.new),
                    }
                    for f in c.fields
                ],
                "impact": diff.impact.get(c.ref, []),
            }
            for c in diff.changes
        ],
        "findings": [  # as in the json report, without its "waived" (diff format version 1)
            {k: v for k, v in finding(d).items() if k != "waived"} for d in diff.findings.items
        ],
    }
    return jsonio.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


RENDERERS: dict[str, Callable[[CatalogDiff], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}
