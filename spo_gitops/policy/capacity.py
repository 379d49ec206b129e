"""Resource allocation: what provisioned services draw from each pool, against its capacity.

A service draws on its pools (``spec.resources``) while its portfolio entry is in a provisioned
stage (spo.yaml's reconcile.provisionedStages; by default transitioning, live, retiring). Above
the pool's capacity is an error (SPO504, at the pool's capacity, naming the biggest consumers);
utilization below the pool's low threshold (SPO505) or above its high threshold (SPO506) is a
warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
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
        spec = doc.data["spec"]
        thresholds = spec.get("thresholds") or {}
        by_service: dict[str, float] = {}
        for a in lookups.allocations_of(doc.name):
            if a["provisioned"]:
                by_service[a["service"]] = by_service.get(a["service"], 0.0) + a["quantity"]
        consumers = tuple(sorted(by_service.items(), key=lambda kv: (-kv[1], kv[0])))
        rows.append(
            PoolUsage(
                pool=doc.name,
                unit=str(spec["unit"]),
                capacity=float(spec["capacity"]),
                allocated=sum(by_service.values()),
                low=float(thresholds.get("low", 20)),
                high=float(thresholds.get("high", 85)),
                consumers=consumers,
            )
        )
    return rows


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
        elif usage.status == "underused":
            yield doc.diag(
                "SPO505",
                f"pool {usage.pool} is underused: {figures}, below {usage.low:g} %",
                ["spec", "thresholds", "low"] if "thresholds" in doc.data["spec"] else ["spec"],
                severity="warning",
                hint="reduce the capacity or put it to use",
            )
