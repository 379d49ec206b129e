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

Each check reads one agreement and the date, nothing else in the catalog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from spo_gitops.catalog.references import Index
from spo_gitops.config import Project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models import ServiceLevelAgreement

DEFAULT_EXPIRY_WARNING_DAYS = 60


def in_force(sla: ServiceLevelAgreement, day: dt.date) -> bool:
    """Whether the agreement binds its parties on ``day``."""
    spec = sla.spec
    return spec.status == "active" and spec.validity.start <= day <= spec.validity.end


def check_agreements(
    index: Index,
    today: dt.date | None = None,
    expiry_warning_days: int = DEFAULT_EXPIRY_WARNING_DAYS,
) -> Iterator[Diagnostic]:
    """SPO413-SPO415 for every valid agreement of ``index`` on ``today`` (default: today)."""
    day = today or dt.date.today()
    for doc in sorted(index.of_kind("ServiceLevelAgreement"), key=lambda d: d.name):
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


def agreement_checks(project: Project, index: Index, today: dt.date | None) -> list[Diagnostic]:
    """The agreement findings with spo.yaml's settings: what ``validate`` calls. (Changed-only
    validation: each finding depends on its own ServiceLevelAgreement and the date only.)"""
    days = project.config.agreements.expiry_warning_days
    return list(check_agreements(index, today, days))
