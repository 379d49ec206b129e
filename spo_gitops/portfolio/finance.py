"""Business case arithmetic: TCO, ROI, NPV and payback. Pure functions over plain numbers.

For a case with a one-off ``investment`` at the start (year 0), a yearly running ``cost`` and a
yearly ``benefit`` over ``years`` years (each year's money counted at its end):

- TCO = investment + cost * years
- ROI = (benefit * years - TCO) / TCO
- NPV at a yearly discount rate r = -investment + sum over t = 1..years of
  (benefit - cost) / (1 + r)^t
- payback = investment / (benefit - cost) years, when the yearly net is positive and the
  investment is earned back within the horizon; otherwise there is none (None)

These are the one home of the formulas: policies (``tco``, ``roi``), reports and the site
import them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def tco(investment: float, cost: float, years: float) -> float:
    """Total cost of ownership over the horizon."""
    return investment + cost * years


def roi(investment: float, cost: float, benefit: float, years: float) -> float:
    """Return on investment over the horizon, as a fraction (0.25 is 25 %); 0 when TCO is 0."""
    total = tco(investment, cost, years)
    return (benefit * years - total) / total if total else 0.0


def npv(investment: float, cost: float, benefit: float, years: int, rate: float) -> float:
    """Net present value at the yearly discount ``rate`` (0.08 is 8 %)."""
    net = benefit - cost
    return -investment + sum(net / (1 + rate) ** t for t in range(1, years + 1))


def payback_years(investment: float, cost: float, benefit: float, years: float) -> float | None:
    """Years until the yearly net benefit has earned back the investment (undiscounted), or
    None when it never does within the horizon."""
    net = benefit - cost
    if investment == 0:
        return 0.0
    if net <= 0:
        return None
    out = investment / net
    return out if out <= years else None


@dataclass(frozen=True)
class Figures:
    """The figures of one business case."""

    currency: str
    investment: float
    annual_cost: float
    annual_benefit: float
    years: int
    tco: float
    roi: float
    npv: float
    payback: float | None


def case_figures(case: Mapping[str, Any], rate: float) -> Figures | None:
    """The figures of a PortfolioEntry's ``spec.businessCase`` (camelCase keys as in YAML), or
    None when it lacks a field."""
    try:
        currency = str(case["currency"])
        inv, cost = float(case["investment"]), float(case["annualCost"])
        benefit, years = float(case["annualBenefit"]), int(case["horizonYears"])
    except (KeyError, TypeError, ValueError):
        return None
    return Figures(
        currency,
        inv,
        cost,
        benefit,
        years,
        tco(inv, cost, years),
        roi(inv, cost, benefit, years),
        npv(inv, cost, benefit, years, rate),
        payback_years(inv, cost, benefit, years),
    )
