"""The roadmap: planned dates per stage, slipped plans, and when each stage was reached.

A PortfolioEntry may plan when it reaches later stages (``spec.plan``): a day (2027-03-15), a
month (2027-03) or a quarter (2027-Q3), due at the end of that period. A planned stage whose due
date has passed (on the validation date) while the entry has not reached it has slipped
(SPO1001, a warning saying by how long); planned dates that go back in time along the stage order
are SPO1002.

When a stage was reached comes from the entry's approval record for it, or else from the git
history of the entry's file (the first commit at which the entry stood in that stage). The lead
time of a stage is the days from the previous dated stage to it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Scope
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models.common import STAGES

_PLANNED = re.compile(r"^(\d{4})-(?:Q([1-4])|(\d{2})(?:-(\d{2}))?)$")
Quarter = tuple[int, int]  # (year, 1..4)


def due(text: str) -> dt.date:
    """The last day of a planned period: 2027-03 -> 2027-03-31, 2027-Q3 -> 2027-09-30."""
    m = _PLANNED.match(text)
    if m is None:
        raise ValueError(f"not a planned date: {text!r}")
    year = int(m.group(1))
    if m.group(2):
        month = int(m.group(2)) * 3
    else:
        month = int(m.group(3))
        if m.group(4):
            return dt.date(year, month, int(m.group(4)))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def planned_dates(spec: Mapping[str, Any]) -> dict[str, dt.date]:
    """Stage -> due date of a PortfolioEntry spec's plan, in stage order; a planned day that is
    not in the calendar (2027-02-30: SPO407 from check_roadmap) is left out."""
    plan = spec.get("plan") or {}
    out = {}
    for stage in STAGES:
        if stage in plan:
            try:
                out[stage] = due(str(plan[stage]))
            except ValueError:
                continue
    return out


def quarter_of(day: dt.date) -> Quarter:
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(q: Quarter) -> str:
    return f"{q[0]}-Q{q[1]}"


def next_quarter(q: Quarter) -> Quarter:
    return (q[0] + 1, 1) if q[1] == 4 else (q[0], q[1] + 1)


def quarters(start: Quarter, count: int) -> list[Quarter]:
    out = [start]
    while len(out) < count:
        out.append(next_quarter(out[-1]))
    return out


def _spec(doc: Document) -> dict[str, Any]:
    spec = doc.data.get("spec")
    return spec if isinstance(spec, dict) else {}


def reached(current: str, stage: str) -> bool:
    """Whether an entry in ``current`` has reached ``stage`` (retired reaches everything)."""
    return STAGES.index(current) >= STAGES.index(stage)


@dataclass(frozen=True)
class Slip:
    service: str
    stage: str
    planned: str
    due: dt.date
    days: int  # days past due on the validation date


def slips(entry: Document, today: dt.date) -> list[Slip]:
    """The planned stages of ``entry`` that are past due and not reached."""
    spec = _spec(entry)
    current = str(spec.get("stage"))
    out = []
    plan = spec.get("plan") or {}
    for stage, deadline in planned_dates(spec).items():
        if deadline < today and not reached(current, stage):
            days = (today - deadline).days
            out.append(Slip(str(spec.get("service")), stage, str(plan[stage]), deadline, days))
    return out


def check_roadmap(index: Index, today: dt.date, scope: Scope | None = None) -> Iterator[Diagnostic]:
    for entry in index.subjects("PortfolioEntry", scope):
        if not entry.valid:
            continue
        spec = _spec(entry)
        for s in slips(entry, today):
            yield entry.diag(
                "SPO1001",
                f"{s.service} was planned to be {s.stage} by {s.planned} (due {s.due}) and has "
                f"slipped by {s.days} day(s): it is still {spec['stage']}",
                ["spec", "plan", s.stage],
                severity="warning",
                hint="move the stage on, or re-plan it with the board's agreement",
            )
        plan = spec.get("plan") or {}
        dates = planned_dates(spec)
        for stage in plan:
            if stage not in dates:
                yield entry.diag(
                    "SPO407",
                    f"planned date {plan[stage]!r} of {stage} is not a calendar day",
                    ["spec", "plan", stage],
                    hint="write a real day (YYYY-MM-DD), a month (YYYY-MM) or a quarter (YYYY-Qn)",
                )
        for before, after in itertools.pairwise(dates):
            if dates[after] < dates[before]:
                yield entry.diag(
                    "SPO1002",
                    f"{after} is planned for {plan[after]}, before {before} ({plan[before]})",
                    ["spec", "plan", after],
                    severity="warning",
                    hint="stages are reached in order: plan the later stage on or after the "
                    "earlier one",
                )


# --- when stages were reached ------------------------------------------------------------------

# service -> [(commit date, stage at that commit)], oldest first: the entry file's git history
StageHistory = Mapping[str, Sequence[tuple[dt.date, str]]]


def stage_dates(
    entry: Mapping[str, Any], history: Sequence[tuple[dt.date, str]] = ()
) -> dict[str, tuple[dt.date, str]]:
    """Stage -> (date reached, source: 'approval' or 'git') for the stages the entry reached.
    An approval record wins; else the first commit at which the entry stood in the stage (a
    stage skipped between two commits has no date)."""
    spec = entry.get("spec") or {}
    current = str(spec.get("stage"))
    out: dict[str, tuple[dt.date, str]] = {}
    for approval in spec.get("approvals") or []:
        stage, when = approval.get("stage"), approval.get("date")
        if stage in STAGES and reached(current, stage) and when:
            day = when if isinstance(when, dt.date) else dt.date.fromisoformat(str(when))
            if stage not in out or day < out[stage][0]:
                out[stage] = (day, "approval")
    for day, stage in history:
        if stage in STAGES and reached(current, stage) and stage not in out:
            out[stage] = (day, "git")
    return out


def lead_times(dates: Mapping[str, tuple[dt.date, str]]) -> dict[str, int]:
    """Stage -> days from the previous dated stage to it."""
    ordered = sorted(dates, key=STAGES.index)
    return {
        after: (dates[after][0] - dates[before][0]).days
        for before, after in itertools.pairwise(ordered)
    }
