"""The run budget: what running services cost against what budget pools allocate to them.

A budget pool is a ResourcePool of type ``budget`` whose unit is a currency (EUR). A service in a
provisioned stage (spo.yaml's reconcile.provisionedStages: transitioning, live, retiring by
default) draws its running cost from budget pools through ``spec.resources``; its portfolio
entry's ``businessCase.annualCost`` states the same money. When a budget pool exists in the
case's currency, the two must agree: else SPO1003 (an error at the annual cost), so that a
changed annual cost cannot pass silently. Per pool, the report sets the sum of those services'
annual costs against the pool's allocation and capacity.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Scope
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic

TOLERANCE = 0.005  # money agrees to half a cent


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


def budget_pools(index: Index) -> dict[str, Document]:
    """Budget pool name -> the pool."""
    return {
        d.name: d
        for d in index.of_kind("ResourcePool")
        if d.valid and d.fact("spec", "type") == "budget"
    }


@dataclass(frozen=True)
class BudgetLine:
    """One budget pool: capacity, allocation to running services, their annual costs."""

    pool: str
    currency: str
    capacity: float
    allocated: float  # what running services request from the pool
    annual_cost: float  # the annual costs of those services (their business cases)
    services: tuple[tuple[str, float, float], ...]  # (service, allocated, annual cost)

    @property
    def difference(self) -> float:
        return self.annual_cost - self.allocated

    @property
    def agrees(self) -> bool:
        return abs(self.difference) <= TOLERANCE


def _running(index: Index, provisioned: Collection[str]) -> dict[str, Document]:
    """Service name -> its portfolio entry, for services in provisioned stages."""
    return {
        service: entry
        for service, entry in index.entries.items()
        if index.stages.get(service) in provisioned
    }


def _requests(index: Index, service: str, pools: Collection[str]) -> dict[str, float]:
    doc = index.get("ServiceModel", service)
    out: dict[str, float] = {}
    if doc is None or not doc.valid:
        return out
    for r in _spec(doc.data).get("resources") or []:
        if r.get("pool") in pools:
            out[r["pool"]] = out.get(r["pool"], 0.0) + float(r["quantity"])
    return out


def budget_lines(index: Index, provisioned: Collection[str]) -> list[BudgetLine]:
    pools = budget_pools(index)
    running = _running(index, provisioned)
    lines = []
    for name in sorted(pools):
        unit = pools[name].fact("spec", "unit")
        rows = []
        for service in sorted(running):
            asked = _requests(index, service, [name]).get(name)
            if asked is None:
                continue
            case = _spec(running[service].data).get("businessCase") or {}
            cost = float(case.get("annualCost", 0)) if case.get("currency") == unit else 0
            rows.append((service, asked, cost))
        lines.append(
            BudgetLine(
                name,
                str(unit),
                float(pools[name].fact("spec", "capacity")),
                sum(r[1] for r in rows),
                sum(r[2] for r in rows),
                tuple(rows),
            )
        )
    return lines


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def check_budget(
    index: Index, provisioned: Collection[str], scope: Scope | None = None
) -> Iterator[Diagnostic]:
    """SPO1003 for each running service (with its entry in ``scope``) whose annual cost differs
    from what budget pools in its case's currency allocate to it."""
    pools = budget_pools(index)
    running = _running(index, provisioned)
    for entry in index.subjects("PortfolioEntry", scope):
        spec = _spec(entry.data)
        service = str(spec.get("service"))
        case = spec.get("businessCase")
        if not entry.valid or not case or running.get(service) is not entry:
            continue
        currency = case["currency"]
        in_currency = [n for n, p in pools.items() if p.fact("spec", "unit") == currency]
        if not in_currency:
            continue
        asked = _requests(index, service, in_currency)
        allocated = sum(asked.values())
        cost = float(case["annualCost"])
        if abs(allocated - cost) <= TOLERANCE:
            continue
        where = ", ".join(f"{p} {_amount(q)}" for p, q in sorted(asked.items())) or "none"
        pool = sorted(asked)[0] if asked else sorted(in_currency)[0]
        yield entry.diag(
            "SPO1003",
            f"annual cost {_amount(cost)} {currency} of {service} ({spec['stage']}) disagrees with "
            f"its run budget allocation of {_amount(allocated)} {currency} ({where})",
            ["spec", "businessCase", "annualCost"],
            hint=f"make the business case and the service's request on {pool} "
            "(spec.resources) state the same yearly amount",
        )
