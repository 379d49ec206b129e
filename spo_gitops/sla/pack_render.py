"""A service review pack as one self-contained HTML page or as markdown (strings)."""

from __future__ import annotations

from spo_gitops.sla.compute import Series
from spo_gitops.sla.pack import Pack
from spo_gitops.sla.render import num
from spo_gitops.sla.svg import chart_svg


def _target(s: Series) -> str:
    return f"{num(s.objective.target)} {s.objective.unit}"


def _values(s: Series) -> list[str]:
    return [
        f"{p.period.label}: {num(p.measured)}" + ("" if p.attained else " (breached)")
        for p in s.points
    ]


def render_pack_markdown(pack: Pack) -> str:
    out = [
        f"# Service review: {pack.title}",
        "",
        f"Review period {pack.period.label}; each objective over its last {pack.periods} periods "
        f"up to {pack.period.end.isoformat()} (exclusive). Services: {', '.join(pack.services)}.",
        "",
    ]
    out += ["## Breaches and improvement plans", ""]
    for b in pack.breaches:
        o = b.series.objective
        plans = ", ".join(b.plans) if b.plans else "**no open improvement plan**"
        out.append(
            f"- {o.sla} {o.label}: {num(b.point.measured)} {o.unit} against {_target(b.series)} "
            f"in {b.point.period.label}; plan: {plans}"
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
        pack=pack, charts=charts, num=num, target=_target
    )
