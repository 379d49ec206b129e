"""Partitioned reconcile on the SQLite state: the partitions cover every resource exactly once,
and a partition's plan goes stale only when its own resources change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spo_gitops.config import load_project
from spo_gitops.provision.partition import parse_partition
from spo_gitops.provision.reconcile import StalePlan, apply_plan, hold_lock, make_plan
from spo_gitops.state.base import ResourceState
from spo_gitops.testing.catalogs import write_provisioned_catalog
from tests.helpers import run_spo

# the generated portfolio entries carry no approval trail (SPO416): not what these tests are about
UNAPPROVED_OK = "lifecycle: {approvalRequired: []}\n"


def write_catalog(root: Path, services: int, prefix: str = "svc", extra: str = "") -> None:
    """``services`` services with a domain label, each provisioning a cmdb service and its
    sla (2 resources)."""
    write_provisioned_catalog(
        root, services, prefix=prefix, labels=True, config=UNAPPROVED_OK + extra
    )


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_catalog(tmp_path, 60)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _addresses(root: Path, key: str | None) -> list[str]:
    project = load_project(root)
    plan, _ = make_plan(project, partition=parse_partition(key) if key else None)
    return [a.address for a in plan.actions]


def test_shards_cover_every_resource_exactly_once(project_dir: Path) -> None:
    full = _addresses(project_dir, None)
    shards = [_addresses(project_dir, f"shard:{i}/4") for i in range(4)]
    union = [a for shard in shards for a in shard]
    assert len(full) == 120 and sorted(union) == sorted(full)  # disjoint, and nothing missing
    assert all(shards)
    by_provider = _addresses(project_dir, "provider:cmdb")
    assert by_provider == full and _addresses(project_dir, "provider:files") == []


def test_label_partitions_follow_the_source_entity(project_dir: Path) -> None:
    payments = _addresses(project_dir, "label:domain=payments")
    lending = _addresses(project_dir, "label:domain=lending")
    assert len(payments) == 2 * 20 and len(lending) == 2 * 40
    assert "cmdb.sla.svc-0000-retail" in payments and "cmdb.service.svc-0001" in lending


@pytest.mark.parametrize("key", ["shard:4/4", "shard:x", "zone:eu", "label:domain"])
def test_bad_partition_keys_are_usage_errors(project_dir: Path, key: str) -> None:
    result = run_spo("reconcile", "--partition", key, "--auto-approve", "--allow-unapproved")
    assert result.exit_code == 64, result.stderr
    assert "partition" in result.stderr


def test_a_partition_plan_is_stale_only_when_its_own_resources_change(project_dir: Path) -> None:
    project = load_project(project_dir)
    a, b = parse_partition("shard:0/2"), parse_partition("shard:1/2")
    with hold_lock(project, "reconcile", partition=a) as held_a:
        plan_a, want = make_plan(project, held=held_a)
        with hold_lock(project, "reconcile", partition=b) as held_b:  # another runner
            plan_b, want_b = make_plan(project, held=held_b)
            assert apply_plan(project, plan_b, held=held_b, want=want_b).ok
        # the serial moved, but none of partition A's resources: A's plan still applies
        assert held_a.state.snapshot().serial > plan_a.serial
        report = apply_plan(project, plan_a, held=held_a, want=want)
        assert report.ok and len(report.results) == len(plan_a.changes())

    with hold_lock(project, "reconcile", partition=a) as held_a:
        plan_a, want = make_plan(project, held=held_a)
        assert not plan_a.has_changes
        mine = next(
            r
            for r in held_a.state.snapshot().resources.values()
            if a.covers(r.address, r.entity, lambda _: {})
        )
        # a write to one of A's resources behind the plan's back (e.g. after a forced unlock)
        held_a.state.put(held_a.lock, ResourceState(**{**mine.__dict__, "hash": "changed"}))
        with pytest.raises(StalePlan, match="partition shard:0/2 changed"):
            apply_plan(project, plan_a, held=held_a, want=want)


def test_reconcile_by_partitions_converges(project_dir: Path) -> None:
    for i in range(3):
        result = run_spo(
            "reconcile", "--partition", f"shard:{i}/3", "--auto-approve", "--allow-unapproved"
        )
        assert result.exit_code == 0, result.stderr
    again = run_spo("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr


def test_saved_partition_plans_apply_under_their_own_lock(project_dir: Path) -> None:
    assert run_spo("plan", "--partition", "shard:0/2", "-o", "a.plan.json").exit_code == 0
    assert run_spo("plan", "--partition", "shard:1/2", "-o", "b.plan.json").exit_code == 0
    saved = json.loads((project_dir / "a.plan.json").read_text())
    assert saved["state"]["partition"] == "shard:0/2"

    assert run_spo("apply", "b.plan.json", "--auto-approve").exit_code == 0
    # partition B moved the serial, not partition A's resources: A's plan still applies
    applied = run_spo("apply", "a.plan.json", "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    # now A's plan ran to the end: applying it again says so
    again = run_spo("apply", "a.plan.json", "--auto-approve")
    assert again.exit_code == 1
    assert "this plan was applied already" in again.stderr
    assert run_spo("plan", "--detailed-exitcode").exit_code == 0  # both halves converged


def _interrupt_after_first_action(root: Path, plan_file: str) -> str:
    """What a runner killed after its first action leaves behind: the object at the provider,
    the state write, a journal still 'running'."""
    from spo_gitops.providers import registry
    from spo_gitops.provision import planfile
    from spo_gitops.provision.resources import properties_hash
    from spo_gitops.state import open_state

    project = load_project(root)
    saved = planfile.loads((root / plan_file).read_text())
    first = saved.changes()[0]
    state = open_state(project)
    lock = state.lock("apply", plan=saved.digest, scope=saved.partition or "global")
    apply_id = state.journal_begin(lock, plan=saved.digest, commit="", who="killed")
    state.journal_action(apply_id, first.address, first.action, "started")
    cmdb = registry.configure(project, ["cmdb"])["cmdb"]
    assert first.after is not None
    made = cmdb.create(first.type, first.name, first.after)
    cmdb.close()
    state.put(
        lock,
        ResourceState(
            first.address,
            "cmdb",
            first.type,
            first.name,
            made.id,
            dict(first.after),
            properties_hash(first.after),
        ),
    )
    state.journal_action(apply_id, first.address, first.action, "succeeded")
    state.release(lock)  # the process died: the OS lets go of its lock
    state.close()
    return first.address


def test_an_interrupted_partition_apply_resumes(project_dir: Path) -> None:
    assert run_spo("plan", "--partition", "shard:0/2", "-o", "a.plan.json").exit_code == 0
    total = len(json.loads((project_dir / "a.plan.json").read_text())["actions"])
    _interrupt_after_first_action(project_dir, "a.plan.json")
    resumed = run_spo("apply", "a.plan.json", "--auto-approve")
    assert resumed.exit_code == 0, resumed.stderr
    assert f"(resumed an interrupted apply): {total} succeeded" in resumed.stdout
    assert run_spo("plan", "--partition", "shard:0/2", "--detailed-exitcode").exit_code == 0


def test_no_resume_when_another_apply_touched_the_partition(project_dir: Path) -> None:
    from spo_gitops.state import open_state

    assert run_spo("plan", "--partition", "shard:0/2", "-o", "a.plan.json").exit_code == 0
    touched = _interrupt_after_first_action(project_dir, "a.plan.json")
    state = open_state(load_project(project_dir))
    lock = state.lock("apply", scope="shard:0/2")
    later = state.journal_begin(lock, plan="another", commit="", who="another runner")
    state.journal_action(later, touched, "update", "succeeded")
    state.journal_end(later, "succeeded")
    state.release(lock)
    state.close()
    refused = run_spo("apply", "a.plan.json", "--auto-approve")
    assert refused.exit_code == 1
    assert "resources of partition shard:0/2 changed" in refused.stderr
