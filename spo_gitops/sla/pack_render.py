"""A service review pack as one self-contained HTML page or as markdown (strings)."""

from __future__ import annotations

from spo_gitops.sla.compute import Series
from spo_gitops.sla.pack import Pack
from spo_gitops.sla.render import months_text, num, period_text, rollup_note
from spo_gitops.sla.svg import chart_svg


def _target(s: Series) -> str:
    return f"{num(s.objective.target)} {s.objective.unit}"


def _values(s: Series) -> list[str]:
    """'2026-06: 99.82 (breached)'; a quarter with its months: '2026-Q2: 99.863 (breached;
    2026-04: 99.91, 2026-05: 99.86, 2026-06: 99.82)'."""
    out = []
    for p in s.points:
        notes = ([] if p.attained else ["breached"]) + ([months_text(p)] if p.rolled_up else [])
        out.append(
            f"{period_text(p)}: {num(p.measured)}" + (f" ({'; '.join(notes)})" if notes else "")
        )
    return out


def _note(pack: Pack) -> list[str]:
    """How the quarters shown were rolled up, when some were."""
    series = [*pack.series, *pack.satisfaction]
    rolled = any(p.rolled_up for s in series for p in s.points)
    return rollup_note(series, "quarter") if rolled else []


def render_pack_markdown(pack: Pack) -> str:
    out = [
        f"# Service review: {pack.title}",
        "",
        f"Review period {pack.period.label}; each objective over its last {pack.periods} periods "
        f"up to {pack.period.end.isoformat()} (exclusive). Services: {', '.join(pack.services)}.",
        "",
        *(line for n in _note(pack) for line in (n, "")),
    ]
    out += ["## Breaches and improvement plans", ""]
    for b in pack.breaches:
        o = b.series.objective
        plans = ", ".join(b.plans) if b.plans else "**no open improvement plan**"
        months = f" ({months_text(b.point)})" if b.point.rolled_up else ""
        out.append(
            f"- {o.sla} {o.label}: {num(b.point.measured)} {o.unit} against {_target(b.series)} "
            f"in {period_text(b.point)}{months}; plan: {plans}"
        )
        for a in b.actions:
            late = " **overdue**" if a.overdue else ""
            out.append(f"  - {a.title} ({a.owner}, due {a.due}): {a.status}{late}")
    if not pack.breaches:
        out.append("None.")
    out += ["", "## Customer satisfaction", ""]
    for s in pack.satisfaction:
        out.append(
            f"- {s.objective.sla} {s.objective.label} (target {_target(s)}): "
            + "; ".join(_values(s))
        )
    if not pack.satisfaction:
        out.append("Not measured.")
    out += [
        "",
        "## Attainment",
        "",
        "| SLA | objective | target | measured | latest margin |",
        "|---|---|---|---|---|",
    ]
    for s in [*pack.series, *pack.satisfaction]:
        latest = s.points[-1]
        out.append(
            f"| {s.objective.sla} | {s.objective.label} | {_target(s)} | "
            f"{'; '.join(_values(s))} | {'+' if latest.margin > 0 else ''}{num(latest.margin)} |"
        )
    out += ["", "## Escalation and reporting", ""]
    for e in pack.escalations:
        out.append(f"- SPI {e.spi}: level {e.level} to {e.party} after {e.after}")
    for r in pack.reporting:
        nxt = f"; next review {r.next_review}" if r.next_review else ""
        out.append(f"- {r.source}: {r.cadence} reporting: {', '.join(r.reports) or '-'}{nxt}")
    if not pack.escalations and not pack.reporting:
        out.append("None agreed.")
    out += ["", "## Portfolio changes coming", ""]
    for c in pack.changes:
        steps = ", ".join(f"{stage} by {when}" for stage, when in c.planned)
        out.append(f"- {c.service} (now {c.stage}): {steps}")
    if not pack.changes:
        out.append("None planned.")
    return "\n".join(out) + "\n"


def render_pack_html(pack: Pack) -> str:
    from markupsafe import Markup

    from spo_gitops.templating import environment

    env = environment("docs", html=True)
    charts = {s: Markup(chart_svg(s)) for s in [*pack.series, *pack.satisfaction]}
    return env.get_template("review-pack.html.j2").render(
        pack=pack,
        charts=charts,
        num=num,
        target=_target,
        note=_note(pack),
        values=_values,
        period_text=period_text,
        months_text=months_text,
    )
