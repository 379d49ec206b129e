"""The metric registry: what every service-level metric is measured in, and which way is better.

One entry per metric: its unit family (the units it may be stated in, each with its factor to
the family's canonical unit), its direction (whether a higher value is better), the range its
values live in, and how monthly values roll up into a quarter's (:func:`rollup_of`). Everything
that judges a target or a measured value reads it from here: the document checks (units,
ranges, directions), versioning (a target loosened, compared in the canonical unit), policies
(``target_in(o, 'h')``), the SLA report, the cmdb provider's schema and the catalog site.
Adding a metric is one entry in :data:`METRICS`.

A metric that is not in the registry (a custom one) may use any unit and must say its direction
in the objective (``direction: higher-is-better`` or ``lower-is-better``); its range is its
unit family's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Direction = Literal["higher-is-better", "lower-is-better"]
DIRECTIONS: tuple[Direction, ...] = ("higher-is-better", "lower-is-better")
# How the months of a quarter make the quarter's value (sla/rollup.py applies it):
# "service-minutes": weighted by each month's minutes of service hours, so the quarter's downtime
# is the months' downtime summed (a share of time: availability);
# "mean": the mean of the monthly values, judged against the same target. A metrics file holds
# no incident counts, so a mean time (MTTR) is averaged per month, unweighted; a count is the
# quarter's monthly average, against the monthly target.
Rollup = Literal["service-minutes", "mean"]


@dataclass(frozen=True)
class UnitFamily:
    """Units that measure the same thing, each with its value in the canonical unit."""

    name: str
    canonical: str
    factors: Mapping[str, float]  # unit -> one unit expressed in the canonical unit
    minimum: float | None  # values below are out of range
    maximum: float | None
    positive_target: bool = False  # a target must be above the minimum (a time of 0 is no target)

    def to_canonical(self, value: float, unit: str) -> float:
        return value * self.factors[unit]

    def convert(self, value: float, unit: str, to: str) -> float:
        """``value`` in ``unit`` expressed in ``to`` (both of this family)."""
        return value * self.factors[unit] / self.factors[to]


PERCENTAGE = UnitFamily("percentage", "percent", {"percent": 1.0}, 0.0, 100.0)
DURATION = UnitFamily(
    "duration",
    "s",
    {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0},
    0.0,
    None,
    positive_target=True,
)
COUNT = UnitFamily("count", "count", {"count": 1.0}, 0.0, None)
SCORE = UnitFamily("score", "points", {"points": 1.0}, None, None)
FAMILIES: tuple[UnitFamily, ...] = (PERCENTAGE, DURATION, COUNT, SCORE)

# Every unit an objective may be stated in, in a stable order (the schemas' enum).
UNITS: tuple[str, ...] = tuple(u for f in FAMILIES for u in f.factors)
_FAMILY_OF: dict[str, UnitFamily] = {u: f for f in FAMILIES for u in f.factors}


@dataclass(frozen=True)
class Metric:
    """A built-in metric: its unit family, its direction, and its range when narrower than the
    family's (NPS lies in -100..100)."""

    name: str
    family: UnitFamily
    direction: Direction
    description: str
    minimum: float | None = None
    maximum: float | None = None
    rollup: Rollup = "mean"

    @property
    def range(self) -> tuple[float | None, float | None]:
        lo = self.minimum if self.minimum is not None else self.family.minimum
        hi = self.maximum if self.maximum is not None else self.family.maximum
        return lo, hi


_HIGHER: Direction = "higher-is-better"
_LOWER: Direction = "lower-is-better"

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "availability",
            PERCENTAGE,
            _HIGHER,
            "share of the agreed service hours the service was available",
            rollup="service-minutes",
        ),
        Metric(
            "first-contact-resolution",
            PERCENTAGE,
            _HIGHER,
            "share of contacts resolved at the first contact with the service desk",
        ),
        Metric(
            "customer-satisfaction",
            PERCENTAGE,
            _HIGHER,
            "CSAT: share of surveyed customers satisfied or very satisfied",
        ),
        Metric(
            "change-success-rate",
            PERCENTAGE,
            _HIGHER,
            "share of changes implemented without an incident or a rollback",
        ),
        Metric(
            "nps",
            SCORE,
            _HIGHER,
            "net promoter score: promoters minus detractors, in points",
            minimum=-100.0,
            maximum=100.0,
        ),
        Metric("mttr", DURATION, _LOWER, "mean time to restore service after an incident"),
        Metric("mtrs", DURATION, _LOWER, "mean time to restore service (ITIL 4's name for MTTR)"),
        Metric("mtbf", DURATION, _HIGHER, "mean time between failures of the service"),
        Metric("response-time", DURATION, _LOWER, "time the service takes to answer a request"),
        Metric("resolution-time", DURATION, _LOWER, "time until the work is finished"),
        Metric("time-to-fulfil", DURATION, _LOWER, "time from a service request to fulfilment"),
        Metric("incidents", COUNT, _LOWER, "number of incidents in the measurement period"),
    )
}


def metric(name: str) -> Metric | None:
    """The built-in metric of that name, or None for a custom metric."""
    return METRICS.get(name)


def family_of(unit: str) -> UnitFamily | None:
    return _FAMILY_OF.get(unit)


def direction_of(name: str, declared: str | None) -> Direction | None:
    """A built-in metric's own direction; a custom metric's declared one (None when missing)."""
    known = METRICS.get(name)
    if known is not None:
        return known.direction
    if declared in DIRECTIONS:
        return declared
    return None


def rollup_of(name: str, unit: str) -> Rollup:
    """How monthly values of metric ``name`` stated in ``unit`` roll up into a quarter's (see
    :data:`Rollup`): a built-in metric's rule in its own unit family, else (a custom metric, or
    a unit of another family) the mean."""
    known = METRICS.get(name)
    if known is not None and known.family is _FAMILY_OF.get(unit):
        return known.rollup
    return "mean"


def canonical(value: float, unit: str) -> tuple[float, str]:
    """``value`` in ``unit`` as (value, unit) in its family's canonical unit."""
    family = _FAMILY_OF[unit]
    return family.to_canonical(value, unit), family.canonical


def value_range(name: str, unit: str) -> tuple[float | None, float | None]:
    """The range a value of metric ``name`` stated in ``unit`` lies in (None: unbounded)."""
    known = METRICS.get(name)
    if known is not None and known.family is _FAMILY_OF.get(unit):
        return known.range
    family = _FAMILY_OF.get(unit)
    return (family.minimum, family.maximum) if family else (None, None)


def out_of_range(name: str, unit: str, value: float, *, target: bool = False) -> str | None:
    """Why ``value`` is not a possible value of metric ``name`` in ``unit`` (None: it is).

    ``target``: judge it as a target, which for times must be positive."""
    lo, hi = value_range(name, unit)
    family = _FAMILY_OF.get(unit)
    strict = target and family is not None and family.positive_target
    if lo is not None and (value <= lo if strict else value < lo):
        if hi is not None:
            return f"outside {lo:g} to {hi:g}"
        return "not positive" if strict else "negative"
    if hi is not None and value > hi:
        return f"outside {lo:g} to {hi:g}" if lo is not None else f"above {hi:g}"
    return None


def describe_range(name: str, unit: str) -> str:
    """The range as people write it: '0 to 100', 'not negative', 'any'."""
    lo, hi = value_range(name, unit)
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    if lo == 0:
        return "not negative"
    return "any value"
