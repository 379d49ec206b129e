"""``spo new service`` on a real temporary git repository."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.gitrepo import git, make_repo, write
from tests.helpers import run_spo


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    return make_repo(in_tmp)


def test_proposal_validates_clean_and_passes_diff(repo: Path) -> None:
    r = run_spo("new", "service", "instant-loans", "--owner", "team-a")
    assert r.exit_code == 0, r.stderr
    assert "created catalog/portfolio/instant-loans.yaml" in r.stdout
    v = run_spo("validate")
    assert v.exit_code == 0, v.stdout
    assert "no problems found" in v.stdout
    d = run_spo("diff", "main", "--detailed-exitcode")
    assert d.exit_code == 2, d.stdout
    assert "3 added" in d.stdout
    assert "status: draft" in (repo / "catalog/slas/instant-loans-retail.yaml").read_text()


def test_branch_commits_the_proposal(repo: Path) -> None:
    r = run_spo("new", "service", "instant-loans", "--owner", "team-a", "--branch")
    assert r.exit_code == 0, r.stderr
    assert git(repo, "branch", "--show-current").strip() == "proposal/instant-loans"
    assert git(repo, "status", "--porcelain") == ""
    files = git(repo, "show", "--name-only", "--format=%s", "HEAD").split()
    assert "catalog/services/instant-loans.yaml" in files
    assert run_spo("diff", "main", "HEAD").exit_code == 0


def test_refusals(repo: Path) -> None:
    assert run_spo("new", "service", "Bad_Name", "--owner", "team-a").exit_code == 64
    r = run_spo("new", "service", "payments", "--owner", "team-a")
    assert r.exit_code == 1
    assert "ServiceModel 'payments' already exists" in r.stderr
    assert run_spo("new", "service", "x", "--owner", "retail").exit_code == 1


def test_repo_templates_override_the_package(repo: Path) -> None:
    custom = (
        Path(__file__).parents[2] / "spo_gitops/templates/new/service/service.yaml.j2"
    ).read_text()
    write(repo, {"templates/new/service/service.yaml.j2": custom.replace("tier: 3", "tier: 4")})
    assert run_spo("new", "service", "kiosk", "--owner", "team-b").exit_code == 0
    assert "tier: 4" in (repo / "catalog/services/kiosk.yaml").read_text()


def test_a_proposal_in_the_reference_catalog_passes_every_pull_request_check(
    in_tmp: Path,
) -> None:
    """What catalog-ci runs on the pull request: validate (shipped policies included), diff,
    CODEOWNERS and the policy tests."""
    for name in ("catalog", "policies", "blueprints", ".github"):
        shutil.copytree(REPO / name, in_tmp / name)
    shutil.copy(REPO / "spo.yaml", in_tmp / "spo.yaml")
    git(in_tmp, "init", "-q", "-b", "main")
    git(in_tmp, "config", "user.name", "Test")
    git(in_tmp, "config", "user.email", "test@example.com")
    git(in_tmp, "add", "-A")
    git(in_tmp, "commit", "-q", "-m", "catalog")

    r = run_spo("new", "service", "instant-loans", "--owner", "team-digital", "--branch")
    assert r.exit_code == 0, r.stderr
    assert "updated .github/CODEOWNERS" in r.stdout
    assert git(in_tmp, "status", "--porcelain") == ""  # everything is in the commit
    validated = run_spo("validate", "--strict")
    assert validated.exit_code == 0, validated.stdout
    assert run_spo("codeowners", "--check").exit_code == 0
    assert run_spo("diff", "main", "HEAD").exit_code == 0
    assert "@northwind/team-digital" in (in_tmp / ".github" / "CODEOWNERS").read_text()
