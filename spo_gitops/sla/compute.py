"""Service level figures: attainment, margin, error budget and trend per objective and period,
and the services that need a service improvement plan.

Pure functions over the catalog's objectives and the measurements matched to them.

- *attained*: the measured value meets the target in the metric's direction (from the metric
  registry, models/metrics.py; a custom metric's declared direction).
- *margin*: how far the value is on the good side of the target, in the objective's unit:
  ``measured - target`` when higher is better, ``target - measured`` when lower is better; a
  breach has a negative margin.
- *error budget* (availability objectives): the minutes of service hours the target allows to be
  down, ``(1 - target/100) * minutes``, against those consumed, ``(1 - measured/100) * minutes``.
- *trend*: against the previous period's measurement: improving, worsening or steady. A change
  counts only beyond the *worsening margin*: a share (spo.yaml ``agreements.worseningMargin``,
  default 5 %) of what the target allows, i.e. the distance from the target to the metric's
  best value (100 - 99.9 = 0.1 points for a 99.9 % availability, 5 h for a 5 h MTTR, the
  target's size when the metric has no best value). MTTR 4.0 -> 4.1 -> 4.2 h against 5 h is
  steady (0.1 h < 5 % of 5 h).
- *improvement plan*: an objective missed in the last N consecutive periods, or worsening in each
  of the last N periods, puts its service on the list (N defaults to 2).
- *per quarter* (``per="quarter"``): the objectives of SLAs measured monthly and reviewed
  quarterly are judged per quarter, rolled up from their months (sla/rollup.py); the rules above
  then apply to the quarters: a quarter's trend is against the previous quarter, and N
  consecutive missed quarters call for a plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models import metrics
from spo_gitops.sla import rollup
from spo_gitops.sla.metrics import Measurement, Objective
from spo_gitops.sla.periods import Period, PeriodError, parse_period, service_minutes

Trend = Literal["improving", "worsening", "steady"]
_EPSILON = 1e-9


@dataclass(frozen=True)
class Budget:
    """Availability error budget of one period, in minutes of service hours."""

    minutes: int  # service minutes in the period
    allowed: float
    consumed: float

    @property
    def left(self) -> float:
        return self.allowed - self.consumed

    @property
    def left_percent(self) -> float:
        """Share of the allowed downtime not yet used (negative when overspent)."""
        return 100.0 * self.left / self.allowed if self.allowed else 0.0


@dataclass(frozen=True)
class Point:
    """An objective in one period."""

    period: Period
    measured: float
    attained: bool
    margin: float
    trend: Trend | None
    budget: Budget | None
    file: str
    line: int
    rolled_up: tuple[Point, ...] = ()  # a quarter's: the months it was rolled up from
    expected_months: int = 0  # a quarter's: its months inside the SLA's validity

    @property
    def partial(self) -> bool:
        """A quarter rolled up from fewer months than it has (sla/rollup.py)."""
        return bool(self.rolled_up) and len(self.rolled_up) < self.expected_months

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the value was read: the row, or the rows of the months rolled up."""
        points = self.rolled_up or (self,)
        return tuple(f"{p.file}:{p.line}" for p in points)


@dataclass(frozen=True)
class Series:
    """An objective over the periods measured, oldest first."""

    objective: Objective
    points: tuple[Point, ...]

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True)
class Improvement:
    """Why a service needs a service improvement plan."""

    service: str
    sla: str
    objective: str
    reason: Literal["breached", "worsening"]
    periods: tuple[str, ...]

    @property
    def message(self) -> str:
        what = "missed its target" if self.reason == "breached" else "worsened"
        span = ", ".join(self.periods)
        n = len(self.periods)
        periods = "1 period" if n == 1 else f"{n} consecutive periods"
        return f"{self.sla}: {self.objective} {what} in {periods} ({span})"


@dataclass
class SlaReport:
    period: str | None  # the report period (the latest measured when none was asked for)
    consecutive: int
    series: list[Series]
    improvements: list[Improvement]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    per: rollup.Per = "measurement"  # per quarter: monthly SLAs reviewed quarterly rolled up

    @property
    def breaches(self) -> list[tuple[Objective, Point]]:
        """Objectives breached in their latest period."""
        return [
            (s.objective, s.latest)
            for s in self.series
            if s.latest is not None and not s.latest.attained
        ]

    @property
    def services_needing_plan(self) -> list[str]:
        return sorted({i.service for i in self.improvements})


def attained(objective: Objective, value: float) -> bool:
    if objective.direction == "higher-is-better":
        return value >= objective.target - _EPSILON
    return value <= objective.target + _EPSILON


def margin(objective: Objective, value: float) -> float:
    diff = value - objective.target
    return diff if objective.direction == "higher-is-better" else -diff


