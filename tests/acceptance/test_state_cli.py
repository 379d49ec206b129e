"""``spo state list|show|history|unlock`` on a project with a SQLite state file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from spo_gitops.state.base import ResourceState
from spo_gitops.state.sqlite import SqliteState
from tests.helpers import run_spo

SPO_YAML = "apiVersion: spo/v1\nkind: Project\n"


@pytest.fixture
def project(in_tmp: Path) -> Path:
    (in_tmp / "spo.yaml").write_text(SPO_YAML)
    return in_tmp


@pytest.fixture
def state(project: Path) -> Iterator[SqliteState]:
    """Two resources and two applies, the second one interrupted."""
    s = SqliteState(project / ".spo" / "state.db")
    lock = s.lock("apply")
    first = s.journal_begin(lock, plan="sha256:p1", commit="0123456789abcdef" * 2, who="ci@runner")
    s.journal_action(first, "cmdb.service.payments", "create", "started")
    s.put(
        lock,
        ResourceState(
            "cmdb.service.payments",
            "cmdb",
            "service",
            "payments",
            "svc-1",
            {"tier": 1, "owner": "team-digital", "tags": ["pci"]},
            "h1",
            entity="ServiceModel:payments",
            updated="2026-03-01T10:00:00.000Z",
            depends_on=("cmdb.party.team-digital",),
        ),
    )
    s.journal_action(first, "cmdb.service.payments", "create", "succeeded")
    s.put(lock, ResourceState("files.doc.x", "files", "doc", "x", "x.md", {}, "h2"))
    s.journal_end(first, "succeeded")
    second = s.journal_begin(lock, plan="sha256:p2", commit="fedcba98", who="me@laptop")
    s.journal_action(second, "files.doc.x", "update", "started")
    s.release(lock)
    yield s
    s.close()


def test_a_missing_state_is_empty_not_an_error(project: Path) -> None:
    listing = run_spo("state", "list")
    assert (listing.exit_code, listing.stdout.strip()) == (0, "no resources")
    data = json.loads(run_spo("state", "list", "--format", "json").stdout)
    assert data == {"format_version": 1, "lineage": None, "serial": 0, "resources": []}
    assert run_spo("state", "history").stdout.strip() == "no applies"
    assert json.loads(run_spo("state", "history", "--format", "json").stdout) == []
    shown = run_spo("state", "show", "cmdb.service.x")
    assert shown.exit_code == 1 and "no resource cmdb.service.x" in shown.stderr
    assert not (project / ".spo").exists()  # reading does not create the file


def test_list_text_is_aligned_and_json_has_every_field(state: SqliteState) -> None:
    result = run_spo("state", "list")
    assert result.exit_code == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ADDRESS", "ID", "ENTITY", "UPDATED"]
    assert rows[0].split() == [
        "cmdb.service.payments",
        "svc-1",
        "ServiceModel:payments",
        "2026-03-01T10:00:00.000Z",
    ]
    assert rows[1].split()[:3] == ["files.doc.x", "x.md", "-"]
    assert header.index("ID") == rows[0].index("svc-1") == rows[1].index("x.md")
    data = json.loads(run_spo("state", "list", "--format", "json").stdout)
    assert data["serial"] == 2 and data["lineage"] == state.snapshot().lineage
    assert data["resources"][0]["properties"] == {
        "tier": 1,
        "owner": "team-digital",
        "tags": ["pci"],
    }


def test_show_prints_all_fields_with_properties(state: SqliteState) -> None:
    result = run_spo("state", "show", "cmdb.service.payments")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for line in (
        "address:    cmdb.service.payments",
        "id:         svc-1",
        "protected:  false",
        "depends_on: cmdb.party.team-digital",
    ):
        assert line in out.splitlines()
    assert "properties:\n  owner: team-digital\n  tags:\n  - pci\n  tier: 1\n" in out
    data = json.loads(run_spo("state", "show", "files.doc.x", "--format", "json").stdout)
    assert (data["id"], data["entity"], data["properties"]) == ("x.md", None, {})
    assert data["depends_on"] == []
    missing = run_spo("state", "show", "nope")
    assert missing.exit_code == 1 and "spo state list" in missing.stderr


def test_history_counts_actions_per_phase(state: SqliteState) -> None:
    result = run_spo("state", "history")
    assert result.exit_code == 0, result.stderr
    header, newest, oldest = result.stdout.splitlines()
    assert header.split() == ["APPLY", "STARTED", "COMMIT", "WHO", "OUTCOME", "ACTIONS"]
    assert "fedcba98" in newest and "running" in newest and newest.endswith("1 started")
    assert "0123456789ab " in oldest and "ci@runner" in oldest
    assert oldest.endswith("1 started, 1 succeeded")
    assert len(run_spo("state", "history", "--limit", "1").stdout.splitlines()) == 2
    data = json.loads(run_spo("state", "history", "--format", "json").stdout)
    assert [d["outcome"] for d in data] == ["running", "succeeded"]
    assert data[1]["phases"] == {"started": 1, "succeeded": 1}
    assert data[1]["actions"][0]["address"] == "cmdb.service.payments"
    assert run_spo("state", "history", "--limit", "0").exit_code == 64


def test_unlock_removes_the_lock_with_that_id(state: SqliteState) -> None:
    lock = state.lock("apply", reason="nightly")
    wrong = run_spo("state", "unlock", "not-the-id")
    assert wrong.exit_code == 1
    assert "no lock with id not-the-id" in wrong.stderr and lock.id in wrong.stderr
    result = run_spo("state", "unlock", lock.id)
    assert result.exit_code == 0, result.stderr
    assert f"removed lock {lock.id}" in result.stdout and "nightly" in result.stdout
    assert state.current_lock() is None
    again = run_spo("state", "unlock", lock.id)
    assert again.exit_code == 1 and "the state is unlocked" in again.stderr


def test_the_state_path_comes_from_spo_yaml(project: Path) -> None:
    (project / "spo.yaml").write_text(SPO_YAML + "state:\n  path: var/my-state.db\n")
    s = SqliteState(project / "var" / "my-state.db")
    lock = s.lock("apply")
    s.put(lock, ResourceState("files.doc.y", "files", "doc", "y", "y.md", {}, "h"))
    s.close()
    listing = run_spo("state", "list")
    assert listing.exit_code == 0 and "files.doc.y" in listing.stdout


def test_a_corrupt_state_file_is_a_message_not_a_traceback(project: Path) -> None:
    (project / ".spo").mkdir()
    (project / ".spo" / "state.db").write_bytes(b"garbage, not SQLite" * 100)
    result = run_spo("state", "list")
    assert result.exit_code == 1
    assert "spo: error: state file" in result.stderr and "state.db" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
