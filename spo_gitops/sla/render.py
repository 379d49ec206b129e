"""The SLA report as text, markdown, json or html (strings; the caller writes them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from spo_gitops import jsonio
from spo_gitops.models.metrics import rollup_of
from spo_gitops.sla.compute import Point, Series, SlaReport
from spo_gitops.sla.rollup import RULE, Per

FORMAT_VERSION = 1


def num(value: float) -> str:
    """A figure as people read it: at most three decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def status(point: Point) -> str:
    return "attained" if point.attained else "BREACHED"


def budget_text(point: Point) -> str:
    b = point.budget
    if b is None:
        return ""
    return f"{num(b.left)} of {num(b.allowed)} min left ({b.left_percent:.0f} %)"


def period_text(point: Point) -> str:
    """The period's label; a partial quarter says how many of its months were measured."""
    if point.partial:
        n, of = len(point.rolled_up), point.expected_months
        return f"{point.period.label} (partial: {n} of {of} months)"
    return point.period.label


def months_text(point: Point) -> str:
    """The months a quarter was rolled up from, with their values ('' for a measured period)."""
    return ", ".join(f"{m.period.label}: {num(m.measured)}" for m in point.rolled_up)


def _breach_extra(p: Point) -> str:
    extra = f"; error budget {budget_text(p)}" if p.budget else ""
    return extra + (f"; rolled up from {months_text(p)}" if p.rolled_up else "")


def _rows(report: SlaReport) -> list[list[str]]:
    rows = []
    for s in report.series:
        p = s.latest
        assert p is not None
        o = s.objective
        row = [
            o.sla,
            o.label,
            f"{num(o.target)} {o.unit}",
            period_text(p),
            num(p.measured),
            status(p),
            ("+" if p.margin > 0 else "") + num(p.margin),
            budget_text(p),
            p.trend or "",
        ]
        if report.per == "quarter":
            row.append(months_text(p))
        rows.append(row)
    return rows


HEAD = ["sla", "objective", "target", "period", "measured", "status", "margin", "budget", "trend"]


def head(report: SlaReport) -> list[str]:
    """The table's columns: per quarter, the months each quarter was rolled up from too."""
    return [*HEAD, "months"] if report.per == "quarter" else HEAD


