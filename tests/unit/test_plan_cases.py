"""Planning is pure: data-driven cases of {desired, state, observed, expected_actions}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.providers.base import Observed
from spo_gitops.provision.plan import plan
from spo_gitops.provision.reconcile import type_lookup
from spo_gitops.provision.resources import DesiredResource
from spo_gitops.state.base import ResourceState, StateSnapshot
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
    state = StateSnapshot("lineage-1", 7, {r["address"]: _state(r) for r in case["state"]})
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


def test_sensitive_properties_never_reach_the_plan_file() -> None:
    from spo_gitops.providers.base import ResourceType
    from spo_gitops.provision import planfile
    from spo_gitops.provision.resources import properties_hash

    secret_type = ResourceType("hook", {"type": "object"}, sensitive=frozenset({"token"}))

    def types(provider: str, type_: str) -> ResourceType | None:
        return secret_type

    old = {"url": "https://x", "token": "old-secret-1"}
    state = StateSnapshot(
        "l",
        1,
        {
            "p.hook.a": ResourceState(
                "p.hook.a",
                "p",
                "hook",
                "a",
                "id-a",
                {"url": "https://x", "token": "(sensitive)"},
                properties_hash(old),
            )
        },
    )
    desired = [
        DesiredResource("p", "hook", "a", {"url": "https://x", "token": "new-secret-2"}),
        DesiredResource("p", "hook", "b", {"url": "https://y", "token": "new-secret-3"}),
    ]
    result = plan(desired, state, None, types=types, commit=None)
    assert [(a.address, a.action) for a in result.actions] == [
        ("p.hook.a", "update"),
        ("p.hook.b", "create"),
    ]
    text = planfile.dumps(result)
    assert "secret" not in text
    assert result.actions[0].changes[0].path == "/token"
    assert result.actions[1].after == {"url": "https://y", "token": "(sensitive)"}
    # the hash still covers the real value, so a changed secret is an update
    assert result.actions[1].after_hash == properties_hash(dict(desired[1].properties))
