"""Monthly measurements rolled up into quarters, for the SLAs measured monthly and reviewed
quarterly.

*Where*: when the report is asked per quarter (``spo sla report --per quarter``, the default
when ``--period`` names a quarter; ``spo review pack --period YYYY-Qn``), every objective of an
SLA whose ``window.period`` is monthly and whose ``reviews.cadence`` is quarterly is reported per
quarter; every other objective stays in its own measurement period. Rows are still written in
the SLA's own period: a quarterly row for a monthly SLA is refused (SPO806).

*How* a quarter's value is made from its months is the metric registry's rule
(models/metrics.py, ``rollup_of``):

- ``service-minutes`` (availability in percent): each month weighs by its minutes of service
  hours, ``100 * (1 - sum(down_i) / sum(minutes_i))`` with ``down_i = (1 - v_i/100) * minutes_i``,
  so the quarter's error budget is the months' budgets summed;
- ``mean`` (every other metric): the mean of the monthly values, judged against the same target.
  The metrics file has no incident counts, so MTTR is averaged per month, unweighted.

The quarter is judged, trended (against the previous quarter, with the same worsening margin)
and counted towards improvement plans (missed or worsening in N consecutive quarters) as a
measured period is, by sla/compute.py.

*Partial quarters*: a month not measured (not over yet, or missing from the data) is left out:
the quarter is rolled up from the months there are, its error budget counts their minutes only,
and it is marked partial (``2 of 3 months``), and judged like a whole quarter: the months
measured are the evidence there is. Months outside the SLA's validity are not expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from spo_gitops.models import metrics
from spo_gitops.sla.metrics import Objective
from spo_gitops.sla.periods import Period, kind_of, months_of, quarter_of, service_minutes

if TYPE_CHECKING:
    from spo_gitops.sla.compute import Point

Per = Literal["measurement", "quarter"]
PER: tuple[Per, ...] = ("measurement", "quarter")
RULE = (
    "availability weighted by each month's service minutes, so the quarter's error budget is the "
    "months' budgets summed; other metrics the mean of the monthly values"
)


def default_per(period: str | None) -> Per:
    """Per quarter when the report is asked up to a quarter (``2026-Q2``), else per measurement
    period."""
    return "quarter" if period is not None and kind_of(period) == "quarterly" else "measurement"


def applies(objective: Objective, per: Per) -> bool:
    """Whether ``objective`` is reported in quarters rolled up from its months."""
    return (
        per == "quarter"
        and objective.period_kind == "monthly"
        and objective.review_cadence == "quarterly"
    )


@dataclass(frozen=True)
class Quarter:
    """A quarter's value rolled up from the months measured in it."""

    period: Period
    value: float
    minutes: int | None  # service minutes of the months measured (service-minutes rule)
    months: tuple[Point, ...]  # the months it was rolled up from, oldest first
    expected: int  # the quarter's months inside the SLA's validity


def expected_months(objective: Objective, quarter: Period) -> int:
    """Months of ``quarter`` inside the SLA's validity: those a whole quarter has measured."""
    return sum(
        1
        for m in months_of(quarter)
        if m.end > objective.valid_from and m.start <= objective.valid_to
    )


def quarters(objective: Objective, months: Sequence[Point]) -> list[Quarter]:
    """The quarters ``months`` (an objective's monthly points) roll up into, oldest first."""
    grouped: dict[Period, list[Point]] = {}
    for p in sorted(months, key=lambda p: p.period):
        grouped.setdefault(quarter_of(p.period), []).append(p)
    weighted = metrics.rollup_of(objective.metric, objective.unit) == "service-minutes"
    out = []
    for quarter, points in sorted(grouped.items()):
        minutes: int | None = None
        value = sum(p.measured for p in points) / len(points)
        if weighted:
            each = [
                service_minutes(p.period, objective.hours, objective.timezone, objective.holidays)
                for p in points
            ]
            minutes = sum(each)
            if minutes:  # no service hours at all: nothing to weigh by, the mean stands
                down = sum((1 - p.measured / 100) * m for p, m in zip(points, each, strict=True))
                value = 100 * (1 - down / minutes)
        out.append(
            Quarter(quarter, value, minutes, tuple(points), expected_months(objective, quarter))
        )
    return out
