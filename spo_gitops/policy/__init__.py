"""The policy stage: Policy documents (CEL) and resource allocation over the whole catalog."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.policy.capacity import PROVISIONED_STAGES, PoolUsage, check_capacity, pool_usage
from spo_gitops.policy.engine import evaluate_policies as _evaluate_policies
from spo_gitops.policy.lookups import DEFAULT_DISCOUNT_RATE, Lookups

__all__ = ["PROVISIONED_STAGES", "PolicyOutcome", "PoolUsage", "evaluate_policies"]


@dataclass
class PolicyOutcome:
    findings: list[Diagnostic] = field(default_factory=list)
    capacity: list[PoolUsage] = field(default_factory=list)


def evaluate_policies(
    index: Index,
    today: dt.date | None = None,
    jobs: int = 1,
    provisioned: Collection[str] = PROVISIONED_STAGES,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
) -> PolicyOutcome:
    """Policy findings (waivers applied), capacity findings and the capacity table.

    ``jobs``: worker processes for the policies (0: one per core when the catalog is large);
    ``provisioned``: the portfolio stages whose services draw on pools (spo.yaml's
    reconcile.provisionedStages); ``discount_rate``: for npv() (spo.yaml portfolio.discountRate)."""
    today = today or dt.date.today()
    # its tables are built once, for policies and capacity
    lookups = Lookups(index, today, provisioned, discount_rate)
    findings = _evaluate_policies(index, today, lookups, jobs)
    usage = pool_usage(index, lookups)
    findings.extend(check_capacity(index, usage))
    return PolicyOutcome(findings, usage)
