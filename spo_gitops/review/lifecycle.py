"""Lifecycle rules: how a service may move through the portfolio stages between two revisions.

- A stage change follows the allowed transitions (``lifecycle.transitions`` in spo.yaml; by
  default one step forward along the stage order, and from any stage before ``live`` straight to
  ``retired``, for a proposal that is dropped). Skipping stages or moving back is SPO604.
- A new portfolio entry starts in one of ``lifecycle.initialStages`` (default: proposed), SPO607.
- Entering a stage listed in ``lifecycle.approvalRequired`` (default: approved up to retiring)
  needs an approval record for that stage in ``spec.approvals``, SPO605.
- A service moved to ``retiring`` or ``retired`` while services that are live at the head still
  depend on it fails, naming them (SPO606).

On every snapshot (``spo validate``), the approval trail of each portfolio entry is evidence:

- every stage the service has reached (every stage up to its current one) that needs an
  approval (``lifecycle.approvalRequired``) has its record in ``spec.approvals`` (SPO416); a
  retired service may have left the pipeline at any stage, so its trail is not completed;
- the records are dated in stage order: a later stage is never approved before an earlier one
  (SPO417), and never after the validation date (SPO418);
- each record's approver is a Party inside the organisation (a board or a team) or a member of
  one (its ``spec.members``, ``Index.parties_of``): anyone else is SPO425; a supplier or a
  customer, or someone who is a member of such parties only, is SPO426 (their sign-off is not
  the organisation's decision).

Removing the approval of a stage the service had reached is a breaking change (versioning.py).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from spo_gitops.catalog.documents import Document
from spo_gitops.config import LifecycleConfig
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.models import PortfolioEntry
from spo_gitops.models.common import INTERNAL_PARTY_TYPES, STAGES

if TYPE_CHECKING:
    from spo_gitops.catalog.index import Scope
    from spo_gitops.catalog.references import Index
    from spo_gitops.review.diff import CatalogDiff, CatalogSnapshot

_GONE = ("retiring", "retired")


def _spec(doc: Document | None) -> dict[str, Any]:
    spec = doc.data.get("spec") if doc is not None else None
    return spec if isinstance(spec, dict) else {}


def stages(snapshot: CatalogSnapshot) -> dict[str, str]:
    """Service name -> its portfolio stage."""
    return {s: stage for s, stage in snapshot.index.stages.items() if stage in STAGES}


def live_dependents(snapshot: CatalogSnapshot, service: str) -> list[str]:
    """Services that are live in ``snapshot`` and depend on ``service``."""
    stage = stages(snapshot)
    return sorted(
        doc.name
        for doc in snapshot.documents
        if doc.kind == "ServiceModel"
        and service in (_spec(doc).get("dependsOn") or [])
        and stage.get(doc.name) == "live"
    )


def check(diff: CatalogDiff, config: LifecycleConfig) -> Iterator[Diagnostic]:
    """SPO604-SPO607 for every portfolio entry added or changed between base and head."""
    for change in diff.changes:
        if change.kind != "PortfolioEntry" or change.new is None:
            continue
        doc = change.new
        spec = _spec(doc)
        new = spec.get("stage")
        old = _spec(change.old).get("stage") if change.old is not None else None
        if new not in STAGES or new == old:
            continue
        where = ["spec", "stage"]
        if old is None:
            if new not in config.initial_stages:
                yield doc.diag(
                    "SPO607",
                    f"a new portfolio entry starts in stage {new!r}",
                    where,
                    hint="new entries start in: " + ", ".join(config.initial_stages),
                )
        elif old in STAGES and new not in config.allowed(old):
            allowed = config.allowed(old)
            yield doc.diag(
                "SPO604",
                f"stage may not move from {old} to {new}",
                where,
                hint=f"from {old} the service may move to: {', '.join(allowed) or 'nowhere'}"
                + _skipped(old, new),
            )
        if new in config.approval_required and not any(
            isinstance(a, dict) and a.get("stage") == new for a in spec.get("approvals") or []
        ):
            yield doc.diag(
                "SPO605",
                f"stage {new} needs an approval record for {new} in spec.approvals",
                where,
                hint=f"add '- {{stage: {new}, approver: ..., date: YYYY-MM-DD, reference: ...}}'"
                " to spec.approvals",
            )
        service = spec.get("service")
        if new in _GONE and isinstance(service, str):
            users = live_dependents(diff.head, service)
            if users:
                yield doc.diag(
                    "SPO606",
                    f"service {service} moves to {new} but live services depend on it: "
                    + ", ".join(users),
                    where,
                    hint="move those services off it first (spec.dependsOn), or retire them too",
                )


def _skipped(old: str, new: str) -> str:
    i, j = STAGES.index(old), STAGES.index(new)
    if j > i + 1:
        return "; skipped: " + ", ".join(STAGES[i + 1 : j])
    return ""


# --- the approval trail, on every snapshot ----------------------------------------------------


def reached(stage: str) -> list[str]:
    """The stages a service in ``stage`` has passed through, ``stage`` included (a retired
    service may have left at any stage: only ``retired`` itself is known)."""
    if stage == "retired":
        return ["retired"]
    return list(STAGES[: STAGES.index(stage) + 1])


def check_trail(
    index: Index,
    config: LifecycleConfig,
    today: dt.date | None = None,
    scope: Scope | None = None,
) -> Iterator[Diagnostic]:
    """SPO416-SPO418 for every valid portfolio entry (of ``scope``): the approvals of the stages
    it reached, in stage order, none in the future. Each finding reads its own PortfolioEntry,
    spo.yaml's lifecycle settings and the validation date, nothing else."""
    day = today or dt.date.today()
    for doc in index.subjects("PortfolioEntry", scope):
        entry = doc.model if doc.valid else None
        if not isinstance(entry, PortfolioEntry):
            continue
        yield from _trail(doc, entry, config, day)


