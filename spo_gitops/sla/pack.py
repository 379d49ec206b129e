"""Service review packs: what a customer's quarterly service review needs, on one page.

``build_pack`` gathers, for one customer and a review period, from the SLA report and the catalog:

- every objective of the customer's (non-draft) SLAs over its last N periods up to the end of the
  review period: target, measured values, attained or breached, latest margin;
- the breaches in that window, each with the open improvement plans that cover it and the status
  of their actions (an action past its due date at the end of the review period is overdue);
- the customer-satisfaction and NPS objectives on their own;
- the SPIs the customer is a consumer of, or that cover its services: escalation levels and the
  reports they promise, with the SLAs' reporting cadence and next review date;
- the portfolio changes coming for the services it uses (and what they depend on): the stages
  planned after the review period's start.

For a quarter the report is asked per quarter: the objectives of SLAs measured monthly and
reviewed quarterly come as quarters rolled up from their months (sla/rollup.py), and the window,
the breaches and the latest margin are theirs.

Pure: the caller renders the pack (html or markdown) and writes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from spo_gitops.catalog.references import Index
from spo_gitops.models.improvement import ACTION_OPEN, ImprovementPlan
from spo_gitops.portfolio.roadmap import due
from spo_gitops.sla.compute import Point, Series, SlaReport
from spo_gitops.sla.periods import Period, PeriodError, parse_period

SATISFACTION = frozenset({"customer-satisfaction", "nps"})


@dataclass(frozen=True)
class ActionRow:
    plan: str
    title: str
    owner: str
    due: dt.date
    status: str
    overdue: bool


@dataclass(frozen=True)
class Breach:
    series: Series
    point: Point
    plans: tuple[str, ...]
    actions: tuple[ActionRow, ...]


@dataclass(frozen=True)
class Escalation:
    spi: str
    level: int
    party: str
    after: str


@dataclass(frozen=True)
class Reporting:
    source: str  # "SLA x" or "SPI y"
    cadence: str
    reports: tuple[str, ...]
    next_review: dt.date | None


@dataclass(frozen=True)
class Change:
    service: str
    stage: str  # now
    planned: tuple[tuple[str, str], ...]  # (stage, when) after the review period's start


@dataclass
class Pack:
    customer: str
    title: str
    period: Period
    periods: int
    series: list[Series]  # each cut to the window
    satisfaction: list[Series]
    breaches: list[Breach]
    escalations: list[Escalation] = field(default_factory=list)
    reporting: list[Reporting] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def services(self) -> list[str]:
        return sorted({s.objective.service for s in self.series})


def review_period(label: str) -> Period:
    """The review period: YYYY-Qn, YYYY-MM or YYYY. PeriodError when it is none of them."""
    for kind in ("quarterly", "monthly", "yearly"):
        try:
            return parse_period(label, kind)
        except PeriodError:
            continue
    raise PeriodError(f"period {label!r} is not written as YYYY-Qn, YYYY-MM or YYYY")


def customers(index: Index) -> list[str]:
    """The parties that are the customer of a non-draft SLA."""
    return sorted(
        {
            d.data["spec"]["customer"]
            for d in index.of_kind("ServiceLevelAgreement")
            if d.valid and d.data["spec"].get("status", "active") != "draft"
        }
    )


def build_pack(
    report: SlaReport, index: Index, customer: str, period: Period, periods: int = 6
) -> Pack:
    party = index.get("Party", customer)
    title = str(((party.data.get("metadata") or {}).get("title") if party else None) or customer)
    cut: list[Series] = []
    for s in report.series:
        if s.objective.customer != customer:
            continue
        points = tuple(p for p in s.points if p.period.end <= period.end)[-periods:]
        if points:
            cut.append(Series(s.objective, points))
    plans = _open_plans(index)
    breaches = []
    for s in cut:
        for p in s.points:
            if not p.attained:
                covering = [
                    (name, plan)
                    for name, plan in plans
                    if plan.spec.service == s.objective.service
                    and any(
                        (t.sla is None or t.sla == s.objective.sla)
                        and t.metric == s.objective.metric
                        and t.priority == s.objective.priority
                        for t in plan.spec.trigger.objectives
                    )
                ]
                actions = tuple(
                    ActionRow(
                        name,
                        a.title,
                        a.owner,
                        a.due,
                        a.status,
                        a.status in ACTION_OPEN and a.due < period.end,
                    )
                    for name, plan in covering
                    for a in plan.spec.actions
                )
                breaches.append(Breach(s, p, tuple(n for n, _ in covering), actions))
    services = {s.objective.service for s in cut}
    pack = Pack(
        customer,
        title,
        period,
        periods,
        [s for s in cut if s.objective.metric not in SATISFACTION],
        [s for s in cut if s.objective.metric in SATISFACTION],
        breaches,
    )
    _interfaces(pack, index, customer, services)
    _changes(pack, index, customer, services, period)
    return pack


def _open_plans(index: Index) -> list[tuple[str, ImprovementPlan]]:
    out = []
    for doc in sorted(index.of_kind("ImprovementPlan"), key=lambda d: d.name):
        model = doc.model
        if isinstance(model, ImprovementPlan) and model.spec.status == "open":
            out.append((doc.name, model))
    return out


def _interfaces(pack: Pack, index: Index, customer: str, services: set[str]) -> None:
    for doc in sorted(index.of_kind("ServiceLevelAgreement"), key=lambda d: d.name):
        spec = doc.data["spec"]
        if not doc.valid or spec["customer"] != customer or spec.get("status") == "draft":
            continue
        rep = spec.get("reporting") or {}
        reviews = spec.get("reviews") or {}
        nxt = reviews.get("next")
        pack.reporting.append(
            Reporting(
                f"SLA {doc.name}",
                str(rep.get("cadence", "")),
                tuple(rep.get("reports", [])),
                nxt if isinstance(nxt, dt.date) else (dt.date.fromisoformat(nxt) if nxt else None),
            )
        )
    for doc in sorted(index.of_kind("ServiceProviderInterface"), key=lambda d: d.name):
        spec = doc.data["spec"]
        if not doc.valid:
            continue
        if customer not in spec.get("consumers", []) and not services & set(
            spec.get("services", [])
        ):
            continue
        for e in spec.get("escalation", []):
            pack.escalations.append(Escalation(doc.name, int(e["level"]), e["party"], e["after"]))
        rep = spec.get("reporting") or {}
        if rep:
            pack.reporting.append(
                Reporting(
                    f"SPI {doc.name}",
                    str(rep.get("cadence", "")),
                    tuple(rep.get("reports", [])),
                    None,
                )
            )


def _due(text: str) -> dt.date:
    try:
        return due(text)
    except ValueError:
        return dt.date.max  # unreadable: reported by validate; shown rather than hidden


def _changes(pack: Pack, index: Index, customer: str, services: set[str], period: Period) -> None:
    used = set(services)
    for doc in index.of_kind("ServiceLevelAgreement"):
        if doc.valid and doc.data["spec"]["customer"] == customer:
            used.add(doc.data["spec"]["service"])  # drafts too: services coming for it
    for name in list(used):
        model = index.get("ServiceModel", name)
        if model is not None and model.valid:
            used.update(model.data["spec"].get("dependsOn", []))
    for doc in sorted(index.of_kind("PortfolioEntry"), key=lambda d: d.name):
        spec = doc.data["spec"]
        if not doc.valid or spec["service"] not in used:
            continue
        planned = tuple(
            (stage, str(when))
            for stage, when in (spec.get("plan") or {}).items()
            if _due(str(when)) >= period.start
        )
        if planned:
            pack.changes.append(Change(spec["service"], spec["stage"], planned))
