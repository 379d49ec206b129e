"""The catalog index: entities by kind and name, and the lookups every later stage needs.

"The stage of a service", "its portfolio entry", "its SLAs", "the members of a team", "the
parties someone belongs to": each is computed here, once per catalog, on first use; policies,
compile, the SLA report, the site and the portfolio views read them from the index instead of
walking raw documents again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from spo_gitops.catalog.documents import Document


class Scope:
    """The documents a catalog-wide check reports on: changed-only validation asks for the
    findings in the touched files alone (review/changed.py). A check still reads the whole
    index; it only leaves out the entities outside the scope, whose findings nobody reads. Where
    a check takes ``scope=None``, it reports on every entity."""

    def __init__(self, docs: Iterable[Document]) -> None:
        self._ids = frozenset(id(d) for d in docs)

    def __contains__(self, doc: object) -> bool:
        return id(doc) in self._ids


@dataclass(eq=False)
class Index:
    """Entities by kind and name (the first definition wins), and lookups built on them.

    The lookups read valid documents only: an invalid one is in ``by_ref`` (so that references
    to it resolve) but says nothing reliable about stages, SLAs or members."""

    by_ref: dict[tuple[str, str], Document]
    _kinds: dict[str, list[Document]] = field(default_factory=dict, init=False, repr=False)
    _by_name: dict[str, list[Document]] = field(default_factory=dict, init=False, repr=False)

    def get(self, kind: str, name: str) -> Document | None:
        return self.by_ref.get((kind, name))

    def of_kind(self, kind: str) -> list[Document]:
        if not self._kinds and self.by_ref:
            kinds: dict[str, list[Document]] = defaultdict(list)
            for (k, _), d in self.by_ref.items():
                kinds[k].append(d)
            self._kinds.update(kinds)
        return list(self._kinds.get(kind, ()))

    def valid(self, kind: str) -> list[Document]:
        return [d for d in self.of_kind(kind) if d.valid]

    def subjects(self, kind: str, scope: Scope | None = None) -> list[Document]:
        """The entities of ``kind`` that a catalog-wide check reports on, by name: every one,
        or those in ``scope``."""
        if scope is not None:  # a few touched entities: sorting them alone is the cheaper
            return sorted((d for d in self.of_kind(kind) if d in scope), key=lambda d: d.name)
        docs = self._by_name.get(kind)
        if docs is None:  # sorted once per kind
            docs = self._by_name[kind] = sorted(self.of_kind(kind), key=lambda d: d.name)
        return list(docs)

    # --- services ---------------------------------------------------------------------------

    @cached_property
    def entries(self) -> dict[str, Document]:
        """Service name -> its PortfolioEntry (the first one that names it)."""
        out: dict[str, Document] = {}
        for entry in self.valid("PortfolioEntry"):
            service = entry.fact("spec", "service")
            if isinstance(service, str):
                out.setdefault(service, entry)
        return out

    def entry_of(self, service: str) -> Document | None:
        return self.entries.get(service)

    @cached_property
    def stages(self) -> dict[str, str]:
        """Service name -> the stage its portfolio entry gives (services without one: absent)."""
        out: dict[str, str] = {}
        for service, entry in self.entries.items():
            stage = entry.fact("spec", "stage")
            if isinstance(stage, str):
                out[service] = stage
        return out

    def stage_of(self, service: str) -> str | None:
        return self.stages.get(service)

    def services_in(self, stages: set[str] | frozenset[str]) -> dict[str, str]:
        """Service name -> stage, for the services whose stage is one of ``stages``."""
        return {s: st for s, st in self.stages.items() if st in stages}

    @cached_property
    def _agreements(self) -> dict[str, list[Document]]:
        out: dict[str, list[Document]] = defaultdict(list)
        for sla in self.valid("ServiceLevelAgreement"):
            service = sla.fact("spec", "service")
            if isinstance(service, str):
                out[service].append(sla)
        return out

    def slas_of(self, service: str) -> list[Document]:
        """Every agreement on ``service`` (whatever its status and dates)."""
        return list(self._agreements.get(service, ()))

    @cached_property
    def _spis(self) -> dict[str, list[Document]]:
        out: dict[str, list[Document]] = defaultdict(list)
        for spi in self.valid("ServiceProviderInterface"):
            for service in spi.fact("spec", "services") or []:
                out[str(service)].append(spi)
        return out

    def spis_of(self, service: str) -> list[Document]:
        return list(self._spis.get(service, ()))

    @cached_property
    def _dependents(self) -> dict[str, list[Document]]:
        out: dict[str, list[Document]] = defaultdict(list)
        for svc in self.valid("ServiceModel"):
            for dep in svc.fact("spec", "dependsOn") or []:
                out[str(dep)].append(svc)
        return out

    def dependents_of(self, service: str) -> list[Document]:
        """The services that depend on ``service`` directly."""
        return list(self._dependents.get(service, ()))

    # --- parties ----------------------------------------------------------------------------

    @cached_property
    def _members(self) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}
        for party in self.valid("Party"):
            members = party.fact("spec", "members") or []
            out[party.name] = frozenset(str(m) for m in members if isinstance(m, str))
        return out

    def members_of(self, party: str) -> frozenset[str]:
        """The members a Party lists (people or other parties), empty when it lists none."""
        return self._members.get(party, frozenset())

    def is_member(self, who: str, party: str) -> bool:
        """``who`` is ``party`` itself or one of its members."""
        return who == party or who in self.members_of(party)

    @cached_property
    def _listed_by(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for party, members in self._members.items():
            for member in members:
                out[member].append(party)
        return out

    def parties_listing(self, who: str) -> list[str]:
        """The Parties that list ``who`` among their members, in catalog order."""
        return list(self._listed_by.get(who, ()))

    def is_party_or_member(self, who: str) -> bool:
        """``who`` is a Party of the catalog or a member some Party lists."""
        return self.get("Party", who) is not None or who in self._listed_by

    def party_and_member_names(self) -> list[str]:
        """Every Party's name and every member a Party lists (for did-you-mean hints)."""
        return sorted(
            {name for kind, name in self.by_ref if kind == "Party"} | set(self._listed_by)
        )

    def parties_of(self, who: str) -> list[str]:
        """The Parties ``who`` is or is a member of (every ``party`` with ``is_member(who,
        party)``): ``who`` itself first when it is one, then those listing it."""
        own = [who] if who in self._members else []
        return own + [p for p in self.parties_listing(who) if p != who]

    @cached_property
    def _party_types(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for party in self.valid("Party"):
            kind = party.fact("spec", "type")
            if isinstance(kind, str):
                out[party.name] = kind
        return out

    def party_type(self, name: str) -> str | None:
        """The ``spec.type`` of Party ``name`` (team, board, supplier, customer), None when it
        is not a valid Party."""
        return self._party_types.get(name)
