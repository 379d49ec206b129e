"""The portfolio report: what the portfolio board asks, computed from the catalog.

- services per stage and domain (every entry, retired ones included);
- money rolled up by domain, stage and sponsor: investment, annual cost and benefit, TCO, NPV,
  ROI and payback (finance.py) over the entries with a business case that are not retired. A
  group's ROI is (sum of benefits over each horizon - sum of TCOs) / sum of TCOs; its payback is
  the sum of investments over the sum of yearly net benefits (none when that is not positive).
  Groups are per currency;
- lead time per stage: days from the previous dated stage (roadmap.py), with the median per stage;
- the run budget per budget pool (budget.py), slipped plans (roadmap.py) and the risks (risks.py).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from spo_gitops.catalog.references import Index
from spo_gitops.models.common import STAGES
from spo_gitops.portfolio.budget import BudgetLine, budget_lines
from spo_gitops.portfolio.finance import Figures, case_figures
from spo_gitops.portfolio.risks import RiskRow, risk_rows
from spo_gitops.portfolio.roadmap import (
    Slip,
    StageHistory,
    lead_times,
    planned_dates,
    quarter_label,
    quarter_of,
    quarters,
    slips,
    stage_dates,
)

NONE = "(none)"
DIMENSIONS = ("domain", "stage", "sponsor")


@dataclass(frozen=True)
class EntryRow:
    service: str
    title: str
    stage: str
    domain: str
    sponsor: str
    tier: int | None
    figures: Figures | None
    plan: dict[str, str]  # stage -> planned period, in stage order
    reached: dict[str, tuple[dt.date, str]]  # stage -> (date, source)
    lead: dict[str, int]  # stage -> days from the previous dated stage
    slips: tuple[Slip, ...]


@dataclass(frozen=True)
class Rollup:
    dimension: str
    key: str
    currency: str
    services: int
    investment: float
    annual_cost: float
    annual_benefit: float
    tco: float
    benefit: float  # over each case's horizon
    npv: float

    @property
    def roi(self) -> float:
        return (self.benefit - self.tco) / self.tco if self.tco else 0.0

    @property
    def payback(self) -> float | None:
        net = self.annual_benefit - self.annual_cost
        if self.investment == 0:
            return 0.0
        return self.investment / net if net > 0 else None


@dataclass(frozen=True)
class LeadTime:
    stage: str
    samples: tuple[tuple[str, int, str], ...]  # (service, days, source of the stage's date)

    @property
    def median(self) -> float:
        return float(statistics.median(d for _, d, _ in self.samples))


@dataclass
class PortfolioReport:
    date: dt.date
    discount_rate: float
    entries: list[EntryRow]
    counts: dict[str, dict[str, int]]  # stage -> domain -> services
    domains: list[str]
    rollups: dict[str, list[Rollup]]  # dimension -> groups
    lead_times: list[LeadTime]
    budget: list[BudgetLine]
    risks: list[RiskRow] = field(default_factory=list)

    @property
    def slips(self) -> list[Slip]:
        return [s for e in self.entries for s in e.slips]


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


def _entries(index: Index, today: dt.date, rate: float, history: StageHistory) -> list[EntryRow]:
    rows = []
    for doc in sorted(index.of_kind("PortfolioEntry"), key=lambda d: str(_spec(d.data)["service"])):
        if not doc.valid:
            continue
        spec = _spec(doc.data)
        service = str(spec["service"])
        model = index.get("ServiceModel", service)
        meta = model.data.get("metadata", {}) if model is not None and model.valid else {}
        tier = _spec(model.data).get("tier") if model is not None and model.valid else None
        case = spec.get("businessCase")
        plan = spec.get("plan") or {}
        reached = stage_dates(doc.data, history.get(service, ()))
        rows.append(
            EntryRow(
                service,
                str(meta.get("title") or service),
                str(spec["stage"]),
                str(spec.get("domain") or NONE),
                str(spec.get("sponsor") or NONE),
                tier,
                case_figures(case, rate) if isinstance(case, dict) else None,
                {s: str(plan[s]) for s in STAGES if s in plan},
                reached,
                lead_times(reached),
                tuple(slips(doc, today)),
            )
        )
    return rows


def _rollups(entries: list[EntryRow], dimension: str) -> list[Rollup]:
    groups: dict[tuple[str, str], list[Figures]] = {}
    for e in entries:
        if e.figures is None or e.stage == "retired":
            continue
        key = str(getattr(e, dimension))
        groups.setdefault((key, e.figures.currency), []).append(e.figures)
    order = (lambda k: (STAGES.index(k[0]), k[1])) if dimension == "stage" else (lambda k: k)
    out = []
    for key, currency in sorted(groups, key=order):
        fs = groups[(key, currency)]
        out.append(
            Rollup(
                dimension,
                key,
                currency,
                len(fs),
                sum(f.investment for f in fs),
                sum(f.annual_cost for f in fs),
                sum(f.annual_benefit for f in fs),
                sum(f.tco for f in fs),
                sum(f.annual_benefit * f.years for f in fs),
                sum(f.npv for f in fs),
            )
        )
    return out


def _lead_times(entries: list[EntryRow]) -> list[LeadTime]:
    out = []
    for stage in STAGES:
        samples = tuple(
            (e.service, e.lead[stage], e.reached[stage][1]) for e in entries if stage in e.lead
        )
        if samples:
            out.append(LeadTime(stage, samples))
    return out


def build_report(
    index: Index,
    today: dt.date,
    *,
    rate: float,
    provisioned: Collection[str],
    history: StageHistory | Callable[[list[str]], StageHistory] = {},  # noqa: B006 (read only)
) -> PortfolioReport:
    """The report on ``today``. ``history``: each service's stage at each commit of its entry
    (oldest first), or a function that reads it for the services named (those that reached a
    stage without an approval record), so that git is read only when needed."""
    if callable(history):
        needed = []
        for doc in index.of_kind("PortfolioEntry"):
            spec = _spec(doc.data)
            if not doc.valid:
                continue
            dated = set(stage_dates(doc.data))
            stage = STAGES.index(str(spec["stage"]))
            if any(s not in dated for s in STAGES[: stage + 1]):
                needed.append(str(spec["service"]))
        history = history(sorted(needed)) if needed else {}
    entries = _entries(index, today, rate, history)
    domains = sorted({e.domain for e in entries})
    counts = {s: {d: 0 for d in domains} for s in STAGES}
    for e in entries:
        counts[e.stage][e.domain] += 1
    return PortfolioReport(
        today,
        rate,
        entries,
        counts,
        domains,
        {d: _rollups(entries, d) for d in DIMENSIONS},
        _lead_times(entries),
        budget_lines(index, provisioned),
        risk_rows(index, today),
    )


@dataclass(frozen=True)
class Mark:
    stage: str
    kind: Literal["reached", "planned", "slipped"]
    title: str


def timeline(
    rep: PortfolioReport, before: int = 4, after: int = 8
) -> tuple[list[str], list[tuple[str, list[dict[str, Any]]]]]:
    """Quarter labels (``before`` quarters before the report date's to ``after`` after) and, per
    domain, each entry with its marks per quarter: stages reached and stages planned."""
    now = quarter_of(rep.date)
    start = now
    for _ in range(before):
        start = (start[0] - 1, 4) if start[1] == 1 else (start[0], start[1] - 1)
    labels = [quarter_label(q) for q in quarters(start, before + 1 + after)]
    shown = set(labels)
    by_domain: dict[str, list[dict[str, Any]]] = {}
    for e in rep.entries:
        cells: dict[str, list[Mark]] = {}
        for stage, (day, source) in sorted(e.reached.items(), key=lambda kv: kv[1][0]):
            q = quarter_label(quarter_of(day))
            if q in shown:
                cells.setdefault(q, []).append(Mark(stage, "reached", f"{stage} {day} ({source})"))
        slipped = {s.stage for s in e.slips}
        dates = planned_dates({"plan": e.plan})
        for stage, text in e.plan.items():
            if stage in e.reached or stage not in dates:
                continue
            q = quarter_label(quarter_of(dates[stage]))
            kind: Literal["planned", "slipped"] = "slipped" if stage in slipped else "planned"
            if q in shown:
                cells.setdefault(q, []).append(Mark(stage, kind, f"{stage} planned {text}"))
        by_domain.setdefault(e.domain, []).append({"entry": e, "cells": cells})
    return labels, sorted(by_domain.items())
