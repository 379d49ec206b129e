"""The SLA report as text, markdown, json or html (strings; the caller writes them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from spo_gitops import jsonio
from spo_gitops.sla.compute import Point, Series, SlaReport

Format = Literal["text", "markdown", "json", "html"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "json", "html")
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


def _rows(report: SlaReport) -> list[list[str]]:
    rows = []
    for s in report.series:
        p = s.latest
        assert p is not None
        o = s.objective
        rows.append(
            [
                o.sla,
                o.label,
                f"{num(o.target)} {o.unit}",
                p.period.label,
                num(p.measured),
                status(p),
                ("+" if p.margin > 0 else "") + num(p.margin),
                budget_text(p),
                p.trend or "",
            ]
        )
    return rows


HEAD = ["sla", "objective", "target", "period", "measured", "status", "margin", "budget", "trend"]


def _count(n: int, noun: str) -> str:
    """'1 service', '2 services'."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _summary(report: SlaReport) -> list[str]:
    periods = {p.period.label for s in report.series for p in s.points}
    return [
        f"SLA report up to {report.period or '-'}: "
        f"{_count(len(report.series), 'objective')} measured "
        f"over {_count(len(periods), 'period')}; {len(report.breaches)} breached in their latest "
        f"period; {_count(len(report.services_needing_plan), 'service')} "
        f"{'needs' if len(report.services_needing_plan) == 1 else 'need'} an improvement plan "
        f"(after {_count(report.consecutive, 'consecutive period')} missed or worsening)."
    ]


def render_text(report: SlaReport) -> str:
    lines = _summary(report)
    lines.append("")
    lines.append("Breached objectives:")
    for o, p in report.breaches or []:
        extra = f"; error budget {budget_text(p)}" if p.budget else ""
        lines.append(
            f"  {o.sla} {o.label}: {num(p.measured)} {o.unit} against {num(o.target)} in "
            f"{p.period.label} (margin {num(p.margin)}){extra}"
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
    table = [HEAD, *_rows(report)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEAD))]
    for r in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: SlaReport, charts: Mapping[Series, str] | None = None) -> str:
    """Markdown; ``charts`` maps a series to the (relative) path of its chart image."""
    lines = ["# Service level report", "", *_summary(report), "", "## Breached objectives", ""]
    for o, p in report.breaches:
        extra = f"; error budget {budget_text(p)}" if p.budget else ""
        lines.append(
            f"- **{o.sla}** {o.label}: {num(p.measured)} {o.unit} against a target of "
            f"{num(o.target)} in {p.period.label} (margin {num(p.margin)}){extra}"
        )
    if not report.breaches:
        lines.append("None.")
    lines += ["", "## Service improvement plans needed", ""]
    for i in report.improvements:
        lines.append(f"- **{i.service}**: {i.message}")
    if not report.improvements:
        lines.append("None.")
    lines += ["", "## Objectives", "", "| " + " | ".join(HEAD) + " |"]
    lines.append("|" + "---|" * len(HEAD))
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
    def point(p: Point) -> dict[str, Any]:
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
            "source": f"{p.file}:{p.line}",
        }

    return {
        "format_version": FORMAT_VERSION,
        "period": report.period,
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
                "points": [point(p) for p in s.points],
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
        rows=_rows(report),
        head=HEAD,
        charts=charts,
        budget_text=budget_text,
        num=num,
    )


def render(
    report: SlaReport,
    fmt: Format,
    *,
    chart_svg: Callable[[Series], str] | None = None,
    chart_paths: Mapping[Series, str] | None = None,
) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report, chart_paths)
    if fmt == "html":
        return render_html(report, chart_svg)
    return render_text(report)
