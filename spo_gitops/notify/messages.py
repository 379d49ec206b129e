"""What each party must hear, worked out from the catalog (pure functions).

Every message has a stable ``key`` (what it is about, e.g. ``breach/network-branch/mttr P1/
2026-06``), so that the ledger can tell a message already sent from a new one, and a list of
parties; a party is reached through its contacts' e-mail addresses and through the webhooks.

- **change** (a merged change, from the semantic diff): each changed entity's owner, and for the
  services it touches (the entity itself and what depends on it) their owners and the provider
  and consumers of the SPIs covering them.
- **breach** (an objective breached in its latest period): the service owner, the customer, and
  the first escalation level of the SPIs covering the service.
- **plan** (an open improvement plan): the service owner, the customer of each SLA named in its
  triggers, and the owners of its actions.
- **review** (an SLA's next review within the horizon) and **action** (an open plan's action due
  within the horizon, or overdue): the SLA's owner and customer; the action's owner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spo_gitops.catalog.references import Index
from spo_gitops.models.improvement import ACTION_OPEN, ImprovementPlan
from spo_gitops.sla.compute import SlaReport


@dataclass(frozen=True)
class Message:
    key: str
    topic: str  # change | breach | plan | review | action
    subject: str
    body: str
    parties: tuple[str, ...]


@dataclass(frozen=True)
class Address:
    party: str
    name: str
    email: str


def addresses(index: Index, parties: Iterable[str]) -> list[Address]:
    """The e-mail addresses of the parties' contacts (contacts without one are left out)."""
    out: list[Address] = []
    seen: set[str] = set()
    for party in parties:
        doc = index.get("Party", party)
        if doc is None or not doc.valid:
            continue
        for c in doc.data["spec"].get("contacts", []):
            email = c.get("email")
            if email and email.lower() not in seen:
                seen.add(email.lower())
                out.append(Address(party, str(c.get("name", "")), str(email)))
    return out


def _unique(parties: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in parties if p))


def _owner(index: Index, kind: str, name: str) -> str | None:
    doc = index.get(kind, name)
    if doc is None:
        return None
    owner = (doc.data.get("metadata") or {}).get("owner")
    return str(owner) if owner else None


def _spis(index: Index, service: str) -> list[dict[str, Any]]:
    return [
        d.data["spec"]
        for d in sorted(index.of_kind("ServiceProviderInterface"), key=lambda d: d.name)
        if d.valid and service in d.data["spec"].get("services", [])
    ]


def change_messages(
    changes: Iterable[tuple[str, str, str, list[str]]], index: Index, label: str
) -> list[Message]:
    """``changes``: (kind, name, status, refs that depend on it) per changed entity; ``label``
    names the change (``base..head``)."""
    out = []
    for kind, name, status, impact in changes:
        services = {name} if kind == "ServiceModel" else set()
        doc = index.get(kind, name)
        if doc is not None and isinstance(doc.data.get("spec"), dict):
            svc = doc.data["spec"].get("service")
            if isinstance(svc, str):
                services.add(svc)
        services.update(r.split(":", 1)[1] for r in impact if r.startswith("ServiceModel:"))
        parties: list[str | None] = [_owner(index, kind, name)]
        for s in sorted(services):
            parties.append(_owner(index, "ServiceModel", s))
            for spi in _spis(index, s):
                parties.append(str(spi.get("provider")))
                parties.extend(str(c) for c in spi.get("consumers", []))
        touched = ", ".join(sorted(services)) or "none"
        depends = ", ".join(impact) or "nothing"
        out.append(
            Message(
                f"change/{label}/{kind}:{name}",
                "change",
                f"[catalog] {kind} {name} {status}",
                f"{kind} {name} was {status} in {label}.\nServices touched: {touched}.\n"
                f"Depends on it: {depends}.",
                _unique(parties),
            )
        )
    return out


