"""Resource allocation: what services draw from each pool, committed and in the pipeline.

A service draws on its pools (``spec.resources``) while its portfolio entry is in a provisioned
stage (spo.yaml's reconcile.provisionedStages; by default transitioning, live, retiring): that is
the *committed* demand. Services approved but not yet provisioned (the pipeline stages from
``approved`` up to the first provisioned stage: by default approved, chartered, designed) will
draw on them when they go live: that is the *pipeline* demand, shown beside it.

Committed demand above the pool's capacity is an error (SPO504, at the pool's capacity, naming
the biggest consumers); committed utilization below the pool's low threshold (SPO505) or above
its high threshold (SPO506) is a warning; committed and pipeline demand together above the
capacity is a warning that names the pipeline services (SPO507: overbooked when they go live).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Literal

from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models.common import STAGES
from spo_gitops.policy.lookups import PROVISIONED_STAGES, Lookups

__all__ = ["PROVISIONED_STAGES", "PoolUsage", "check_capacity", "pool_usage"]

Status = Literal["ok", "overbooked", "near capacity", "underused"]


@dataclass(frozen=True)
class PoolUsage:
    """One row of the capacity table."""

    pool: str
    unit: str
    capacity: float
    allocated: float
    low: float
    high: float
    consumers: tuple[tuple[str, float], ...]  # (service, quantity), biggest first
    pipeline: float = 0.0  # what services in pipeline stages will draw when they go live
    pipeline_consumers: tuple[tuple[str, float], ...] = ()  # (service, quantity), biggest first

    @property
    def with_pipeline(self) -> float:
        """Committed and pipeline demand together."""
        return self.allocated + self.pipeline

    @property
    def pipeline_utilization(self) -> float:
        """Percent of the capacity allocated once the pipeline is live."""
        return 100.0 * self.with_pipeline / self.capacity if self.capacity else 0.0

    @property
    def utilization(self) -> float:
        """Percent of the capacity allocated."""
        return 100.0 * self.allocated / self.capacity if self.capacity else 0.0

    @property
    def status(self) -> Status:
        if self.allocated > self.capacity:
            return "overbooked"
        if self.utilization > self.high:
            return "near capacity"
        if self.utilization < self.low:
            return "underused"
        return "ok"


def pool_usage(index: Index, lookups: Lookups | None = None) -> list[PoolUsage]:
    """Every valid pool with what provisioned services draw from it, sorted by name."""
    lookups = lookups or Lookups(index, dt.date.today())
    rows = []
    for doc in sorted(index.of_kind("ResourcePool"), key=lambda d: d.name):
        if not doc.valid:
            continue
        thresholds = doc.fact("spec", "thresholds") or {}
        by_service: dict[str, float] = {}
        in_pipeline: dict[str, float] = {}
        pipeline_stages = pipeline_stages_of(lookups.provisioned)
        for a in lookups.allocations_of(doc.name):
            into = (
                by_service
                if a["provisioned"]
                else in_pipeline
                if a["stage"] in pipeline_stages
                else None
            )
            if into is not None:
                into[a["service"]] = into.get(a["service"], 0.0) + a["quantity"]
        consumers = _biggest_first(by_service)
        rows.append(
            PoolUsage(
                pool=doc.name,
                unit=str(doc.fact("spec", "unit")),
                capacity=float(doc.fact("spec", "capacity")),
                allocated=sum(by_service.values()),
                low=float(thresholds.get("low", 20)),
                high=float(thresholds.get("high", 85)),
                consumers=consumers,
                pipeline=sum(in_pipeline.values()),
                pipeline_consumers=_biggest_first(in_pipeline),
            )
        )
    return rows


def pipeline_stages_of(provisioned: Collection[str]) -> frozenset[str]:
    """The stages from ``approved`` up to the first provisioned one: approved investments whose
    services do not draw on their pools yet (default: approved, chartered, designed)."""
    start = STAGES.index("approved")
    later = [STAGES.index(s) for s in provisioned if s in STAGES and STAGES.index(s) > start]
    end = min(later) if later else STAGES.index("live")
    return frozenset(s for s in STAGES[start:end] if s not in provisioned)


def _biggest_first(by_service: dict[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(by_service.items(), key=lambda kv: (-kv[1], kv[0])))


def _top(usage: PoolUsage, n: int = 3) -> str:
    return ", ".join(f"{s} {q:g}" for s, q in usage.consumers[:n])


def check_capacity(index: Index, usages: list[PoolUsage]) -> Iterator[Diagnostic]:
    for usage in usages:
        doc = index.get("ResourcePool", usage.pool)
        if doc is None:
            continue
        figures = (
            f"{usage.allocated:g} of {usage.capacity:g} {usage.unit} allocated "
            f"({usage.utilization:.0f} %)"
        )
        if usage.status == "overbooked":
            yield doc.diag(
                "SPO504",
                f"pool {usage.pool} is overbooked: {figures}; biggest consumers: {_top(usage)}",
                ["spec", "capacity"],
                hint="raise the capacity, or move or reduce the services' resource requests",
            )
        elif usage.status == "near capacity":
            yield doc.diag(
                "SPO506",
                f"pool {usage.pool} is near capacity: {figures}, above {usage.high:g} %",
                ["spec", "thresholds", "high"] if "thresholds" in doc.data["spec"] else ["spec"],
                severity="warning",
                hint=f"plan more capacity; biggest consumers: {_top(usage)}",
            )
        if usage.status != "overbooked" and usage.with_pipeline > usage.capacity:
            pipeline = ", ".join(f"{n} {q:g}" for n, q in usage.pipeline_consumers)
            yield doc.diag(
                "SPO507",
                f"pool {usage.pool} is overbooked when the pipeline goes live: "
                f"{usage.with_pipeline:g} of {usage.capacity:g} {usage.unit} "
                f"({usage.pipeline_utilization:.0f} %) with {pipeline}",
                ["spec", "capacity"],
                severity="warning",
                hint="plan the capacity before those services go live, or reduce their requests",
            )
        if usage.status == "underused":
            yield doc.diag(
                "SPO505",
                f"pool {usage.pool} is underused: {figures}, below {usage.low:g} %",
                ["spec", "thresholds", "low"] if "thresholds" in doc.data["spec"] else ["spec"],
                severity="warning",
                hint="reduce the capacity or put it to use",
            )
