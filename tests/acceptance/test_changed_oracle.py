"""Changed-only validation against an independent oracle.

For each change in a corpus (every kind, a policy, spo.yaml, a delete, a rename, a waiver that
expires), ``spo validate --changed-since main`` must report exactly the findings of a full run
restricted to the files the change can affect. What a change can affect is computed here without
the implementation: documents are read with PyYAML's own SafeLoader, and a file is affected when

- it changed (added, edited, or a rename's new name), or
- it mentions, anywhere, the name of an entity that changed or was deleted, or an entity
  of a changed file mentions its entities' names (references both ways, over-approximated by
  plain string matching), or
- it mentions a service that a changed portfolio entry, agreement, SPI, improvement plan or risk
  is about, or a service owned by a changed Party (those change how the service looks), or a
  service that depends on a changed one (its readiness and backing change), or
- it mentions a member that a changed Party lists, before or after (an SPI's process roles are
  held by Parties or their members, an approval is given by a board or team or a member of one),
  or
- a Policy changed (before or after the change) whose ``match.kinds`` include a kind it holds, or
- it holds a Policy with an expired waiver, or the entity such a waiver names, or
- spo.yaml changed (then every file).

The reference catalog validates clean, so every finding of the full run is caused by the change;
the oracle's set being generous cannot hide a finding the changed-only run misses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.review.changed import validate_changed
from tests.gitrepo import reference_repo

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    return reference_repo(in_tmp)


# --- the oracle ----------------------------------------------------------------------------------


def _docs(path: Path) -> list[dict[str, Any]]:
    try:
        return [d for d in yaml.safe_load_all(path.read_text("utf-8")) if isinstance(d, dict)]
    except (yaml.YAMLError, UnicodeDecodeError):
        return []


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value, value.split(":", 1)[-1]}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def _name(doc: dict[str, Any]) -> str | None:
    meta = doc.get("metadata")
    return meta.get("name") if isinstance(meta, dict) else None


FACETS = {
    "PortfolioEntry",
    "ServiceLevelAgreement",
    "ServiceProviderInterface",
    "ImprovementPlan",
    "Risk",
}


def _catalog(root: Path) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for folder in ("catalog", "policies"):
        for path in sorted((root / folder).rglob("*.y*ml")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith("policies/tests/") or any(p.startswith(".") for p in path.parts):
                continue
            out[rel] = _docs(path)
    return out


def _policy_kinds(docs: list[dict[str, Any]]) -> set[str]:
    kinds: set[str] = set()
    for d in docs:
        if d.get("kind") == "Policy":
            kinds |= set(((d.get("spec") or {}).get("match") or {}).get("kinds") or [])
    return kinds


def affected(before: dict[str, list[dict[str, Any]]], root: Path, config_changed: bool) -> set[str]:
    after = _catalog(root)
    if config_changed:
        return set(after)
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    gone = {rel for rel in before if rel not in after}
    names: set[str] = set()
    mentioned: set[str] = set()
    kinds: set[str] = set()
    for rel in changed | gone:
        for docs in (after.get(rel, []), before.get(rel, [])):
            names |= {n for n in map(_name, docs) if n}
            mentioned |= set().union(*(_strings(d) for d in docs)) if docs else set()
            kinds |= _policy_kinds(docs)
    # what a change makes a service look different: its entry, agreements, SPIs, plans, risks
    # (they name it in spec.service or spec.services), and the party that owns it
    parties: set[str] = set()
    for rel in changed | gone:
        for docs in (after.get(rel, []), before.get(rel, [])):
            for d in docs:
                spec = d.get("spec") if isinstance(d.get("spec"), dict) else {}
                if d.get("kind") in FACETS:
                    services = spec.get("services") or [spec.get("service")]
                    names |= {s for s in services if isinstance(s, str)}
                if d.get("kind") == "Party" and _name(d):
                    parties.add(str(_name(d)))
                if d.get("kind") == "Party":
                    names |= {m for m in spec.get("members") or [] if isinstance(m, str)}
    for docs in after.values():
        for d in docs:
            if (
                d.get("kind") == "ServiceModel"
                and (d.get("metadata") or {}).get("owner") in parties
            ):
                names.add(str(_name(d)))
    # a changed service changes how the services that depend on it look (readiness, backing)
    for docs in after.values():
        for d in docs:
            if (
                d.get("kind") == "ServiceModel"
                and set((d.get("spec") or {}).get("dependsOn") or []) & names
            ):
                names.add(str(_name(d)))
    out = set(changed)
    for rel, docs in after.items():
        own = {n for n in map(_name, docs) if n}
        if (
            own & mentioned
            or (set().union(*(_strings(d) for d in docs)) if docs else set()) & names
        ):
            out.add(rel)
        if any(d.get("kind") in kinds for d in docs):
            out.add(rel)
    owner_of = {f"{d.get('kind')}:{_name(d)}": rel for rel, docs in after.items() for d in docs}
    for rel, docs in after.items():
        for d in docs:
            for w in (
                (d.get("spec") or {}).get("waivers") or [] if d.get("kind") == "Policy" else []
            ):
                if dt.date.fromisoformat(str(w["expires"])) < TODAY:
                    out.add(rel)
                    if w["entity"] in owner_of:
                        out.add(owner_of[w["entity"]])
    return out


def key(d: Diagnostic) -> tuple[str, ...]:
    return tuple(
        str(v) for v in (d.file, d.line, d.code, d.message, d.entity, d.waived, d.severity)
    )


# --- the corpus ----------------------------------------------------------------------------------


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        text = path.read_text("utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), "utf-8")

    return change


def _delete(rel: str) -> Callable[[Path], None]:
    return lambda root: (root / rel).unlink()


def _rename(rel: str, new: str) -> Callable[[Path], None]:
    return lambda root: (root / rel).rename(root / new)


def _all(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        for c in changes:
            c(root)

    return change


def _spi(root: Path) -> None:
    first = sorted((root / "catalog/spis").glob("*.yaml"))[0]
    first.unlink()


def _config_change(root: Path) -> None:
    path = root / "spo.yaml"
    path.write_text(path.read_text("utf-8") + "\n# a comment is a change of spo.yaml too\n")


def _waiver_expires(root: Path) -> None:
    # a waiver that held at the base and has expired by TODAY (only its date changes)
    _edit("policies/business-case.yaml", "expires: 2027-12-31", "expires: 2026-11-01")(root)


POLICY_FILE = "policies/business-case.yaml"
FAIL_EVERYWHERE = _edit(
    POLICY_FILE,
    "has(self.spec.approvals) && self.spec.approvals.exists(a, a.stage == 'approved')\n"
    "    && has(self.spec.businessCase)",
    "false",
)

CORPUS: dict[str, tuple[Callable[[Path], None], bool]] = {
    # a Policy edited so that it fails on every portfolio entry that it matches
    "policy-fails-everywhere": (FAIL_EVERYWHERE, False),
    "waiver-removed": (
        _edit(
            POLICY_FILE,
            "    - entity: PortfolioEntry:end-user-computing\n"
            "      reason: workplace cost centre; benefits are not booked to the service\n"
            "      approver: Investment Board (IB-2025-045)\n"
            "      expires: 2027-12-31\n",
            "",
        ),
        False,
    ),
    "service-model": (_edit("catalog/services/network.yaml", "tier: 1", "tier: 9"), False),
    "service-reference-broken": (
        _edit("catalog/slas/network-branch.yaml", "service: network", "service: no-such"),
        False,
    ),
    "sla-expired": (
        _edit("catalog/slas/mobile-banking-retail.yaml", "status: active", "status: expired"),
        False,
    ),
    "party": (_edit("catalog/parties/team-data.yaml", "type: team", "type: supplier"), False),
    # a process owner taken off the team that is the Accountable of the processes he owns
    "party-member-leaves": (
        _edit("catalog/parties/team-service-management.yaml", "    - daniel.okafor\n", ""),
        False,
    ),
    # the change manager leaves the CAB: the decommissioning she approved is no evidence
    "board-member-leaves": (
        _edit("catalog/parties/boards.yaml", "    - lucy.harper\n", ""),
        False,
    ),
    # a board recorded as an outside body: its approvals are not the bank's decisions
    "board-retyped": (
        _edit("catalog/parties/boards.yaml", "type: board", "type: customer"),
        False,
    ),
    "pool-shrinks": (
        _edit("catalog/pools/service-desk-agents.yaml", "capacity: 60", "capacity: 10"),
        False,
    ),
    "portfolio-entry": (
        _edit("catalog/portfolio/network.yaml", "stage: live", "stage: retired"),
        False,
    ),
    "spi-deleted": (_spi, False),
    "delete-referenced-service": (_delete("catalog/services/network.yaml"), False),
    "rename-and-break": (
        _all(
            _rename("catalog/services/network.yaml", "catalog/services/enterprise-network.yaml"),
            _edit("catalog/services/enterprise-network.yaml", "tier: 1", "tier: 9"),
        ),
        False,
    ),
    "config-changes": (
        _all(_config_change, _edit("catalog/services/network.yaml", "tier: 1", "tier: 9")),
        True,
    ),
    "waiver-expires": (_waiver_expires, False),
}


_BASE: dict[str, set[tuple[str, ...]]] = {}


def _base_findings(repo: Path) -> set[tuple[str, ...]]:
    """The full run's findings on the unchanged reference catalog (the same for every case)."""
    if "base" not in _BASE:
        _BASE["base"] = {key(d) for d in validate(load_project(repo), today=TODAY).findings.items}
    return _BASE["base"]


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_changed_only_equals_the_full_run_on_what_the_change_affects(repo: Path, case: str) -> None:
    change, config_changed = CORPUS[case]
    before = _catalog(repo)
    base = _base_findings(repo)
    assert all(k[5] != "None" for k in base)  # the base is clean but for waived findings
    change(repo)
    full = {key(d) for d in validate(load_project(repo), today=TODAY).findings.items}
    scope = affected(before, repo, config_changed)
    caused = {k for k in full - base}
    assert caused, "the change makes the full run find something new"
    assert {k[0] for k in caused} <= scope | {"spo.yaml"}, "the oracle's scope holds them"
    changed = validate_changed(load_project(repo), "main", today=TODAY)
    got = {key(d) for d in changed.findings.items}
    assert got <= full, "nothing the full run does not find"
    assert caused <= got, "everything the change causes"
    assert {k for k in full if k[0] in {f for f in changed.files}} <= got
    assert changed.findings.has_errors == any(k[5] == "None" and k[6] == "error" for k in full)


def test_a_failing_policy_gives_as_many_errors_changed_only_as_in_a_full_run(repo: Path) -> None:
    FAIL_EVERYWHERE(repo)
    full = validate(load_project(repo), today=TODAY)
    changed = validate_changed(load_project(repo), "main", today=TODAY)
    pol006 = [key(d) for d in full.findings.items if d.code == "POL006"]
    assert len(pol006) >= 10  # every approved-or-later entry of the reference catalog
    assert sorted(key(d) for d in changed.findings.items if d.code == "POL006") == sorted(pol006)
