"""Catalog-wide lookups offered to policy expressions as CEL functions.

Each function takes names and returns plain data (documents as maps, lists of them, or null), so
that a policy reads like ``slas_of(self.metadata.name).exists(s, s.spec.status == 'active')``.
The tables behind them are built once per catalog, on first use.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection
from functools import cached_property
from typing import Any

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Index
from spo_gitops.config import PROVISIONED_STAGES
from spo_gitops.models import metrics
from spo_gitops.policy.projection import ENTITY, Projection

Data = dict[str, Any]
DEFAULT_DISCOUNT_RATE = 0.08  # spo.yaml portfolio.discountRate's default

__all__ = ["PROVISIONED_STAGES", "Lookups"]


def _spec(doc: Data) -> Data:
    spec = doc.get("spec")
    return spec if isinstance(spec, dict) else {}


def business_case_figures(entry: Data) -> tuple[float, float] | None:
    """(TCO, ROI) of a PortfolioEntry's business case over its horizon, or None without one
    (the formulas: spo_gitops/portfolio/finance.py)."""
    from spo_gitops.portfolio.finance import roi, tco

    case = _spec(entry).get("businessCase")
    if not isinstance(case, dict):
        return None
    try:
        horizon = float(case["horizonYears"])
        inv, cost = float(case["investment"]), float(case["annualCost"])
        benefit = float(case["annualBenefit"])
    except (KeyError, TypeError, ValueError):
        return None
    return tco(inv, cost, horizon), roi(inv, cost, benefit, horizon)


class Lookups:
    """The CEL functions over one catalog (an :class:`Index` of valid documents)."""

    def __init__(
        self,
        index: Index,
        today: dt.date,
        provisioned: Collection[str] = PROVISIONED_STAGES,
        discount_rate: float = DEFAULT_DISCOUNT_RATE,
    ) -> None:
        self.index = index
        self.today = today
        self.provisioned = frozenset(provisioned)  # stages that draw on pools (spo.yaml)
        self.discount_rate = discount_rate  # for NPV (spo.yaml portfolio.discountRate)
        self._cuts: dict[tuple[str, int], Data] = {}  # (root, id(data)) -> cut, one projection
        self._cut_by: Projection | None = None

    @cached_property
    def _by_kind(self) -> dict[str, dict[str, Document]]:
        # documents, not their data: a document taken from the changed-only cache is decoded
        # only when a policy asks for it
        out: dict[str, dict[str, Document]] = defaultdict(dict)
        for (kind, name), doc in self.index.by_ref.items():
            if doc.valid:
                out[kind][name] = doc
        return out

    def _data_of(self, docs: list[Document]) -> list[Data]:
        return [d.data for d in docs]

    @cached_property
    def allocations(self) -> dict[str, list[Data]]:
        """Pool name -> [{service, quantity, stage, provisioned}] for every resource request."""
        out: dict[str, list[Data]] = defaultdict(list)
        for name, svc in self._by_kind["ServiceModel"].items():
            stage = self.stage_of(name)
            for req in svc.fact("spec", "resources") or []:
                if isinstance(req, dict):
                    out[str(req.get("pool"))].append(
                        {
                            "service": name,
                            "quantity": float(req.get("quantity") or 0),
                            "stage": stage,
                            "provisioned": stage in self.provisioned,
                        }
                    )
        return out

    # --- the functions -------------------------------------------------------------------------

    def entity(self, kind: str, name: str) -> Data | None:
        doc = self._by_kind.get(kind, {}).get(name)
        return None if doc is None else doc.data

    def service(self, name: str) -> Data | None:
        return self.entity("ServiceModel", name)

    def party(self, name: str) -> Data | None:
        return self.entity("Party", name)

    def pool(self, name: str) -> Data | None:
        return self.entity("ResourcePool", name)

    def portfolio_of(self, service: str) -> Data | None:
        entry = self.index.entry_of(service)
        return None if entry is None else entry.data

    def stage_of(self, service: str) -> str:
        return self.index.stage_of(service) or ""

    def slas_of(self, service: str) -> list[Data]:
        return self._data_of(self.index.slas_of(service))

    def spis_of(self, service: str) -> list[Data]:
        return self._data_of(self.index.spis_of(service))

    def dependents_of(self, service: str) -> list[Data]:
        return self._data_of(self.index.dependents_of(service))

    def allocations_of(self, pool: str) -> list[Data]:
        return self.allocations.get(pool, [])

    def tco(self, entry: Data) -> float:
        figures = business_case_figures(entry)
        return figures[0] if figures else 0.0

    def roi(self, entry: Data) -> float:
        figures = business_case_figures(entry)
        return figures[1] if figures else 0.0

    def _case(self, entry: Data) -> Any:
        from spo_gitops.portfolio.finance import case_figures

        case = _spec(entry).get("businessCase")
        return case_figures(case, self.discount_rate) if isinstance(case, dict) else None

    def npv(self, entry: Data) -> float:
        """Net present value of the business case at spo.yaml's discount rate (0 without one)."""
        figures = self._case(entry)
        return float(figures.npv) if figures else 0.0

    def payback(self, entry: Data) -> float | None:
        """Years until the case has earned back its investment, or null when it never does
        within its horizon (or has no business case)."""
        figures = self._case(entry)
        return None if figures is None or figures.payback is None else float(figures.payback)

    def discount_rate_(self) -> float:
        return self.discount_rate

    def target_in(self, objective: Data, unit: str) -> float:
        """An SLA objective's target converted to ``unit`` (of the same unit family, from the
        metric registry), so that policies compare targets whatever unit they are written in."""
        have = str(objective.get("unit"))
        family = metrics.family_of(have)
        if family is None or unit not in family.factors:
            raise ValueError(f"target_in: cannot convert {have} to {unit}")
        return family.convert(float(objective["target"]), have, unit)

    def today_(self) -> str:
        return self.today.isoformat()

    def cut(self, projection: Projection, root: str, data: Data) -> Data:
        """What ``projection`` keeps of a document handed over by ``root``, computed once."""
        if projection is not self._cut_by:
            self._cuts, self._cut_by = {}, projection
        key = (root, id(data))
        got = self._cuts.get(key)
        if got is None:
            got = self._cuts[key] = projection.cut(root, data)
        return got

    def functions(self, projection: Projection | None = None) -> dict[str, Callable[..., Any]]:
        """The CEL functions. With a ``projection`` of the policies that will call them, the
        documents they return are cut to what those policies read (the same answers, a
        fraction of the conversion into CEL values)."""
        if projection is not None and projection.roots is not None:
            return self._cut_functions(projection)
        return {
            "entity": self.entity,
            "service": self.service,
            "party": self.party,
            "pool": self.pool,
            "portfolio_of": self.portfolio_of,
            "stage_of": self.stage_of,
            "slas_of": self.slas_of,
            "spis_of": self.spis_of,
            "dependents_of": self.dependents_of,
            "allocations_of": self.allocations_of,
            "tco": self.tco,
            "roi": self.roi,
            "npv": self.npv,
            "payback": self.payback,
            "discount_rate": self.discount_rate_,
            "target_in": self.target_in,
            "today": self.today_,
        }

    def _cut_functions(self, projection: Projection) -> dict[str, Callable[..., Any]]:
        functions = self.functions()

        def one(name: str) -> Callable[..., Data | None]:
            full = functions[name]

            def call(*args: Any) -> Data | None:
                data = full(*args)
                if data is None:
                    return None
                root = f"{ENTITY}{data.get('kind')}" if name == "entity" else name
                return self.cut(projection, root, data)

            return call

        def many(name: str) -> Callable[..., list[Data]]:
            full = functions[name]

            def call(*args: Any) -> list[Data]:
                return [self.cut(projection, name, d) for d in full(*args)]

            return call

        for name in ("entity", "service", "party", "pool", "portfolio_of"):
            functions[name] = one(name)
        for name in ("slas_of", "spis_of", "dependents_of"):
            functions[name] = many(name)
        return functions


FUNCTION_NAMES = frozenset(
    [
        "entity",
        "service",
        "party",
        "pool",
        "portfolio_of",
        "stage_of",
        "slas_of",
        "spis_of",
        "dependents_of",
        "allocations_of",
        "tco",
        "roi",
        "npv",
        "payback",
        "discount_rate",
        "target_in",
        "today",
    ]
)
