"""Planning is pure: data-driven cases of {desired, state, observed, expected_actions}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.plan import plan
from spo_gitops.providers.base import Observed
from spo_gitops.reconcile import type_lookup
from spo_gitops.resources import DesiredResource
from spo_gitops.state.base import ResourceState, Snapshot
from tests.conftest import REPO

CASES = sorted((REPO / "tests" / "fixtures" / "plan").glob("*.json"))


def _desired(raw: dict[str, Any]) -> DesiredResource:
    return DesiredResource(
        raw["provider"],
        raw["type"],
        raw["name"],
        raw["properties"],
        depends_on=tuple(raw.get("depends_on", ())),
    )


def _state(raw: dict[str, Any]) -> ResourceState:
    return ResourceState(**{**raw, "depends_on": tuple(raw.get("depends_on", ()))})


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_plan_case(path: Path) -> None:
    case = json.loads(path.read_text())
    state = Snapshot("lineage-1", 7, {r["address"]: _state(r) for r in case["state"]})
    observed = case["observed"]
    seen = (
        None
        if observed is None
        else {
            addr: None if props is None else Observed(f"id-{addr}", addr, props)
            for addr, props in observed.items()
        }
    )
    result = plan(
        [_desired(r) for r in case["desired"]],
        state,
        seen,
        types=type_lookup(),
        commit="abc",
        prune=case.get("prune", False),
        targets=case.get("targets", ()),
    )
    assert [[a.address, a.action] for a in result.actions] == case["expected_actions"]
    assert (result.lineage, result.serial) == ("lineage-1", 7)
    if "expected_changes" in case:
        got = {a.address: [[c.path, c.before, c.after] for c in a.changes] for a in result.actions}
        for addr, changes in case["expected_changes"].items():
            assert got[addr] == changes
    if "expected_drift" in case:
        assert [[d.address, d.missing] for d in result.drift] == case["expected_drift"]
    assert result.orphans == case.get("expected_orphans", result.orphans)
    assert result.kept == case.get("expected_kept", result.kept)


def test_there_are_cases() -> None:
    assert len(CASES) >= 10
