"""ImprovementPlan: a service improvement plan, from what triggered it until it is closed.

A plan names its service, what triggered it (SLA objectives that missed their targets, with the
periods; customer feedback; a risk), the root cause, the actions with an owner and a due date
each, and the dates it is reviewed on. It stays ``open`` until its metrics are back on target;
closing it records the date and the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from spo_gitops.models.common import Metadata, Model, Name

ActionStatus = Literal["planned", "in-progress", "done", "cancelled"]
ACTION_OPEN: frozenset[str] = frozenset({"planned", "in-progress"})
Priority = Literal["P1", "P2", "P3", "P4"]


class TriggerObjective(Model):
    sla: Name | None = Field(
        default=None,
        description="The ServiceLevelAgreement whose objective missed (default: every SLA of the "
        "service with that metric and priority).",
    )
    metric: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="The objective's metric.")
    priority: Priority | None = Field(
        default=None, description="The objective's incident priority, if it has one."
    )
    periods: list[str] = Field(
        default_factory=list,
        description="Periods the objective missed or worsened in (2026-05, 2026-Q1, 2026).",
    )


class Trigger(Model):
    objectives: list[TriggerObjective] = Field(
        default_factory=list, description="SLA objectives that missed their target."
    )
    feedback: list[str] = Field(default_factory=list, description="Customer feedback received.")
    risk: Name | None = Field(default=None, description="The Risk the plan treats.")


class Action(Model):
    title: str = Field(min_length=1, description="What is done.")
    owner: Name = Field(description="The Party responsible for the action.")
    due: dt.date = Field(description="When it is due (YYYY-MM-DD).")
    status: ActionStatus = Field(default="planned", description="Where the action stands.")
    metric: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="The metric the action is meant to move.",
    )
    priority: Priority | None = Field(
        default=None, description="The incident priority of that metric, if any."
    )
    completed: dt.date | None = Field(default=None, description="When it was done.")


class Closure(Model):
    date: dt.date = Field(description="When the plan was closed (YYYY-MM-DD).")
    reason: str = Field(min_length=1, description="Why: metrics back on target, superseded, ...")


class ImprovementPlanSpec(Model):
    service: Name = Field(description="The ServiceModel the plan improves.")
    status: Literal["open", "closed"] = Field(
        default="open", description="open until the metrics are back on target; then closed."
    )
    opened: dt.date = Field(description="When the plan was opened (YYYY-MM-DD).")
    trigger: Trigger = Field(description="What called for the plan.")
    root_cause: str | None = Field(default=None, description="The root cause found.")
    actions: list[Action] = Field(min_length=1, description="What is done, by whom, by when.")
    reviews: list[dt.date] = Field(
        default_factory=list, description="Dates the plan is reviewed on, in order."
    )
    closure: Closure | None = Field(
        default=None, description="When and why the plan was closed (required when closed)."
    )


class ImprovementPlan(Model):
    """A service improvement plan: why, root cause, actions with owners and due dates."""

    api_version: Literal["spo/v1"] = Field(
        alias="apiVersion", description="Version of the document format: spo/v1."
    )
    kind: Literal["ImprovementPlan"]
    metadata: Metadata
    spec: ImprovementPlanSpec
