"""Agreements against the validation date: in force, about to expire, reviews overdue.

An agreement is *in force* on a day when its status is ``active`` and the day lies within its
validity (``start`` and ``end`` included). On the validation date (``spo validate``'s date: see
docs/rules.md) every ServiceLevelAgreement is checked:

- SPO413 (warning): its status says active but its validity has ended: it binds nobody any more
  (and no longer counts as a live service's active SLA, POL003);
- SPO414 (warning): it is in force and ends within ``expiryWarningDays`` (spo.yaml
  ``agreements``, default 60): renegotiate it before it lapses;
- SPO415 (warning): its next service review (``reviews.next``) is in the past: the review is
  overdue (a draft or expired agreement is not reviewed).

Each of these reads one agreement and the date, nothing else in the catalog.

Agreements come in three types (``spec.type``), and the parties must fit the type:

- SLA, with a customer: ``customer`` is a Party of type customer, ``provider`` (if given) a team;
- OLA, between internal teams: ``customer`` and ``provider`` (if given) are teams;
- UC, an underpinning contract: ``provider`` is the supplier (required), ``customer`` a team,
  and the supplier's SPI (``spec.provider`` the supplier) covers the service.

A board (a decision body: it approves stages of the portfolio) is party to none of them.

A party of the wrong type is SPO303; a UC without a supplier SPO308, one that no SPI of its
supplier covers SPO309 (errors). These read the agreement, its parties and the SPIs of its
service.

A live service's SLA targets are backed (SPO419, warning): for every objective of an active SLA
of a live service, the active OLAs and UCs on the services it depends on that state the same
metric and priority are at least as strict (compared in the metric's canonical unit, in its
direction). This reads the agreement, its service's model and portfolio entry, and the
agreements of the services it depends on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.index import Index, Scope
from spo_gitops.config import Project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models import ServiceLevelAgreement, ServiceModel, metrics
from spo_gitops.models.kinds import Objective

DEFAULT_EXPIRY_WARNING_DAYS = 60


def in_force(sla: ServiceLevelAgreement, day: dt.date) -> bool:
    """Whether the agreement binds its parties on ``day``."""
    spec = sla.spec
    return spec.status == "active" and spec.validity.start <= day <= spec.validity.end


def check_agreements(
    index: Index,
    today: dt.date | None = None,
    expiry_warning_days: int = DEFAULT_EXPIRY_WARNING_DAYS,
    scope: Scope | None = None,
) -> Iterator[Diagnostic]:
    """SPO413-SPO415 for every valid agreement of ``index`` (of ``scope``) on ``today``
    (default: today)."""
    day = today or dt.date.today()
    for doc in index.subjects("ServiceLevelAgreement", scope):
        sla = doc.model if doc.valid else None
        if not isinstance(sla, ServiceLevelAgreement):
            continue
        spec = sla.spec
        end = spec.validity.end
        if spec.status == "active" and end < day:
            yield doc.diag(
                "SPO413",
                f"{doc.name} is active but its validity ended on {end.isoformat()} "
                f"({(day - end).days} day(s) before {day.isoformat()}): it is no longer in force",
                ["spec", "validity", "end"],
                severity="warning",
                hint="renew the agreement (a new validity and a version bump) or set status: "
                "expired",
            )
        elif in_force(sla, day) and (end - day).days < expiry_warning_days:
            left = (end - day).days
            yield doc.diag(
                "SPO414",
                f"{doc.name} expires on {end.isoformat()}, in {left} day(s)",
                ["spec", "validity", "end"],
                severity="warning",
                hint=f"renegotiate it now: agreements are flagged {expiry_warning_days} days "
                "before they end (spo.yaml agreements.expiryWarningDays)",
            )
        review = spec.reviews.next if spec.reviews is not None else None
        if review is not None and review < day and spec.status == "active":
            yield doc.diag(
                "SPO415",
                f"service review of {doc.name} was due on {review.isoformat()} "
                f"({(day - review).days} day(s) ago)",
                ["spec", "reviews", "next"],
                severity="warning",
                hint="hold the review with the customer and set reviews.next to the next date "
                f"of its {spec.reviews.cadence if spec.reviews else ''} cadence",
            )


def agreement_checks(
    project: Project, index: Index, today: dt.date | None, scope: Scope | None = None
) -> list[Diagnostic]:
    """The agreement findings with spo.yaml's settings: what ``validate`` calls, on the
    agreements of ``scope`` (None: all). (Changed-only validation: see the module's docstring
    for what each finding reads.)"""
    days = project.config.agreements.expiry_warning_days
    found = list(check_agreements(index, today, days, scope))
    found.extend(check_parties(index, scope))
    found.extend(check_backing(index, scope))
    return found


# --- SLA, OLA, UC ------------------------------------------------------------------------------

_WANTED = {  # agreement type -> (customer's party types, provider's party types)
    "SLA": ("customer", "team"),
    "OLA": ("team", "team"),
    "UC": ("team", "supplier"),
}
_WHAT = {
    "SLA": "an SLA is agreed with a customer (an OLA is between internal teams)",
    "OLA": "an OLA is agreed between internal teams",
    "UC": "an underpinning contract is with a supplier, for an internal team",
}


def _agreements(
    docs: list[Document],
) -> Iterator[tuple[Document, ServiceLevelAgreement]]:
    for doc in docs:
        if doc.valid and isinstance(doc.model, ServiceLevelAgreement):
            yield doc, doc.model


def check_parties(index: Index, scope: Scope | None = None) -> Iterator[Diagnostic]:
    """SPO303, SPO308, SPO309: each agreement's counterparties fit its type."""
    for doc, sla in _agreements(index.subjects("ServiceLevelAgreement", scope)):
        spec = sla.spec
        customer_type, provider_type = _WANTED[spec.type]
        for role, name, wanted in (
            ("customer", spec.customer, customer_type),
            ("provider", spec.provider, provider_type),
        ):
            have = index.party_type(name) if name is not None else None
            if have is not None and have != wanted:
                yield doc.diag(
                    "SPO303",
                    f"{spec.type} {doc.name}: {role} {name} is a {have}, expected a {wanted}",
                    ["spec", role],
                    hint=_WHAT[spec.type]
                    + ("; set spec.type to the kind of agreement this is" if have else ""),
                )
        if spec.type != "UC":
            continue
        if spec.provider is None:
            yield doc.diag(
                "SPO308",
                f"underpinning contract {doc.name} names no supplier",
                ["spec", "type"],
                hint="set spec.provider to the supplier (a Party of type supplier)",
            )
        elif index.party_type(spec.provider) == "supplier" and not any(
            (spi.data.get("spec") or {}).get("provider") == spec.provider
            for spi in index.spis_of(spec.service)
        ):
            yield doc.diag(
                "SPO309",
                f"underpinning contract {doc.name}: no SPI of {spec.provider} covers "
                f"{spec.service}",
                ["spec", "provider"],
                hint=f"add {spec.service} to the services of the SPI whose provider is "
                f"{spec.provider}, or write that SPI",
            )