def breach_messages(report: SlaReport, index: Index) -> list[Message]:
    out = []
    for o, p in report.breaches:
        parties: list[str | None] = [_owner(index, "ServiceModel", o.service), o.customer]
        for spi in _spis(index, o.service):
            levels = sorted(spi.get("escalation", []), key=lambda e: e["level"])
            if levels:
                parties.append(str(levels[0]["party"]))
        out.append(
            Message(
                f"breach/{o.sla}/{o.label}/{p.period.label}",
                "breach",
                f"[SLA breach] {o.sla} {o.label} in {p.period.label}",
                f"{o.service}: {o.label} measured {p.measured:g} {o.unit} against a target of "
                f"{o.target:g} {o.unit} in {p.period.label} ({o.sla}, customer {o.customer}).",
                _unique(parties),
            )
        )
    return out


def plan_messages(index: Index) -> list[Message]:
    out = []
    for doc in sorted(index.of_kind("ImprovementPlan"), key=lambda d: d.name):
        plan = doc.model
        if not isinstance(plan, ImprovementPlan) or plan.spec.status != "open":
            continue
        spec = plan.spec
        customers = []
        for t in spec.trigger.objectives:
            if t.sla is not None:
                sla = index.get("ServiceLevelAgreement", t.sla)
                if sla is not None and sla.valid:
                    customers.append(str(sla.data["spec"]["customer"]))
        actions = "\n".join(
            f"- {a.title} ({a.owner}, due {a.due}, {a.status})" for a in spec.actions
        )
        out.append(
            Message(
                f"plan/{doc.name}/opened",
                "plan",
                f"[improvement plan] {doc.name} opened for {spec.service}",
                f"Improvement plan {doc.name} for {spec.service} opened {spec.opened}.\n"
                f"Root cause: {spec.root_cause or 'not yet known'}.\nActions:\n{actions}",
                _unique(
                    [_owner(index, "ServiceModel", spec.service), doc.data["metadata"]["owner"]]
                    + customers
                    + [a.owner for a in spec.actions]
                ),
            )
        )
    return out


def due_messages(index: Index, today: dt.date, horizon: int = 14) -> list[Message]:
    """SLA reviews due within ``horizon`` days; open plans' actions due within it or overdue."""
    out = []
    until = today + dt.timedelta(days=horizon)
    for doc in sorted(index.of_kind("ServiceLevelAgreement"), key=lambda d: d.name):
        if not doc.valid:
            continue
        spec = doc.data["spec"]
        nxt = (spec.get("reviews") or {}).get("next")
        day = nxt if isinstance(nxt, dt.date) else (dt.date.fromisoformat(nxt) if nxt else None)
        if day is not None and today <= day <= until:
            out.append(
                Message(
                    f"review/{doc.name}/{day}",
                    "review",
                    f"[service review] {doc.name} on {day}",
                    f"The service review of {doc.name} ({spec['service']} for {spec['customer']}) "
                    f"is due on {day}.",
                    _unique([doc.data["metadata"]["owner"], spec["customer"]]),
                )
            )
    for doc in sorted(index.of_kind("ImprovementPlan"), key=lambda d: d.name):
        plan = doc.model
        if not isinstance(plan, ImprovementPlan) or plan.spec.status != "open":
            continue
        for i, a in enumerate(plan.spec.actions):
            if a.status not in ACTION_OPEN or a.due > until:
                continue
            when = "overdue since" if a.due < today else "due on"
            out.append(
                Message(
                    f"action/{doc.name}/{i}/{a.due}" + ("/overdue" if a.due < today else ""),
                    "action",
                    f"[action {when.split()[0]}] {a.title}",
                    f"Action {a.title!r} of improvement plan {doc.name} ({plan.spec.service}) is "
                    f"{when} {a.due}; it is {a.status}.",
                    _unique([a.owner, doc.data["metadata"]["owner"]]),
                )
            )
    return out