def _count(n: int, noun: str) -> str:
    """'1 service', '2 services'."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


_KIND_NOUN = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}


def _periods(report: SlaReport) -> str:
    """'6 periods'; per quarter, by kind: '2 quarters and 6 months'."""
    periods = {p.period for s in report.series for p in s.points}
    if report.per != "quarter":
        return _count(len(periods), "period")
    kinds = [k for k in ("quarterly", "monthly", "yearly") if any(p.kind == k for p in periods)]
    counts = [_count(sum(p.kind == k for p in periods), _KIND_NOUN[k]) for k in kinds]
    return " and ".join(counts) or _count(0, "period")


def rollup_note(series: Sequence[Series], per: Per) -> list[str]:
    """Per quarter: what was rolled up and how, and which quarters are partial."""
    if per != "quarter":
        return []
    rolled = [s for s in series if any(p.rolled_up for p in s.points)]
    lines = [
        "Per quarter: the months of SLAs measured monthly and reviewed quarterly are rolled up "
        f"into quarters: {RULE}. {_count(len(rolled), 'objective')} rolled up; the others stay "
        "in their own measurement periods."
    ]
    partial: dict[tuple[str, int, int], int] = {}
    for s in rolled:
        for p in s.points:
            if p.partial:
                key = (p.period.label, len(p.rolled_up), p.expected_months)
                partial[key] = partial.get(key, 0) + 1
    if partial:
        lines.append(
            "Partial quarters (not every month measured): "
            + "; ".join(
                f"{label}, {n} of {of} months ({_count(k, 'objective')})"
                for (label, n, of), k in sorted(partial.items())
            )
            + "."
        )
    elif rolled:
        lines.append("Every quarter rolled up has all its months measured.")
    return lines


def _summary(report: SlaReport) -> list[str]:
    return [
        f"SLA report up to {report.period or '-'}: "
        f"{_count(len(report.series), 'objective')} measured "
        f"over {_periods(report)}; {len(report.breaches)} breached in their latest "
        f"period; {_count(len(report.services_needing_plan), 'service')} "
        f"{'needs' if len(report.services_needing_plan) == 1 else 'need'} an improvement plan "
        f"(after {_count(report.consecutive, 'consecutive period')} missed or worsening)."
    ]


def render_text(report: SlaReport) -> str:
    lines = [*_summary(report), *rollup_note(report.series, report.per)]
    lines.append("")
    lines.append("Breached objectives:")
    for o, p in report.breaches or []:
        lines.append(
            f"  {o.sla} {o.label}: {num(p.measured)} {o.unit} against {num(o.target)} in "
            f"{period_text(p)} (margin {num(p.margin)}){_breach_extra(p)}"
        )
    if not report.breaches:
        lines.append("  none")
    lines.append("")
    lines.append("Services that need a service improvement plan:")
    for i in report.improvements:
        lines.append(f"  {i.service}: {i.message}")
    if not report.improvements:
        lines.append("  none")
    lines.append("")
    table = [head(report), *_rows(report)]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: SlaReport, charts: Mapping[Series, str] | None = None) -> str:
    """Markdown; ``charts`` maps a series to the (relative) path of its chart image."""
    note = rollup_note(report.series, report.per)
    lines = ["# Service level report", "", *_summary(report), ""]
    lines += [*(f"{n}\n" for n in note), "## Breached objectives", ""]
    for o, p in report.breaches:
        lines.append(
            f"- **{o.sla}** {o.label}: {num(p.measured)} {o.unit} against a target of "
            f"{num(o.target)} in {period_text(p)} (margin {num(p.margin)}){_breach_extra(p)}"
        )
    if not report.breaches:
        lines.append("None.")
    lines += ["", "## Service improvement plans needed", ""]
    for i in report.improvements:
        lines.append(f"- **{i.service}**: {i.message}")
    if not report.improvements:
        lines.append("None.")
    columns = head(report)
    lines += ["", "## Objectives", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for r in _rows(report):
        lines.append("| " + " | ".join(_md(c) for c in r) + " |")
    if charts:
        lines += ["", "## Charts", ""]
        for s in report.series:
            if s in charts:
                alt = f"{s.objective.sla} {s.objective.label} over time against its target"
                lines += [f"![{alt}]({charts[s]})", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _r(value: float) -> float:
    return round(value, 6)


def to_json(report: SlaReport) -> dict[str, Any]:
    def point(s: Series, p: Point) -> dict[str, Any]:
        b = p.budget
        return {
            "period": p.period.label,
            "measured": p.measured,
            "attained": p.attained,
            "margin": _r(p.margin),
            "trend": p.trend,
            "budget": None
            if b is None
            else {
                "service_minutes": b.minutes,
                "allowed_minutes": _r(b.allowed),
                "consumed_minutes": _r(b.consumed),
                "left_minutes": _r(b.left),
                "left_percent": _r(b.left_percent),
            },
            "rollup": None
            if not p.rolled_up
            else {
                "rule": rollup_of(s.objective.metric, s.objective.unit),
                "months_expected": p.expected_months,
                "partial": p.partial,
                "months": [
                    {
                        "period": m.period.label,
                        "measured": m.measured,
                        "attained": m.attained,
                        "service_minutes": m.budget.minutes if m.budget else None,
                        "source": f"{m.file}:{m.line}",
                    }
                    for m in p.rolled_up
                ],
            },
            "source": ", ".join(p.sources),
        }

    return {
        "format_version": FORMAT_VERSION,
        "period": report.period,
        "per": report.per,
        "consecutive": report.consecutive,
        "objectives": [
            {
                "sla": s.objective.sla,
                "service": s.objective.service,
                "customer": s.objective.customer,
                "metric": s.objective.metric,
                "priority": s.objective.priority,
                "target": s.objective.target,
                "unit": s.objective.unit,
                "direction": s.objective.direction,
                "points": [point(s, p) for p in s.points],
            }
            for s in report.series
        ],
        "breaches": [
            {"sla": o.sla, "objective": o.label, "period": p.period.label}
            for o, p in report.breaches
        ],
        "improvement_plans": [
            {
                "service": i.service,
                "sla": i.sla,
                "objective": i.objective,
                "reason": i.reason,
                "periods": list(i.periods),
            }
            for i in report.improvements
        ],
        "diagnostics": [
            {"code": d.code, "message": d.message, "location": d.location()}
            for d in report.diagnostics
        ],
    }


def render_json(report: SlaReport) -> str:
    return jsonio.dumps(to_json(report), indent=2) + "\n"


def render_html(report: SlaReport, chart: Callable[[Series], str] | None = None) -> str:
    """A self-contained HTML page; ``chart`` draws a series as inline SVG."""
    from markupsafe import Markup

    from spo_gitops.templating import environment

    env = environment("docs", html=True)
    charts = {s: Markup(chart(s)) for s in report.series} if chart else {}
    return env.get_template("sla-report.html.j2").render(
        report=report,
        summary=_summary(report)[0],
        note=rollup_note(report.series, report.per),
        rows=_rows(report),
        head=head(report),
        charts=charts,
        budget_text=budget_text,
        period_text=period_text,
        months_text=months_text,
        num=num,
    )
