"""The capacity forecast: per pool and quarter, committed and pipeline demand against capacity.

- Committed demand: what services in a provisioned stage (spo.yaml's reconcile.provisionedStages)
  request from the pool (``spec.resources``), until the quarter of their planned ``retired``
  date, if they plan one (they still draw in that quarter).
- Pipeline demand: what approved services not provisioned yet request (the pipeline stages of
  policy/capacity.py: from approved up to the first provisioned stage; by default approved,
  chartered, designed), from the quarter of their planned go-live on: the earliest planned date
  of a provisioned stage in ``spec.plan`` (transitioning by default, else live). Pipeline
  services without such a date are listed as unscheduled and not counted. Proposals not yet
  approved are not demand.

Each quarter's total is set against the pool's capacity and its high threshold; the first
quarter whose total exceeds the capacity is when the pool overbooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from spo_gitops.catalog.references import Index
from spo_gitops.policy.capacity import pipeline_stages_of
from spo_gitops.portfolio.roadmap import Quarter, planned_dates, quarter_label, quarter_of, quarters

Status = Literal["ok", "near capacity", "overbooked"]


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


@dataclass(frozen=True)
class Demand:
    """One service's request on one pool, and the quarters it counts in."""

    service: str
    stage: str
    quantity: float
    committed: bool  # in a provisioned stage now
    start: Quarter | None  # first quarter it counts in (None: from the start; pipeline: unknown)
    end: Quarter | None  # last quarter it counts in (None: open-ended)

    def counts_in(self, q: Quarter) -> bool:
        if not self.committed and self.start is None:
            return False  # unscheduled pipeline
        return (self.start is None or q >= self.start) and (self.end is None or q <= self.end)


@dataclass(frozen=True)
class QuarterRow:
    quarter: str
    committed: float
    pipeline: float
    capacity: float
    high: float  # percent

    @property
    def total(self) -> float:
        return self.committed + self.pipeline

    @property
    def utilization(self) -> float:
        return 100.0 * self.total / self.capacity if self.capacity else 0.0

    @property
    def status(self) -> Status:
        if self.total > self.capacity:
            return "overbooked"
        return "near capacity" if self.utilization > self.high else "ok"


@dataclass(frozen=True)
class PoolForecast:
    pool: str
    unit: str
    capacity: float
    rows: tuple[QuarterRow, ...]
    demands: tuple[Demand, ...]

    @property
    def first_overbooked(self) -> str | None:
        return next((r.quarter for r in self.rows if r.status == "overbooked"), None)

    @property
    def unscheduled(self) -> list[Demand]:
        return [d for d in self.demands if not d.committed and d.start is None]


def _planned(spec: dict[str, Any], stages: Collection[str]) -> Quarter | None:
    dates = [d for k, d in planned_dates(spec).items() if k in stages]
    return quarter_of(min(dates)) if dates else None


def demands(index: Index, provisioned: Collection[str]) -> dict[str, list[Demand]]:
    """Pool name -> every demand on it, by service name."""
    entries = {service: _spec(entry.data) for service, entry in index.entries.items()}
    pipeline = pipeline_stages_of(provisioned)
    out: dict[str, list[Demand]] = {}
    for doc in sorted(index.of_kind("ServiceModel"), key=lambda d: d.name):
        entry = entries.get(doc.name)
        if not doc.valid or entry is None:
            continue
        stage = str(entry["stage"])
        end = _planned(entry, ["retired"])
        if stage in provisioned:
            committed, start = True, None
        elif stage in pipeline:
            committed, start = False, _planned(entry, provisioned)
        else:
            continue  # not approved yet, or retired
        for r in _spec(doc.data).get("resources") or []:
            out.setdefault(str(r["pool"]), []).append(
                Demand(doc.name, stage, float(r["quantity"]), committed, start, end)
            )
    return out


def forecast(
    index: Index, today: dt.date, provisioned: Collection[str], count: int = 8
) -> list[PoolForecast]:
    """Every valid pool over ``count`` quarters from the quarter of ``today``."""
    span = quarters(quarter_of(today), count)
    by_pool = demands(index, provisioned)
    out = []
    for doc in sorted(index.of_kind("ResourcePool"), key=lambda d: d.name):
        if not doc.valid:
            continue
        spec = _spec(doc.data)
        capacity = float(spec["capacity"])
        high = float((spec.get("thresholds") or {}).get("high", 85))
        pool_demands = by_pool.get(doc.name, [])
        rows = []
        for q in span:
            committed = sum(d.quantity for d in pool_demands if d.committed and d.counts_in(q))
            pipeline = sum(d.quantity for d in pool_demands if not d.committed and d.counts_in(q))
            rows.append(QuarterRow(quarter_label(q), committed, pipeline, capacity, high))
        out.append(
            PoolForecast(doc.name, str(spec["unit"]), capacity, tuple(rows), tuple(pool_demands))
        )
    return out