def budget(
    objective: Objective, period: Period, value: float, minutes: int | None = None
) -> Budget | None:
    """The error budget of ``value`` over ``period`` (over ``minutes`` of service when given:
    the months of a quarter measured)."""
    if not objective.is_availability:
        return None
    if minutes is None:
        minutes = service_minutes(period, objective.hours, objective.timezone, objective.holidays)
    allowed = (1 - objective.target / 100) * minutes
    consumed = (1 - value / 100) * minutes
    return Budget(minutes, allowed, consumed)


DEFAULT_WORSENING_MARGIN = 0.05


def tolerance(objective: Objective, worsening_margin: float = DEFAULT_WORSENING_MARGIN) -> float:
    """The smallest change of the measured value that counts as a trend (see the module)."""
    lo, hi = metrics.value_range(objective.metric, objective.unit)
    best = hi if objective.direction == "higher-is-better" else lo
    allowed = abs(objective.target - best) if best is not None else abs(objective.target)
    return max(worsening_margin * allowed, _EPSILON)


def trend(
    objective: Objective,
    previous: float | None,
    value: float,
    worsening_margin: float = DEFAULT_WORSENING_MARGIN,
) -> Trend | None:
    if previous is None:
        return None
    if abs(value - previous) <= tolerance(objective, worsening_margin):
        return "steady"
    better = value > previous if objective.direction == "higher-is-better" else value < previous
    return "improving" if better else "worsening"


def _until(label: str | None) -> Period | None:
    if label is None:
        return None
    for kind in ("monthly", "quarterly", "yearly"):
        try:
            return parse_period(label, kind)
        except PeriodError:
            continue
    raise PeriodError(f"period {label!r} is not written as YYYY-MM, YYYY-Qn or YYYY")


def build_report(
    objectives: Iterable[Objective],
    measurements: Iterable[Measurement],
    *,
    period: str | None = None,
    consecutive: int = 2,
    diagnostics: Iterable[Diagnostic] = (),
    worsening_margin: float = DEFAULT_WORSENING_MARGIN,
    per: rollup.Per = "measurement",
) -> SlaReport:
    """The report up to ``period`` (default: the latest period measured), ``per`` measurement
    period or per quarter (sla/rollup.py).

    Raises PeriodError when ``period`` is not a period label.
    """
    if consecutive < 1:
        raise ValueError("consecutive must be at least 1")
    until = _until(period)
    by_objective: dict[Objective, dict[Period, Measurement]] = {}
    for m in measurements:
        if until is None or m.period.start < until.end:
            by_objective.setdefault(m.objective, {})[m.period] = m
    if until is None and by_objective:
        latest = max((p for ms in by_objective.values() for p in ms), key=lambda p: p.end)
        period = latest.label
    series = []
    for objective in objectives:
        points = _points(objective, by_objective.get(objective, {}), worsening_margin)
        if rollup.applies(objective, per):
            points = _quarters(objective, points, worsening_margin)
        if points:
            series.append(Series(objective, tuple(points)))
    improvements = [i for s in series for i in _improvements(s, consecutive)]
    return SlaReport(period, consecutive, series, improvements, list(diagnostics), per)


def _points(
    objective: Objective, measured: dict[Period, Measurement], worsening_margin: float
) -> list[Point]:
    points = []
    for p in sorted(measured):
        m = measured[p]
        prev = measured.get(p.previous())
        points.append(
            Point(
                p,
                m.value,
                attained(objective, m.value),
                margin(objective, m.value),
                trend(objective, prev.value if prev else None, m.value, worsening_margin),
                budget(objective, p, m.value),
                m.file,
                m.line,
            )
        )
    return points


def _quarters(objective: Objective, months: list[Point], worsening_margin: float) -> list[Point]:
    """The months' points rolled up into quarters (sla/rollup.py), judged as measured ones."""
    points: list[Point] = []
    values: dict[Period, float] = {}
    for q in rollup.quarters(objective, months):
        first = q.months[0]
        points.append(
            Point(
                q.period,
                q.value,
                attained(objective, q.value),
                margin(objective, q.value),
                trend(objective, values.get(q.period.previous()), q.value, worsening_margin),
                budget(objective, q.period, q.value, q.minutes),
                first.file,
                first.line,
                q.months,
                q.expected,
            )
        )
        values[q.period] = q.value
    return points


def _consecutive_tail(points: tuple[Point, ...], n: int) -> tuple[Point, ...] | None:
    tail = points[-n:]
    if len(tail) < n:
        return None
    for a, b in pairwise(tail):
        if b.period.previous() != a.period:
            return None
    return tail


def _improvements(s: Series, n: int) -> list[Improvement]:
    o = s.objective
    tail = _consecutive_tail(s.points, n)
    if tail is None:
        return []
    labels = tuple(p.period.label for p in tail)
    if all(not p.attained for p in tail):
        return [Improvement(o.service, o.sla, o.label, "breached", labels)]
    if all(p.trend == "worsening" for p in tail):
        return [Improvement(o.service, o.sla, o.label, "worsening", labels)]
    return []
