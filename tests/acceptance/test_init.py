"""``spo init`` out of the box, and ``spo new service --branch`` from a dirty tree."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from spo_gitops import __version__
from tests.gitrepo import git, make_repo, service, write
from tests.helpers import run_spo


@pytest.fixture
def identity() -> None:
    """A git user for commits (the home folder of the tests is empty)."""
    Path(os.environ["HOME"], ".gitconfig").write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
    )


def test_init_refuses_a_non_empty_directory_unless_forced(in_tmp: Path, identity: None) -> None:
    (in_tmp / "README.md").write_text("my notes\n")
    refused = run_spo("init")
    assert refused.exit_code == 64
    assert refused.stderr.splitlines()[0] == "spo: usage error: . is not empty (README.md)"
    assert (in_tmp / "README.md").read_text() == "my notes\n"
    assert sorted(p.name for p in in_tmp.iterdir()) == ["README.md"]
    assert run_spo("init", "--force").exit_code == 0
    assert (in_tmp / "spo.yaml").is_file()


def test_init_in_a_clone_of_an_empty_repository_is_fine(in_tmp: Path, identity: None) -> None:
    git(in_tmp, "init", "-q", "-b", "main")
    result = run_spo("init")
    assert result.exit_code == 0, result.stderr
    assert "created a git repository" not in result.stdout  # it is inside one already
    assert git(in_tmp, "rev-list", "--all") == ""  # and commits nothing of its own


def test_init_creates_the_repository_and_a_first_commit_that_passes_ci(
    in_tmp: Path, identity: None
) -> None:
    result = run_spo("init", "cat", "--org", "globex", "--team", "team-ops")
    assert result.exit_code == 0, result.stderr
    root = in_tmp / "cat"
    assert git(root, "branch", "--show-current").strip() == "main"
    assert git(root, "log", "--format=%s").strip() == "A new service catalog (spo init)"
    assert git(root, "status", "--porcelain") == ""  # everything written is committed
    # what the workflow runs, on a clean clone of that commit
    clone = in_tmp / "clone"
    git(in_tmp, "clone", "-q", str(root), str(clone))
    for args in (
        ["validate", "--strict"],
        ["codeowners", "--check"],
        ["schema", "export", "--check"],
        ["policy", "test"],
    ):
        checked = run_spo("-C", str(clone), *args)
        assert checked.exit_code == 0, (args, checked.stdout, checked.stderr)
    policy = run_spo("-C", str(clone), "policy", "test")
    assert "2 cases, 2 passed, 0 failed" in policy.stdout


def test_init_without_a_git_identity_stages_the_files(in_tmp: Path) -> None:
    result = run_spo("init")
    assert result.exit_code == 0, result.stderr
    assert "staged but not committed" in result.stdout
    assert "A  spo.yaml" in git(in_tmp, "status", "--porcelain").splitlines()


def test_the_workflow_pins_this_release_of_the_action(in_tmp: Path, identity: None) -> None:
    assert run_spo("init").exit_code == 0
    workflow = (in_tmp / ".github/workflows/catalog-ci.yml").read_text()
    pins = re.findall(r"uses: spo-gitops/spo-gitops@(\S+)", workflow)
    assert pins == [f"v{__version__}"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)  # a release, not a development version


def test_new_service_branch_from_a_dirty_tree_commits_only_its_files(
    in_tmp: Path, identity: None
) -> None:
    repo = make_repo(in_tmp)
    assert run_spo("codeowners").exit_code == 0
    git(repo, "add", ".github/CODEOWNERS")
    git(repo, "commit", "-q", "-m", "owners")
    # uncommitted work in progress: a new file and an edited one
    write(
        repo,
        {
            "catalog/services/draft.yaml": service("draft"),
            "catalog/services/payments.yaml": service("payments", version="1.1.0"),
        },
    )
    result = run_spo("new", "service", "instant-loans", "--owner", "team-a", "--branch")
    assert result.exit_code == 0, result.stderr
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(committed) == [
        ".github/CODEOWNERS",
        "catalog/portfolio/instant-loans.yaml",
        "catalog/services/instant-loans.yaml",
        "catalog/slas/instant-loans-retail.yaml",
    ]
    clone = in_tmp / "clone"
    git(in_tmp, "clone", "-q", "--branch", "proposal/instant-loans", str(repo), str(clone))
    checked = run_spo("-C", str(clone), "codeowners", "--check")
    assert checked.exit_code == 0, checked.stderr
    # the work in progress is still there, uncommitted
    status = git(repo, "status", "--porcelain").splitlines()
    assert "?? catalog/services/draft.yaml" in status
    assert " M catalog/services/payments.yaml" in status
