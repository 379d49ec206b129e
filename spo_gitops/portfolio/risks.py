"""Risk checks and the heat map.

- SPO1004 (error): a tier-1 live service needs at least one risk that names it, is not closed
  and has been reviewed (``spec.reviews.last``): the board cannot run a critical service blind.
- SPO1005 (warning): a supplier underpins more tier-1 services (not retired) than spo.yaml's
  ``portfolio.supplierConcentration`` allows (default 3): one failure would hit them all.
- SPO1006 (warning): the next review of a risk that is not closed is past (validation date).

A risk's score is likelihood x impact (1..25), each on a 1..5 scale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from spo_gitops.catalog.index import Scope
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models.risk import RISK_OPEN


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


def _stages(index: Index) -> dict[str, str]:
    return index.stages


@dataclass(frozen=True)
class RiskRow:
    name: str
    title: str
    status: str
    likelihood: int
    impact: int
    owner: str
    next_review: str
    services: tuple[str, ...]
    suppliers: tuple[str, ...]
    overdue: bool

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


def risk_rows(index: Index, today: dt.date) -> list[RiskRow]:
    """Every valid risk, highest score first."""
    rows = []
    for d in index.of_kind("Risk"):
        if not d.valid:
            continue
        spec, meta = _spec(d.data), d.data["metadata"]
        nxt = str(spec["reviews"]["next"])
        rows.append(
            RiskRow(
                d.name,
                str(meta.get("title") or d.name),
                str(spec.get("status", "open")),
                int(spec["likelihood"]),
                int(spec["impact"]),
                str(spec["owner"]),
                nxt,
                tuple(spec.get("services") or ()),
                tuple(spec.get("suppliers") or ()),
                spec.get("status", "open") in RISK_OPEN and dt.date.fromisoformat(nxt) < today,
            )
        )
    return sorted(rows, key=lambda r: (-r.score, r.name))


def heat_map(rows: list[RiskRow]) -> list[list[list[str]]]:
    """cells[impact-1][likelihood-1] = names of the risks not closed with that score."""
    cells: list[list[list[str]]] = [[[] for _ in range(5)] for _ in range(5)]
    for r in rows:
        if r.status in RISK_OPEN:
            cells[r.impact - 1][r.likelihood - 1].append(r.name)
    return cells


def concentration(index: Index) -> dict[str, list[str]]:
    """Supplier -> the tier-1 services (not retired) that rely on it."""
    stages = _stages(index)
    out: dict[str, list[str]] = {}
    for d in sorted(index.of_kind("ServiceModel"), key=lambda d: d.name):
        if not d.valid or d.fact("spec", "tier") != 1 or stages.get(d.name) == "retired":
            continue
        for supplier in d.fact("spec", "suppliers") or []:
            out.setdefault(str(supplier), []).append(d.name)
    return out


def check_risks(
    index: Index, today: dt.date, threshold: int, scope: Scope | None = None
) -> Iterator[Diagnostic]:
    stages = _stages(index)
    reviewed: set[str] = set()
    for d in index.of_kind("Risk"):
        if not d.valid or (d.fact("spec", "status") or "open") not in RISK_OPEN:
            continue
        if (d.fact("spec", "reviews") or {}).get("last"):
            reviewed.update(d.fact("spec", "services") or ())
    for d in index.subjects("Risk", scope):
        spec = _spec(d.data)
        if not d.valid or spec.get("status", "open") not in RISK_OPEN:
            continue
        nxt = dt.date.fromisoformat(str(spec["reviews"]["next"]))
        if nxt < today:
            yield d.diag(
                "SPO1006",
                f"review of risk {d.name} was due on {nxt} and is {(today - nxt).days} day(s) "
                "overdue",
                ["spec", "reviews", "next"],
                severity="warning",
                hint="review the risk with its owner and set reviews.last and reviews.next",
            )
    for d in index.subjects("ServiceModel", scope):
        spec = _spec(d.data)
        live_tier1 = d.valid and spec.get("tier") == 1 and stages.get(d.name) == "live"
        if live_tier1 and d.name not in reviewed:
            yield d.diag(
                "SPO1004",
                f"tier-1 live service {d.name} has no reviewed risk",
                ["spec", "tier"],
                hint="record its risks as Risk documents naming the service in spec.services, "
                "with the date of their last review (spec.reviews.last)",
            )
    for supplier, services in sorted(concentration(index).items()):
        party = index.get("Party", supplier)
        if party is None or (scope is not None and party not in scope):
            continue
        if party.valid and len(services) > threshold:
            yield party.diag(
                "SPO1005",
                f"supplier {supplier} underpins {len(services)} tier-1 services "
                f"({', '.join(services)}), more than {threshold}",
                ["metadata", "name"],
                severity="warning",
                hint="record the concentration as a Risk with a mitigation (exit plan, second "
                "source), or raise portfolio.supplierConcentration in spo.yaml",
            )