def _strictness(o: Objective) -> tuple[float, str] | None:
    """The target in the canonical unit, and the metric's direction."""
    direction = metrics.direction_of(o.metric, o.direction)
    family = metrics.family_of(o.unit)
    if direction is None or family is None:
        return None
    return family.to_canonical(o.target, o.unit), direction


def check_backing(index: Index, scope: Scope | None = None) -> Iterator[Diagnostic]:
    """SPO419: a live service's SLA targets are backed by its dependencies' OLAs and UCs."""
    underpinning: dict[str, list[tuple[str, ServiceLevelAgreement]]] = {}

    def underpinning_of(service: str) -> list[tuple[str, ServiceLevelAgreement]]:
        """The active OLAs and UCs on ``service``, by name (their models built once asked)."""
        if service not in underpinning:
            underpinning[service] = [
                (d.name, sla)
                for d, sla in _agreements(sorted(index.slas_of(service), key=lambda d: d.name))
                if sla.spec.type in ("OLA", "UC") and sla.spec.status == "active"
            ]
        return underpinning[service]

    for doc, sla in _agreements(index.subjects("ServiceLevelAgreement", scope)):
        spec = sla.spec
        if spec.type != "SLA" or spec.status != "active":
            continue
        if index.stage_of(spec.service) != "live":
            continue
        service = index.get("ServiceModel", spec.service)
        model = service.model if service is not None and service.valid else None
        if not isinstance(model, ServiceModel):
            continue
        for i, o in enumerate(spec.objectives):
            ours = _strictness(o)
            if ours is None:
                continue
            weaker = [
                f"{u.spec.type} {name} of {dep} targets {b.target:g} {b.unit}"
                for dep in model.spec.depends_on
                for name, u in underpinning_of(dep)
                for b in u.spec.objectives
                if b.metric == o.metric
                and b.priority == o.priority
                and _looser(_strictness(b), ours)
            ]
            if weaker:
                yield doc.diag(
                    "SPO419",
                    f"{o.metric}{' ' + o.priority if o.priority else ''} target "
                    f"{o.target:g} {o.unit} of {doc.name} is not backed: " + "; ".join(weaker),
                    ["spec", "objectives", i, "target"],
                    severity="warning",
                    hint="a service can promise no more than what it depends on delivers: "
                    "tighten the OLA/UC or relax this target",
                )


def _looser(theirs: tuple[float, str] | None, ours: tuple[float, str]) -> bool:
    if theirs is None:
        return False
    value, direction = theirs
    tolerance = 1e-9 * max(abs(value), abs(ours[0]), 1.0)
    if direction == "higher-is-better":
        return value < ours[0] - tolerance
    return value > ours[0] + tolerance
