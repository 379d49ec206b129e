"""The portfolio report and the capacity forecast as text, markdown, json or html."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spo_gitops import jsonio
from spo_gitops.models.common import STAGES
from spo_gitops.portfolio.forecast import PoolForecast
from spo_gitops.portfolio.report import PortfolioReport, Rollup
from spo_gitops.site import amount
from spo_gitops.templating import environment

FORMAT_VERSION = 1


def percent(fraction: float) -> str:
    return f"{100 * fraction:.1f} %"


def years(value: float | None) -> str:
    return "none" if value is None else f"{value:.1f} y"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    numeric = [
        bool(rows) and all(r[i][:1].isdigit() or r[i][:1] == "-" for r in rows if r[i] != "none")
        for i in range(len(head))
    ]
    if markdown:
        align = ["---:" if n else "---" for n in numeric]
        return [
            "| " + " | ".join(head) + " |",
            "|" + "|".join(align) + "|",
            *("| " + " | ".join(r) + " |" for r in rows),
        ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    out = []
    for row in [head, *rows]:
        cells = [
            c.rjust(w) if numeric[i] else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _money_rows(groups: list[Rollup]) -> list[list[str]]:
    return [
        [
            g.key,
            g.currency,
            str(g.services),
            amount(g.investment),
            amount(g.annual_cost),
            amount(g.tco),
            amount(round(g.npv)),
            percent(g.roi),
            years(g.payback),
        ]
        for g in groups
    ]


MONEY_HEAD = (
    "{dim}",
    "currency",
    "services",
    "investment",
    "annual cost",
    "TCO",
    "NPV",
    "ROI",
    "payback",
)


def _sections(rep: PortfolioReport, markdown: bool) -> list[str]:
    h = (lambda t: f"## {t}") if markdown else (lambda t: t + "\n" + "-" * len(t))
    out = [
        "# Portfolio report" if markdown else "Portfolio report",
        "",
        f"As of {rep.date}; NPV at a discount rate of {percent(rep.discount_rate)}.",
        "",
        h("Services per stage and domain"),
        "",
    ]
    stages = [s for s in STAGES if any(rep.counts[s].values())]
    rows = [
        [s, *(str(rep.counts[s][d]) for d in rep.domains), str(sum(rep.counts[s].values()))]
        for s in stages
    ]
    total = [
        "total",
        *(str(sum(rep.counts[s][d] for s in STAGES)) for d in rep.domains),
        str(len(rep.entries)),
    ]
    out += _table(["stage", *rep.domains, "total"], [*rows, total], markdown)
    for dim in ("domain", "stage", "sponsor"):
        out += ["", h(f"Money by {dim} (not retired)"), ""]
        head = [MONEY_HEAD[0].format(dim=dim), *MONEY_HEAD[1:]]
        out += _table(head, _money_rows(rep.rollups[dim]), markdown)
    out += ["", h("Lead time per stage (days from the previous dated stage)"), ""]
    out += _table(
        ["stage", "median", "services", "from approvals", "from git"],
        [
            [
                lt.stage,
                f"{lt.median:g}",
                str(len(lt.samples)),
                str(sum(1 for s in lt.samples if s[2] == "approval")),
                str(sum(1 for s in lt.samples if s[2] == "git")),
            ]
            for lt in rep.lead_times
        ],
        markdown,
    )
    out += ["", h("Run budget"), ""]
    out += _table(
        ["pool", "currency", "capacity", "allocated", "annual cost", "difference", "check"],
        [
            [
                b.pool,
                b.currency,
                amount(b.capacity),
                amount(b.allocated),
                amount(b.annual_cost),
                amount(b.difference),
                "agrees" if b.agrees else "DISAGREES",
            ]
            for b in rep.budget
        ],
        markdown,
    )
    out += ["", h("Slipped plans"), ""]
    if rep.slips:
        out += _table(
            ["service", "stage", "planned", "due", "late (days)"],
            [[s.service, s.stage, s.planned, str(s.due), str(s.days)] for s in rep.slips],
            markdown,
        )
    else:
        out.append("None.")
    out += ["", h("Risks (not closed), highest score first"), ""]
    open_risks = [r for r in rep.risks if r.status != "closed"]
    out += _table(
        ["risk", "score", "likelihood", "impact", "status", "next review", "services"],
        [
            [
                r.name,
                str(r.score),
                str(r.likelihood),
                str(r.impact),
                r.status,
                r.next_review + (" (overdue)" if r.overdue else ""),
                ", ".join(r.services) or "-",
            ]
            for r in open_risks
        ],
        markdown,
    )
    return out


def render_text(rep: PortfolioReport) -> str:
    return "\n".join(_sections(rep, markdown=False)) + "\n"


def render_markdown(rep: PortfolioReport) -> str:
    return "\n".join(_sections(rep, markdown=True)) + "\n"


def report_data(rep: PortfolioReport) -> dict[str, Any]:
    def money(g: Rollup) -> dict[str, Any]:
        return {
            "key": g.key,
            "currency": g.currency,
            "services": g.services,
            "investment": g.investment,
            "annualCost": g.annual_cost,
            "annualBenefit": g.annual_benefit,
            "tco": g.tco,
            "npv": g.npv,
            "roi": g.roi,
            "payback": g.payback,
        }

    return {
        "format_version": FORMAT_VERSION,
        "date": rep.date.isoformat(),
        "discountRate": rep.discount_rate,
        "stages": {s: rep.counts[s] for s in STAGES},
        "rollups": {dim: [money(g) for g in groups] for dim, groups in rep.rollups.items()},
        "leadTimes": [
            {
                "stage": lt.stage,
                "median": lt.median,
                "samples": [{"service": s, "days": d, "source": src} for s, d, src in lt.samples],
            }
            for lt in rep.lead_times
        ],
        "budget": [
            {
                "pool": b.pool,
                "currency": b.currency,
                "capacity": b.capacity,
                "allocated": b.allocated,
                "annualCost": b.annual_cost,
                "difference": b.difference,
                "agrees": b.agrees,
                "services": [
                    {"service": s, "allocated": a, "annualCost": c} for s, a, c in b.services
                ],
            }
            for b in rep.budget
        ],
        "slipped": [
            {
                "service": s.service,
                "stage": s.stage,
                "planned": s.planned,
                "due": s.due.isoformat(),
                "days": s.days,
            }
            for s in rep.slips
        ],
        "entries": [
            {
                "service": e.service,
                "stage": e.stage,
                "domain": e.domain,
                "sponsor": e.sponsor,
                "plan": e.plan,
                "reached": {
                    s: {"date": d.isoformat(), "source": src} for s, (d, src) in e.reached.items()
                },
                "leadTimes": e.lead,
            }
            for e in rep.entries
        ],
        "risks": [
            {
                "name": r.name,
                "score": r.score,
                "likelihood": r.likelihood,
                "impact": r.impact,
                "status": r.status,
                "nextReview": r.next_review,
                "overdue": r.overdue,
                "services": list(r.services),
                "suppliers": list(r.suppliers),
            }
            for r in rep.risks
        ],
    }


def render_json(rep: PortfolioReport) -> str:
    return jsonio.dumps(report_data(rep), indent=2) + "\n"


def dictsum(values: dict[str, int]) -> int:
    return sum(values.values())


def template_helpers() -> dict[str, Any]:
    return {"percent": percent, "years": years, "stages": STAGES}


def render_html(rep: PortfolioReport) -> str:
    """A standalone page (styles inline, nothing loaded from elsewhere)."""
    env = environment("docs", html=True)
    env.filters["amount"] = amount
    env.filters["dictsum"] = dictsum
    return env.get_template("portfolio-report.html.j2").render(rep=rep, **template_helpers())


# --- capacity forecast -------------------------------------------------------------------------


def forecast_data(pools: list[PoolForecast]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "pools": [
            {
                "pool": p.pool,
                "unit": p.unit,
                "capacity": p.capacity,
                "firstOverbooked": p.first_overbooked,
                "quarters": [
                    {
                        "quarter": r.quarter,
                        "committed": r.committed,
                        "pipeline": r.pipeline,
                        "total": r.total,
                        "utilization": r.utilization,
                        "status": r.status,
                    }
                    for r in p.rows
                ],
                "pipeline": [
                    {
                        "service": d.service,
                        "stage": d.stage,
                        "quantity": d.quantity,
                        "from": None if d.start is None else f"{d.start[0]}-Q{d.start[1]}",
                    }
                    for d in p.demands
                    if not d.committed
                ],
            }
            for p in pools
        ],
    }


def forecast_json(pools: list[PoolForecast]) -> str:
    return jsonio.dumps(forecast_data(pools), indent=2) + "\n"


def forecast_text(pools: list[PoolForecast]) -> str:
    return _forecast(pools, markdown=False)


def forecast_markdown(pools: list[PoolForecast]) -> str:
    return _forecast(pools, markdown=True)


def _forecast(pools: list[PoolForecast], *, markdown: bool) -> str:
    out = ["# Capacity forecast" if markdown else "Capacity forecast", ""]
    for p in pools:
        title = f"{p.pool} ({amount(p.capacity)} {p.unit})"
        out += [f"## {title}" if markdown else title, ""]
        out += _table(
            ["quarter", "committed", "pipeline", "total", "utilization", "status"],
            [
                [
                    r.quarter,
                    amount(r.committed),
                    amount(r.pipeline),
                    amount(r.total),
                    f"{r.utilization:.1f} %",
                    r.status,
                ]
                for r in p.rows
            ],
            markdown,
        )
        first = p.first_overbooked
        out += ["", f"first overbooked: {first}" if first else "not overbooked in these quarters"]
        unscheduled = p.unscheduled
        if unscheduled:
            names = ", ".join(f"{d.service} {amount(d.quantity)}" for d in unscheduled)
            out.append(f"unscheduled pipeline (no planned go-live, not counted): {names}")
        out.append("")
    out.append("First quarter each pool overbooks:" if not markdown else "## Summary")
    if markdown:
        out.append("")
    for p in pools:
        line = f"{p.pool}: {p.first_overbooked or 'not within the forecast'}"
        out.append(f"- {line}" if markdown else f"  {line}")
    return "\n".join(out) + "\n"
