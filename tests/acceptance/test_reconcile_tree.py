"""spo reconcile applies exactly the approved commit's tree: files git ignores (or that a tracked
link leads to), and catalog paths outside the repository, are content nobody reviewed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from spo_gitops.testing.catalogs import service_document, write_provisioned_catalog
from tests.gitrepo import commit, git
from tests.helpers import run_spo

NO_APPROVALS = "lifecycle: {approvalRequired: []}\n"  # the services go live without a trail


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_provisioned_catalog(root, 2, extras=(), config=NO_APPROVALS)
    (root / ".gitignore").write_text(".spo/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    commit(root, "catalog")
    monkeypatch.chdir(root)
    return root


def services(root: Path) -> list[str]:
    db = root / ".spo" / "cmdb.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return [n for (n,) in conn.execute("SELECT name FROM ci ORDER BY name")]


def refused(*needles: str) -> None:
    result = run_spo("reconcile", "--auto-approve")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_an_approved_clean_tree_reconciles(repo: Path) -> None:
    result = run_spo("reconcile", "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert services(repo) == ["svc-0000", "svc-0001"]


def test_a_git_ignored_catalog_file_is_refused(repo: Path) -> None:
    (repo / ".gitignore").write_text(".spo/\ncatalog/local-*.yaml\n")
    commit(repo, "ignore local files")
    (repo / "catalog" / "local-extra.yaml").write_text(service_document(7))
    assert git(repo, "status", "--porcelain") == ""  # git status shows nothing
    refused("commit", "does not hold", "'catalog/local-extra.yaml'")
    assert services(repo) == []


def test_a_tracked_link_to_an_ignored_file_is_refused(repo: Path) -> None:
    (repo / ".gitignore").write_text(".spo/\nprivate/\n")
    (repo / "private").mkdir()
    (repo / "private" / "svc.yaml").write_text(service_document(8))
    (repo / "catalog" / "linked.yaml").symlink_to("../private/svc.yaml")
    commit(repo, "a link to a file of the runner")
    refused("'catalog/linked.yaml'")
    assert services(repo) == []


def test_an_ignored_blueprint_is_refused(repo: Path) -> None:
    (repo / ".gitignore").write_text(".spo/\nblueprints/\n")
    commit(repo, "ignore blueprints")
    (repo / "blueprints").mkdir()
    (repo / "blueprints" / "Party.yaml.j2").write_text(
        "- {provider: cmdb, type: party, properties: {type: team, title: x}}\n"
    )
    refused("'blueprints/Party.yaml.j2'")
    assert services(repo) == []


def test_catalog_paths_outside_the_repository_are_refused(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "svc.yaml").write_text(service_document(9))
    config = repo / "spo.yaml"
    config.write_text(config.read_text() + "catalog: {paths: [catalog, ../elsewhere]}\n")
    commit(repo, "read a folder of the runner")
    refused("outside the repository", "../elsewhere")
    assert services(repo) == []


def test_a_blueprint_folder_outside_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "blueprints"
    outside.mkdir()
    (outside / "Party.yaml.j2").write_text(
        "- {provider: cmdb, type: party, properties: {type: team, title: x}}\n"
    )
    config = repo / "spo.yaml"
    config.write_text(config.read_text() + f"reconcile: {{blueprints: {outside}}}\n")
    commit(repo, "blueprints of the runner")
    refused("spo.yaml reads from outside the repository", str(outside))
    assert services(repo) == []


def test_allow_unapproved_is_the_way_for_local_experiments(repo: Path) -> None:
    (repo / ".gitignore").write_text(".spo/\ncatalog/local-*.yaml\n")
    commit(repo, "ignore local files")
    (repo / "catalog" / "local-extra.yaml").write_text(service_document(7))
    result = run_spo("reconcile", "--auto-approve", "--allow-unapproved")
    assert result.exit_code == 0, result.stderr
    assert "svc-0007" in services(repo)
