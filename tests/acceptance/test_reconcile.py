"""plan, apply, reconcile and drift on the reference catalog, in a real git repository, against
the real embedded providers (a SQLite CMDB and a folder of files) and the SQLite state."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.gitrepo import commit, git
from tests.helpers import run_spo


@pytest.fixture
def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Northwind reference catalog, committed on main in a fresh repository."""
    root = tmp_path / "bank"
    root.mkdir()
    for name in ("catalog", "policies", "blueprints"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    (root / ".gitignore").write_text(".spo/\n*.plan.json\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    commit(root, "catalog")
    monkeypatch.chdir(root)
    monkeypatch.delenv("SPO_PLAN_SIGNING_KEY", raising=False)
    return root


def cmdb_rows(root: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(root / ".spo" / "cmdb.db") as db:
        return db.execute("SELECT type, name FROM ci ORDER BY type, name").fetchall()


def plan_to(path: str, *args: str) -> dict[str, object]:
    result = run_spo("plan", "-o", path, *args)
    assert result.exit_code == 0, result.stderr
    document: dict[str, object] = json.loads(Path(path).read_text())
    return document


def test_plan_apply_converges(bank: Path) -> None:
    document = plan_to("first.plan.json")
    summary = document["summary"]
    assert isinstance(summary, dict)
    assert summary["create"] > 100
    assert summary["update"] == summary["delete"] == 0

    applied = run_spo("apply", "first.plan.json", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert f"{summary['create']} succeeded, 0 failed, 0 skipped" in applied.stdout

    rows = cmdb_rows(bank)
    assert ("service", "internet-banking") in rows
    assert ("sla", "internet-banking-retail") in rows
    assert len(rows) == len(set(rows))  # exactly one object per address
    runbook = bank / ".spo" / "artifacts" / "runbooks" / "payments-hub.md"
    assert runbook.read_text().startswith("# Payments Hub: major incident runbook")

    again = run_spo("plan", "--detailed-exitcode")
    assert again.exit_code == 0
    assert "No changes" in again.stdout


def test_only_provisioned_stages_are_provisioned(bank: Path) -> None:
    plan_to("p.plan.json")
    assert run_spo("apply", "p.plan.json", "--auto-approve").exit_code == 0
    services = {name for kind, name in cmdb_rows(bank) if kind == "service"}
    assert "loan-origination" not in services  # proposed
    assert "sms-banking" not in services  # retired
    assert "teller-legacy" in services  # retiring: still running


def test_detailed_exitcode_is_2_with_changes(bank: Path) -> None:
    assert run_spo("plan", "--detailed-exitcode").exit_code == 2
    assert run_spo("plan").exit_code == 0


def test_a_plan_applied_once_is_stale_afterwards(bank: Path) -> None:
    plan_to("p.plan.json")
    assert run_spo("apply", "p.plan.json", "--auto-approve").exit_code == 0
    again = run_spo("apply", "p.plan.json", "--auto-approve")
    assert again.exit_code == 1
    assert "this plan was applied already" in again.stderr


def test_an_altered_plan_is_refused(bank: Path) -> None:
    document = plan_to("p.plan.json")
    actions = document["actions"]
    assert isinstance(actions, list)
    actions[0]["after"]["title"] = "Tampered"
    Path("p.plan.json").write_text(json.dumps(document))
    result = run_spo("apply", "p.plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert "altered" in result.stderr
    assert cmdb_rows(bank) == []


def test_signed_plans(bank: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan_to("unsigned.plan.json")
    monkeypatch.setenv("SPO_PLAN_SIGNING_KEY", "k1")
    refused = run_spo("apply", "unsigned.plan.json", "--auto-approve")
    assert refused.exit_code == 1
    assert "not signed" in refused.stderr
    plan_to("signed.plan.json")
    monkeypatch.setenv("SPO_PLAN_SIGNING_KEY", "k2")
    wrong = run_spo("apply", "signed.plan.json", "--auto-approve")
    assert wrong.exit_code == 1
    assert "signature does not match" in wrong.stderr
    monkeypatch.setenv("SPO_PLAN_SIGNING_KEY", "k1")
    assert run_spo("apply", "signed.plan.json", "--auto-approve").exit_code == 0


def test_a_plan_for_another_commit_is_refused(bank: Path) -> None:
    plan_to("p.plan.json")
    sla = bank / "catalog" / "slas" / "internet-banking-retail.yaml"
    sla.write_text(sla.read_text() + "# reviewed\n")
    commit(bank, "a later commit")
    result = run_spo("apply", "p.plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert "the plan was made at commit" in result.stderr


def test_reconcile_refuses_unapproved_commits_and_dirty_trees(bank: Path) -> None:
    git(bank, "switch", "-q", "-c", "feature")
    svc = bank / "catalog" / "pools" / "engineering-fte.yaml"
    svc.write_text(svc.read_text() + "# note\n")
    dirty = run_spo("reconcile", "--auto-approve")
    assert dirty.exit_code == 1
    assert "uncommitted changes: 'catalog/pools/engineering-fte.yaml'" in dirty.stderr
    commit(bank, "on a branch")
    unapproved = run_spo("reconcile", "--auto-approve")
    assert unapproved.exit_code == 1
    assert "not reachable from the approved ref 'main'" in unapproved.stderr
    assert cmdb_rows(bank) == []
    experiment = run_spo("reconcile", "--auto-approve", "--allow-unapproved")
    assert experiment.exit_code == 0, experiment.stderr


def test_reconcile_on_main_applies_and_converges(bank: Path) -> None:
    first = run_spo("reconcile", "--auto-approve")
    assert first.exit_code == 0, first.stderr
    assert "Apply complete" in first.stdout
    second = run_spo("reconcile", "--auto-approve")
    assert second.exit_code == 0
    assert "No changes" in second.stdout


def test_drift_is_reported_field_by_field_and_healed(bank: Path) -> None:
    assert run_spo("reconcile", "--auto-approve").exit_code == 0
    with sqlite3.connect(bank / ".spo" / "cmdb.db") as db:
        row = db.execute("SELECT id, properties FROM ci WHERE name = 'payments-hub'").fetchone()
        props = json.loads(row[1])
        props["tier"] = 3
        db.execute("UPDATE ci SET properties = ? WHERE id = ?", (json.dumps(props), row[0]))
    (bank / ".spo" / "artifacts" / "runbooks" / "service-desk.md").unlink()

    drift = run_spo("drift")
    assert drift.exit_code == 2
    assert "cmdb.service.payments-hub /tier: 1 -> 3" in drift.stdout
    assert "files.file.service-desk-runbook: deleted at the provider" in drift.stdout

    healed = run_spo("reconcile", "--auto-approve")
    assert healed.exit_code == 0
    assert run_spo("drift").exit_code == 0
    assert (bank / ".spo" / "artifacts" / "runbooks" / "service-desk.md").exists()


def test_removed_resources_are_kept_unless_pruning(bank: Path) -> None:
    assert run_spo("reconcile", "--auto-approve").exit_code == 0
    entry = bank / "catalog" / "portfolio" / "teller-legacy.yaml"
    text = entry.read_text().replace("stage: retiring", "stage: retired")
    entry.write_text(text)
    commit(bank, "teller-legacy retired")

    kept = run_spo("plan")
    assert "kept because pruning is off" in kept.stdout
    assert "cmdb.service.teller-legacy" in kept.stdout
    assert "0 to delete" in kept.stdout

    pruned = run_spo("reconcile", "--auto-approve", "--prune")
    assert pruned.exit_code == 0, pruned.stderr
    assert ("service", "teller-legacy") not in cmdb_rows(bank)


def test_an_invalid_catalog_plans_nothing(bank: Path) -> None:
    sla = bank / "catalog" / "slas" / "internet-banking-retail.yaml"
    sla.write_text(sla.read_text().replace("unit: percent", "unit: h", 1))
    result = run_spo("plan")
    assert result.exit_code == 1
    assert "SPO408" in result.stderr
    assert "catalog has 1 error" in result.stderr


def test_two_applies_at_once_one_fails_with_the_holders_details(bank: Path) -> None:
    import subprocess
    import sys

    plan_to("p.plan.json")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from spo_gitops.state.sqlite import SqliteState\n"
            "state = SqliteState(Path('.spo/state.db'))\n"
            "state.lock('apply', reason='a long apply')\n"
            "print('locked', flush=True)\n"
            "time.sleep(30)\n",
        ],
        cwd=bank,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        blocked = run_spo("apply", "p.plan.json", "--auto-approve")
        assert blocked.exit_code == 1
        assert "state is locked" in blocked.stderr
        assert f"(pid {holder.pid})" in blocked.stderr
        assert "a long apply" in blocked.stderr
        assert cmdb_rows(bank) == []
    finally:
        holder.kill()
        holder.communicate(timeout=10)
    after = run_spo("apply", "p.plan.json", "--auto-approve")
    assert after.exit_code == 0, after.stderr  # the dead holder's lock is taken over
