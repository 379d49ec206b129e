"""spo apply checks every action of a saved plan against the catalog and the state before it runs
anything, deletes included: a plan made from an uncommitted working tree, or edited and given a
fresh digest (no signing key), cannot delete or overwrite what nobody approved."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.provision.planfile import digest_of
from spo_gitops.testing.catalogs import write_provisioned_catalog
from tests.gitrepo import commit, git
from tests.helpers import run_spo

NO_APPROVALS = "lifecycle: {approvalRequired: []}\n"  # the services go live without a trail


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three live services, one cmdb service each, applied; committed on main."""
    root = tmp_path / "p"
    root.mkdir()
    write_provisioned_catalog(root, 3, extras=(), config=NO_APPROVALS)
    (root / ".gitignore").write_text(".spo/\n*.json\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    commit(root, "catalog")
    monkeypatch.chdir(root)
    monkeypatch.delenv("SPO_PLAN_SIGNING_KEY", raising=False)
    assert run_spo("plan", "-o", "first.json").exit_code == 0
    assert run_spo("apply", "first.json", "--auto-approve").exit_code == 0
    return root


def cmdb(root: Path) -> dict[str, tuple[str, str]]:
    """name -> (id, title) of every service row, read straight from the CMDB's database."""
    with sqlite3.connect(root / ".spo" / "cmdb.db") as db:
        rows = db.execute("SELECT name, id, properties FROM ci WHERE type = 'service'").fetchall()
    return {name: (id_, json.loads(props).get("title")) for name, id_, props in rows}


def plan_document(*args: str) -> dict[str, Any]:
    result = run_spo("plan", "-o", "p.json", *args)
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(Path("p.json").read_text())
    return document


def redigest(document: dict[str, Any]) -> None:
    """What anyone who can write the plan file can do without the signing key."""
    document["digest"] = digest_of(document)
    Path("p.json").write_text(json.dumps(document))


def action(document: dict[str, Any], address: str) -> dict[str, Any]:
    [found] = [a for a in document["actions"] if a["address"] == address]
    return found


def test_a_delete_planned_from_an_uncommitted_removal_is_refused(project: Path) -> None:
    page = project / "catalog" / "svc-0001.yaml"
    saved = page.read_text()
    page.unlink()  # never committed
    document = plan_document("--prune")
    assert action(document, "cmdb.service.svc-0001")["action"] == "delete"
    page.write_text(saved)  # the working tree is the approved commit again
    before = cmdb(project)
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 1
    assert "cmdb.service.svc-0001: the plan deletes it, but the catalog still produces it" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert cmdb(project) == before


def test_a_re_digested_delete_cannot_reach_another_resources_object(project: Path) -> None:
    (project / "catalog" / "svc-0001.yaml").unlink()
    commit(project, "retire svc-0001")
    document = plan_document("--prune")
    before = cmdb(project)
    delete = action(document, "cmdb.service.svc-0001")
    assert delete["action"] == "delete" and delete["id"] == before["svc-0001"][0]
    delete["id"] = before["svc-0002"][0]  # another resource's object
    redigest(document)
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 1
    assert f"the plan deletes object {before['svc-0002'][0]!r}" in result.stderr
    assert cmdb(project) == before


def test_a_re_digested_delete_of_a_resource_the_catalog_holds_is_refused(project: Path) -> None:
    (project / "catalog" / "svc-0001.yaml").unlink()
    commit(project, "retire svc-0001")
    document = plan_document("--prune")
    before = cmdb(project)
    delete = action(document, "cmdb.service.svc-0001")
    delete.update(address="cmdb.service.svc-0002", name="svc-0002", id=before["svc-0002"][0])
    redigest(document)
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 1
    assert "svc-0002: the plan deletes it, but the catalog still produces it" in result.stderr
    assert cmdb(project) == before


def test_a_re_digested_update_cannot_overwrite_another_resources_object(project: Path) -> None:
    page = project / "catalog" / "svc-0000.yaml"
    page.write_text(page.read_text().replace("title: Service 0", "title: Renamed"))
    commit(project, "rename svc-0000")
    document = plan_document()
    before = cmdb(project)
    update = action(document, "cmdb.service.svc-0000")
    assert update["action"] == "update"
    update["id"] = before["svc-0002"][0]
    redigest(document)
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 1
    assert f"the plan updates object {before['svc-0002'][0]!r}" in result.stderr
    assert cmdb(project) == before


def test_a_re_digested_create_under_another_name_is_refused(project: Path) -> None:
    write_provisioned_catalog(project, 4, extras=(), config=NO_APPROVALS)
    commit(project, "svc-0003")
    document = plan_document()
    create = action(document, "cmdb.service.svc-0003")
    assert create["action"] == "create"
    create["name"] = "svc-0002"  # create is idempotent by name: it would adopt svc-0002
    redigest(document)
    before = cmdb(project)
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 1
    assert "svc-0003: the catalog no longer produces what the plan says" in result.stderr
    assert cmdb(project) == before


def test_a_re_digested_dependency_list_is_refused(project: Path) -> None:
    page = project / "catalog" / "svc-0000.yaml"
    page.write_text(page.read_text().replace("title: Service 0", "title: Renamed"))
    commit(project, "rename svc-0000")
    document = plan_document()
    update = action(document, "cmdb.service.svc-0000")
    update["depends_on"] = ["cmdb.service.svc-0002"]
    redigest(document)
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 1
    assert "no longer produces what the plan says" in result.stderr


def test_an_honest_prune_plan_still_applies(project: Path) -> None:
    (project / "catalog" / "svc-0001.yaml").unlink()
    commit(project, "retire svc-0001")
    plan_document("--prune")
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert sorted(cmdb(project)) == ["svc-0000", "svc-0002"]


def test_a_plan_applied_to_the_end_says_so(project: Path) -> None:
    again = run_spo("apply", "first.json", "--auto-approve")
    assert again.exit_code == 1
    assert "this plan was applied already: apply 1 finished successfully" in again.stderr
    assert "another apply ran in between" not in again.stderr
