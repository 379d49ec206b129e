"""Plans and apply reports as text (Terraform-like symbols), markdown (a PR comment) and JSON."""

from __future__ import annotations

import difflib
from typing import Any

from spo_gitops import jsonio
from spo_gitops.provision.apply import ApplyReport
from spo_gitops.provision.plan import Action, Change, Plan
from spo_gitops.report.style import colorize

SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "no-op": " "}
PLAN_FORMATS = ("text", "markdown", "json")


def _value(value: Any) -> str:
    text = jsonio.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _text_diff(before: str, after: str) -> str:
    """A multi-line string change as a compact unified diff, indented under its path."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)
    body = [line for line in lines if not line.startswith(("---", "+++"))]
    return "\n".join("        " + line for line in body)


def _list_diff(before: list[Any], after: list[Any]) -> str:
    """A list change element by element: each element removed (``-``) or added (``+``), so that
    one element dropped from a long list is seen however long the list is."""
    old = [jsonio.dumps(v, ensure_ascii=False, sort_keys=True) for v in before]
    new = [jsonio.dumps(v, ensure_ascii=False, sort_keys=True) for v in after]
    lines = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            lines += [f"        - [{i}] {_value(before[i])}" for i in range(i1, i2)]
        if op in ("insert", "replace"):
            lines += [f"        + [{j}] {_value(after[j])}" for j in range(j1, j2)]
    return "\n".join(lines)


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value


def change_line(change: Change, action: str) -> str:
    """One field change of an action (or a drift) as a line, multi-line text as a diff."""
    before, after = change.before, change.after
    if _multiline(before) or _multiline(after):
        old = before if isinstance(before, str) else ""
        new = after if isinstance(after, str) else ""
        label = {"create": "text", "delete": "text removed"}.get(action, "text changed")
        return f"{change.path}: ({label})\n{_text_diff(old, new)}"
    if isinstance(before, list) and isinstance(after, list) and action not in ("create", "delete"):
        return f"{change.path}: (list changed)\n{_list_diff(before, after)}"
    if action == "create":
        return f"{change.path} = {_value(change.after)}"
    if action == "delete":
        return f"{change.path} = {_value(change.before)}"
    if change.before is None:
        return f"{change.path}: (none) -> {_value(change.after)}"
    if change.after is None:
        return f"{change.path}: {_value(change.before)} -> (removed)"
    return f"{change.path}: {_value(change.before)} -> {_value(change.after)}"


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    if not plan.has_changes:
        text = "No changes: the providers match the catalog."
    else:
        text = (
            f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
            f"{s['delete']} to delete ({s['no-op']} unchanged)."
        )
    if plan.drift:
        text += f" {len(plan.drift)} drifted."
    return text


def render_text(plan: Plan, *, color: bool = False) -> str:
    lines: list[str] = []
    if plan.drift:
        lines.append("Drift: changed outside spo since the last apply")
        for d in plan.drift:
            if d.missing:
                lines.append(f"  ! {d.address}: deleted at the provider")
            for c in d.changes:
                lines.append(f"  ! {d.address} {change_line(c, 'update')}")
        lines.append("")
    for action in plan.changes():
        lines.extend(_action_text(action))
    if plan.orphans:
        lines.append("Not in the catalog any more, kept because pruning is off (--prune):")
        lines.extend(f"  {addr}" for addr in plan.orphans)
        lines.append("")
    if plan.kept:
        lines.append("Protected, never deleted:")
        lines.extend(f"  {addr}" for addr in plan.kept)
        lines.append("")
    lines.append(summary_line(plan))
    text = "\n".join(lines) + "\n"
    return colorize(text) if color else text


def _action_text(action: Action) -> list[str]:
    symbol = SYMBOLS[action.action]
    where = f"  ({action.entity}, {action.source})" if action.entity and action.source else ""
    out = [f"{symbol} {action.address}  # {action.reason}{where}"]
    for change in action.changes:
        out.append(f"    {change_line(change, action.action)}")
    out.append("")
    return out


def render_markdown(plan: Plan) -> str:
    lines = ["### spo plan", "", f"**{summary_line(plan)}**", ""]
    if plan.commit:
        lines += [f"Catalog commit `{plan.commit[:12]}`, state serial {plan.serial}.", ""]
    if plan.has_changes:
        lines += ["| | resource | reason | from |", "|---|---|---|---|"]
        for a in plan.changes():
            lines.append(
                f"| `{SYMBOLS[a.action]}` | `{a.address}` | {a.reason} | {a.entity or ''} |"
            )
        lines.append("")
        lines += ["<details><summary>Field changes</summary>", "", "```diff"]
        for a in plan.changes():
            mark = {"create": "+", "delete": "-"}.get(a.action, "!")
            lines.append(f"{mark} {a.address}")
            lines.extend(f"  {change_line(c, a.action)}" for c in a.changes)
        lines += ["```", "", "</details>", ""]
    if plan.drift:
        lines += ["#### Drift", ""]
        for d in plan.drift:
            what = "deleted at the provider" if d.missing else ", ".join(c.path for c in d.changes)
            lines.append(f"- `{d.address}`: {what}")
        lines.append("")
    if plan.orphans:
        lines += ["#### Kept (pruning off)", ""]
        lines += [f"- `{a}`" for a in plan.orphans]
        lines.append("")
    return "\n".join(lines)


def render(fmt: str, plan: Plan) -> str:
    if fmt == "text":
        return render_text(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    from spo_gitops.provision import planfile

    return planfile.dumps(plan)


def render_apply(report: ApplyReport) -> str:
    lines = []
    for r in report.results:
        if r.outcome != "succeeded" or r.detail:
            lines.append(f"{r.outcome:9} {r.action:7} {r.address}  {r.detail}".rstrip())
    ok, failed, skipped = report.count("succeeded"), report.count("failed"), report.count("skipped")
    resumed = " (resumed an interrupted apply)" if report.resumed else ""
    lines.append(
        f"Apply {'complete' if report.ok else 'incomplete'}{resumed}: {ok} succeeded, "
        f"{failed} failed, {skipped} skipped."
    )
    return "\n".join(lines) + "\n"
