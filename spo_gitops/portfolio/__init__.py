"""Portfolio decisions: money, roadmap and lead time, run budget, capacity forecast, risks.

``portfolio_checks`` is what ``spo validate`` runs (slipped plans, the run budget, risks);
``portfolio.report`` builds what ``spo portfolio report`` and the site show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from spo_gitops.catalog.index import Scope
from spo_gitops.catalog.references import Index
from spo_gitops.config import ProjectConfig
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.portfolio.budget import check_budget
from spo_gitops.portfolio.risks import check_risks
from spo_gitops.portfolio.roadmap import check_roadmap

__all__ = ["portfolio_checks"]


def portfolio_checks(
    index: Index,
    config: ProjectConfig,
    today: dt.date,
    provisioned: Collection[str] | None = None,
    scope: Scope | None = None,
) -> list[Diagnostic]:
    """Findings of the roadmap (SPO1001, SPO1002), the run budget (SPO1003) and risks
    (SPO1004-SPO1006) over the whole catalog, on the entities of ``scope`` (None: all)."""
    stages = config.reconcile.provisioned_stages if provisioned is None else provisioned
    found: list[Diagnostic] = []
    found.extend(check_roadmap(index, today, scope))
    found.extend(check_budget(index, stages, scope))
    found.extend(check_risks(index, today, config.portfolio.supplier_concentration, scope))
    return found
