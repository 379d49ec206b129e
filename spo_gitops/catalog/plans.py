"""Checks of ImprovementPlan documents: dates in order, closure, triggers that exist, overdue
actions.

``plan_checks`` looks at one plan on its own; ``check_plans`` runs it on every plan of the
catalog and looks at plans against the rest of the catalog and the calendar: each trigger
objective must be an objective of an SLA of the plan's service, and an action of an open plan
that is past its due date and not done is a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Scope
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models.improvement import ACTION_OPEN, ImprovementPlan


def plan_checks(doc: Document, plan: ImprovementPlan) -> Iterator[Diagnostic]:
    spec = plan.spec
    opened = spec.opened
    for i, action in enumerate(spec.actions):
        if action.due < opened:
            yield doc.diag(
                "SPO820",
                f"action {action.title!r} is due {action.due}, before the plan opened ({opened})",
                ["spec", "actions", i, "due"],
                hint="an action falls due after the plan is opened",
            )
        if action.completed is not None and action.completed < opened:
            yield doc.diag(
                "SPO820",
                f"action {action.title!r} was completed {action.completed}, before the plan "
                f"opened ({opened})",
                ["spec", "actions", i, "completed"],
            )
    previous = opened
    for i, review in enumerate(spec.reviews):
        if review < previous:
            what = "the plan opened" if i == 0 else "the review before it"
            yield doc.diag(
                "SPO820",
                f"review on {review} comes before {what} ({previous})",
                ["spec", "reviews", i],
                hint="list review dates in order, from the day the plan opened",
            )
        previous = max(previous, review)
    if spec.status == "closed" and spec.closure is None:
        yield doc.diag(
            "SPO821",
            "a closed plan needs its closure: the date and the reason",
            ["spec", "status"],
            hint="add closure: {date: YYYY-MM-DD, reason: ...}",
        )
    elif spec.status == "open" and spec.closure is not None:
        yield doc.diag(
            "SPO821",
            "an open plan has a closure",
            ["spec", "closure"],
            hint="set status: closed, or remove the closure",
        )
    if spec.closure is not None and spec.closure.date < opened:
        yield doc.diag(
            "SPO820",
            f"the plan closed {spec.closure.date}, before it opened ({opened})",
            ["spec", "closure", "date"],
        )
    trigger = spec.trigger
    if not trigger.objectives and not trigger.feedback and trigger.risk is None:
        yield doc.diag(
            "SPO822",
            "the plan says nothing about what triggered it",
            ["spec", "trigger"],
            hint="name the objectives that missed, the customer feedback or the risk",
        )


def check_plans(
    index: Index, today: dt.date | None = None, scope: Scope | None = None
) -> Iterator[Diagnostic]:
    """Plans (of ``scope``, None: all) against the catalog (trigger objectives) and ``today``
    (overdue actions)."""
    day = today or dt.date.today()
    for doc in index.subjects("ImprovementPlan", scope):
        plan = doc.model
        if not isinstance(plan, ImprovementPlan):
            continue
        yield from plan_checks(doc, plan)
        yield from _triggers(doc, plan, index)
        if plan.spec.status != "open":
            continue
        for i, action in enumerate(plan.spec.actions):
            if action.status in ACTION_OPEN and action.due < day:
                late = (day - action.due).days
                yield doc.diag(
                    "SPO824",
                    f"action {action.title!r} of {action.owner} was due {action.due} "
                    f"({late} day{'s' if late != 1 else ''} ago) and is {action.status}",
                    ["spec", "actions", i, "due"],
                    severity="warning",
                    hint="finish it (status: done), or agree a new due date",
                )


def _triggers(doc: Document, plan: ImprovementPlan, index: Index) -> Iterator[Diagnostic]:
    service = plan.spec.service
    slas = index.slas_of(service)
    for i, t in enumerate(plan.spec.trigger.objectives):
        where: list[str | int] = ["spec", "trigger", "objectives", i]
        label = t.metric + (f" {t.priority}" if t.priority else "")
        if t.sla is not None:
            sla = index.get("ServiceLevelAgreement", t.sla)
            if sla is None or not sla.valid:
                continue  # an unresolved reference: reported by the reference checks
            if sla.data["spec"]["service"] != service:
                yield doc.diag(
                    "SPO823",
                    f"SLA {t.sla} covers {sla.data['spec']['service']}, not {service}",
                    [*where, "sla"],
                    hint="a plan's triggers are objectives of its own service's SLAs",
                )
                continue
            candidates = [sla]
        else:
            candidates = slas
        if not any(_has_objective(s, t.metric, t.priority) for s in candidates):
            agreed = sorted(
                {
                    o["metric"] + (f" {o['priority']}" if o.get("priority") else "")
                    for s in candidates
                    for o in s.data["spec"]["objectives"]
                }
            )
            where_text = f"SLA {t.sla}" if t.sla else f"any SLA of {service}"
            yield doc.diag(
                "SPO823",
                f"{where_text} has no objective {label!r}",
                [*where, "metric"],
                hint=("agreed: " + ", ".join(agreed)) if agreed else "the service has no SLA",
            )


def _has_objective(sla: Document, metric: str, priority: str | None) -> bool:
    return any(
        o["metric"] == metric and o.get("priority") == priority
        for o in sla.data["spec"]["objectives"]
    )