def _trail(
    doc: Document, entry: PortfolioEntry, config: LifecycleConfig, day: dt.date
) -> Iterator[Diagnostic]:
    spec = entry.spec
    have = {a.stage for a in spec.approvals}
    missing = [s for s in reached(spec.stage) if s in config.approval_required and s not in have]
    if missing:
        yield doc.diag(
            "SPO416",
            f"{spec.service} is {spec.stage} but the approval record of "
            + ", ".join(missing)
            + " is missing",
            ["spec", "approvals"] if spec.approvals else ["spec", "stage"],
            hint="every stage reached needs its approval in spec.approvals: "
            f"'- {{stage: {missing[0]}, approver: ..., date: YYYY-MM-DD, reference: ...}}'",
        )
    latest: tuple[str, dt.date] | None = None
    ordered = sorted(enumerate(spec.approvals), key=lambda ia: STAGES.index(ia[1].stage))
    for i, approval in ordered:
        where: list[str | int] = ["spec", "approvals", i, "date"]
        if approval.date > day:
            yield doc.diag(
                "SPO418",
                f"approval of {approval.stage} is dated {approval.date.isoformat()}, after "
                f"{day.isoformat()}",
                where,
                hint="an approval records a decision that was taken: date it when it was",
            )
        if latest is not None and approval.date < latest[1]:
            yield doc.diag(
                "SPO417",
                f"{approval.stage} was approved on {approval.date.isoformat()}, before "
                f"{latest[0]} ({latest[1].isoformat()})",
                where,
                hint="stages are approved in order: check the dates of both records",
            )
        if latest is None or approval.date >= latest[1]:
            latest = (approval.stage, approval.date)


# --- who approved, on every snapshot ------------------------------------------------------------


def check_approvers(index: Index, scope: Scope | None = None) -> Iterator[Diagnostic]:
    """SPO425-SPO426 for every valid portfolio entry (of ``scope``): each approver is a board or
    team, or a member of one. Each finding reads its PortfolioEntry and the Parties (names, types,
    members), nothing else; a Party that is invalid stands for nobody (its own findings say
    why), but an approver naming it is not reported a second time."""
    hints = _Hints(index)
    for doc in index.subjects("PortfolioEntry", scope):
        entry = doc.model if doc.valid else None
        if not isinstance(entry, PortfolioEntry):
            continue
        for i, approval in enumerate(entry.spec.approvals):
            yield from _approver(doc, index, hints, i, approval.stage, approval.approver)


def _approver(
    doc: Document, index: Index, hints: _Hints, i: int, stage: str, who: str
) -> Iterator[Diagnostic]:
    where: list[str | int] = ["spec", "approvals", i, "approver"]
    parties = index.parties_of(who)
    if any(index.party_type(p) in INTERNAL_PARTY_TYPES for p in parties):
        return
    if parties:
        if who in parties:
            what = f"is a {index.party_type(who)}"
        else:
            kinds = " or ".join(sorted({str(index.party_type(p)) for p in parties}))
            what = f"is a member of {', '.join(sorted(parties))} ({kinds}) only"
        yield doc.diag(
            "SPO426",
            f"approval of {stage}: approver {who} {what}, not a board or team of the organisation",
            where,
            hint="the trail records the organisation's own decisions: name the board or team "
            "that took it, or one of its members (a supplier's or customer's representative who "
            "sits on a board can be listed in its spec.members)",
        )
        return
    if index.get("Party", who) is not None:
        return  # an invalid Party: reported in its own file
    yield doc.diag(
        "SPO425",
        f"approval of {stage}: approver {who!r} is not a Party or a member of one",
        where,
        hint=hints.of(who),
    )


class _Hints:
    """Did-you-mean among the boards and teams (by name or title) and their members, worked
    out once per catalog and once per spelling (a catalog written before approvers were
    checked repeats the same few board titles)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._spelt: dict[str, str] | None = None  # casefolded spelling -> the name to write
        self._hints: dict[str, str] = {}

    def spelt(self) -> dict[str, str]:
        if self._spelt is None:
            self._spelt = {}
            for party in sorted(self.index.valid("Party"), key=lambda d: d.name):
                if self.index.party_type(party.name) not in INTERNAL_PARTY_TYPES:
                    continue
                title = (party.data.get("metadata") or {}).get("title")
                for text in (party.name, title if isinstance(title, str) else None):
                    if text:
                        self._spelt.setdefault(text.casefold(), party.name)
                for member in sorted(self.index.members_of(party.name)):
                    self._spelt.setdefault(member.casefold(), member)
        return self._spelt

    def of(self, who: str) -> str:
        if who not in self._hints:
            spelt = self.spelt()
            close = difflib.get_close_matches(who.casefold(), list(spelt), n=1)
            self._hints[who] = (
                f"did you mean {spelt[close[0]]}? An approver is a Party's name or a member's "
                "handle"
                if close
                else "add a Party of type board or use a party's member"
            )
        return self._hints[who]
