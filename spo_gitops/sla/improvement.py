"""Improvement plans against the SLA report: which flagged objectives have no open plan, and
which open plans can close.

- An objective the report flags (missed or worsening in N consecutive periods) is *covered* when
  an open ImprovementPlan of its service names it among its trigger objectives: same metric and
  priority, and the same SLA when the trigger names one.
- An open plan *can close* when every objective it was triggered by was measured and met its
  target in each of the last N consecutive periods (N is the report's ``consecutive``). A plan
  triggered only by feedback or a risk is closed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models.improvement import ImprovementPlan, TriggerObjective
from spo_gitops.sla.compute import Improvement, Series, SlaReport, _consecutive_tail


@dataclass(frozen=True)
class Covered:
    improvement: Improvement
    plans: tuple[str, ...]


@dataclass(frozen=True)
class Closable:
    plan: str
    service: str
    objectives: tuple[str, ...]  # "sla metric[ priority]"
    periods: tuple[str, ...]  # the periods on target, oldest first


@dataclass
class PlanReview:
    consecutive: int
    covered: list[Covered]
    missing: list[Improvement]
    closable: list[Closable]
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not self.missing


def _label(metric: str, priority: str | None) -> str:
    return metric + (f" {priority}" if priority else "")


def _names(t: TriggerObjective, service: str, sla: str, label: str, plan_service: str) -> bool:
    return (
        plan_service == service
        and (t.sla is None or t.sla == sla)
        and _label(t.metric, t.priority) == label
    )


def _open_plans(index: Index) -> list[tuple[Document, ImprovementPlan]]:
    out = []
    for doc in sorted(index.of_kind("ImprovementPlan"), key=lambda d: d.name):
        model = doc.model
        if isinstance(model, ImprovementPlan) and model.spec.status == "open":
            out.append((doc, model))
    return out


def review_plans(report: SlaReport, index: Index) -> PlanReview:
    """The report's flagged objectives against the catalog's open improvement plans."""
    plans = _open_plans(index)
    covered: list[Covered] = []
    missing: list[Improvement] = []
    found: list[Diagnostic] = []
    for imp in report.improvements:
        names = tuple(
            doc.name
            for doc, plan in plans
            if any(
                _names(t, imp.service, imp.sla, imp.objective, plan.spec.service)
                for t in plan.spec.trigger.objectives
            )
        )
        if names:
            covered.append(Covered(imp, names))
            continue
        missing.append(imp)
        found.append(_missing_diag(imp, index))
    closable: list[Closable] = []
    for doc, plan in plans:
        result = _can_close(plan, report)
        if result is None:
            continue
        objectives, periods = result
        closable.append(Closable(doc.name, plan.spec.service, objectives, periods))
        found.append(
            doc.diag(
                "SPO826",
                f"improvement plan {doc.name} can close: {', '.join(objectives)} met "
                f"{'its' if len(objectives) == 1 else 'their'} target in "
                f"{len(periods)} consecutive period{'s' if len(periods) != 1 else ''} "
                f"({', '.join(periods)})",
                ["metadata", "name"],
                severity="info",
                hint="set status: closed with closure: {date, reason}",
            )
        )
    return PlanReview(report.consecutive, covered, missing, closable, found)


def _missing_diag(imp: Improvement, index: Index) -> Diagnostic:
    what = "missed its target" if imp.reason == "breached" else "worsened"
    message = (
        f"{imp.service} has no open ImprovementPlan for {imp.sla} {imp.objective}, which "
        f"{what} in {len(imp.periods)} consecutive periods ({', '.join(imp.periods)})"
    )
    hint = (
        f"add an ImprovementPlan for service {imp.service} whose spec.trigger.objectives "
        f"names sla {imp.sla}, metric {imp.objective.split(' ')[0]}"
        + (f", priority {imp.objective.split(' ')[1]}" if " " in imp.objective else "")
    )
    sla = index.get("ServiceLevelAgreement", imp.sla)
    if sla is None:
        return Diagnostic("error", "SPO825", message, hint=hint)
    parts: list[str | int] = ["spec", "objectives"]
    for i, o in enumerate(sla.data["spec"]["objectives"]):
        if _label(o["metric"], o.get("priority")) == imp.objective:
            parts.append(i)
            break
    return sla.diag("SPO825", message, parts, hint=hint)


def _can_close(
    plan: ImprovementPlan, report: SlaReport
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    triggers = plan.spec.trigger.objectives
    if not triggers:
        return None
    n = report.consecutive
    objectives: list[str] = []
    periods: tuple[str, ...] = ()
    for t in triggers:
        matched: list[Series] = [
            s
            for s in report.series
            if _names(t, s.objective.service, s.objective.sla, s.objective.label, plan.spec.service)
        ]
        if not matched:
            return None  # not measured: nothing says it is back on target
        for s in matched:
            tail = _consecutive_tail(s.points, n)
            if tail is None or not all(p.attained for p in tail):
                return None
            objectives.append(f"{s.objective.sla} {s.objective.label}")
            periods = tuple(p.period.label for p in tail)
    return tuple(objectives), periods


def review_json(review: PlanReview) -> dict[str, object]:
    """The review as data, for the json report's ``plan_review``."""
    return {
        "ok": review.ok,
        "covered": [
            {
                "service": c.improvement.service,
                "sla": c.improvement.sla,
                "objective": c.improvement.objective,
                "plans": list(c.plans),
            }
            for c in review.covered
        ],
        "missing": [
            {
                "service": i.service,
                "sla": i.sla,
                "objective": i.objective,
                "periods": list(i.periods),
            }
            for i in review.missing
        ],
        "can_close": [
            {
                "plan": k.plan,
                "service": k.service,
                "objectives": list(k.objectives),
                "periods": list(k.periods),
            }
            for k in review.closable
        ],
    }


def render_review(review: PlanReview) -> str:
    """The review as text: flagged objectives with and without a plan, plans that can close."""
    lines = ["Improvement plans:"]
    for c in review.covered:
        i = c.improvement
        lines.append(f"  {i.service}: {i.sla} {i.objective} is covered by {', '.join(c.plans)}")
    for i in review.missing:
        lines.append(f"  {i.service}: {i.sla} {i.objective} has NO open improvement plan")
    for k in review.closable:
        lines.append(
            f"  {k.plan} ({k.service}) can close: {', '.join(k.objectives)} on target in "
            f"{', '.join(k.periods)}"
        )
    if len(lines) == 1:
        lines.append("  none needed, none open")
    return "\n".join(lines) + "\n"
