"""``spo diff`` and ``spo bump`` on real temporary git repositories."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from spo_gitops.config import load_project
from spo_gitops.git import no_git_env, repository
from spo_gitops.review.compare import compare
from tests.gitrepo import ALL_STAGES_TO_LIVE, commit, entry, make_repo, service, sla, write
from tests.helpers import run_spo


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    return make_repo(in_tmp)


def codes(root: Path, base: str = "main", head: str | None = None) -> list[str]:
    return [d.code for d in compare(load_project(root), base, head).findings.items]


def test_no_change_exits_0_even_with_detailed_exitcode(repo: Path) -> None:
    r = run_spo("diff", "main", "--detailed-exitcode")
    assert r.exit_code == 0, r.stderr
    assert "no changes" in r.stdout


def test_bumped_change_exits_2_with_detailed_exitcode(repo: Path) -> None:
    write(repo, {"catalog/services/payments.yaml": service("payments", "1.1.0", ("banking",))})
    r = run_spo("diff", "main", "--detailed-exitcode")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert '/spec/dependsOn: + ["banking"]' in r.stdout
    assert run_spo("diff", "main").exit_code == 0


def test_unbumped_change_fails_at_the_version(repo: Path) -> None:
    write(repo, {"catalog/services/payments.yaml": service("payments", depends=("banking",))})
    head = commit(repo, "change without bump")
    result = compare(load_project(repo), "main~1", head)
    (finding,) = result.findings.items
    assert finding.code == "SPO601"
    assert (finding.file, finding.line, finding.column) == ("catalog/services/payments.yaml", 5, 12)
    r = run_spo("diff", "HEAD~1", "HEAD")
    assert r.exit_code == 1
    assert "SPO601" in r.stdout


def test_version_lowered(repo: Path) -> None:
    write(repo, {"catalog/services/payments.yaml": service("payments", "0.9.0")})
    assert codes(repo) == ["SPO602"]


def test_loosened_sla_needs_a_major_bump(repo: Path) -> None:
    write(
        repo,
        {"catalog/slas/payments-retail.yaml": sla("payments-retail", "payments", 99.5, "1.1.0")},
    )
    assert codes(repo) == ["SPO603"]
    write(
        repo,
        {"catalog/slas/payments-retail.yaml": sla("payments-retail", "payments", 99.5, "2.0.0")},
    )
    assert codes(repo) == []
    write(
        repo,
        {"catalog/slas/payments-retail.yaml": sla("payments-retail", "payments", 99.99, "1.1.0")},
    )
    assert codes(repo) == []  # tightened: not breaking


def test_stage_skip_fails(repo: Path) -> None:
    write(
        repo,
        {
            "catalog/services/new.yaml": service("new"),
            "catalog/portfolio/new.yaml": entry("new", "proposed"),
        },
    )
    commit(repo, "proposal")
    write(repo, {"catalog/portfolio/new.yaml": entry("new", "approved", "1.1.0", ("approved",))})
    result = compare(load_project(repo), "HEAD")
    (finding,) = result.findings.items
    assert finding.code == "SPO604"
    assert "skipped: defined, analyzed" in (finding.hint or "")
    write(repo, {"catalog/portfolio/new.yaml": entry("new", "defined", "1.1.0")})
    assert codes(repo, "HEAD") == []


def test_new_entry_must_start_proposed(repo: Path) -> None:
    write(
        repo,
        {
            "catalog/services/new.yaml": service("new"),
            "catalog/portfolio/new.yaml": entry("new", "defined"),
        },
    )
    assert codes(repo) == ["SPO607"]


def test_missing_approval_fails(repo: Path) -> None:
    write(
        repo,
        {
            "catalog/services/new.yaml": service("new"),
            "catalog/portfolio/new.yaml": entry("new", "analyzed"),
        },
    )
    write(
        repo,
        {"spo.yaml": "apiVersion: spo/v1\nkind: Project\nlifecycle: {initialStages: [analyzed]}\n"},
    )
    commit(repo, "analyzed proposal")
    write(repo, {"catalog/portfolio/new.yaml": entry("new", "approved", "1.1.0")})
    assert codes(repo, "HEAD") == ["SPO605"]
    write(repo, {"catalog/portfolio/new.yaml": entry("new", "approved", "1.1.0", ("approved",))})
    assert codes(repo, "HEAD") == []


def test_retiring_a_depended_on_service_fails_naming_the_users(repo: Path) -> None:
    stages = (*ALL_STAGES_TO_LIVE, "retiring")
    write(repo, {"catalog/portfolio/payments.yaml": entry("payments", "retiring", "2.0.0", stages)})
    result = compare(load_project(repo), "main")
    (finding,) = result.findings.items
    assert finding.code == "SPO606"
    assert finding.message.endswith("live services depend on it: banking")


def test_configured_transitions(repo: Path) -> None:
    write(
        repo,
        {
            "spo.yaml": "apiVersion: spo/v1\nkind: Project\nlifecycle:\n"
            "  transitions: {live: [retired]}\n  approvalRequired: []\n"
        },
    )
    write(repo, {"catalog/portfolio/banking.yaml": entry("banking", "retired", "2.0.0")})
    assert codes(repo) == []


def test_renamed_entity_and_impact(repo: Path) -> None:
    (repo / "catalog/slas/payments-retail.yaml").unlink()
    write(repo, {"catalog/slas/payments-retail-2026.yaml": sla("payments-retail-2026", "payments")})
    result = compare(load_project(repo), "main")
    (change,) = result.changes
    assert (change.status, change.old_name, change.name) == (
        "renamed",
        "payments-retail",
        "payments-retail-2026",
    )
    write(repo, {"catalog/services/payments.yaml": service("payments", "1.0.1")})
    result = compare(load_project(repo), "main")
    assert result.impact["ServiceModel:payments"] == [
        "PortfolioEntry:payments",
        "ServiceLevelAgreement:payments-retail-2026",
        "ServiceModel:banking",
    ]


def test_markdown_and_json(repo: Path) -> None:
    write(repo, {"catalog/services/payments.yaml": service("payments", "1.1.0", ("banking",))})
    md = run_spo("diff", "main", "--format", "markdown").stdout
    assert md.startswith("## Catalog changes")
    assert '| `/spec/dependsOn` | (none) | ["banking"] |' in md
    assert "impact: `PortfolioEntry:payments`" in md
    data = json.loads(run_spo("diff", "main", "--format", "json").stdout)
    assert data["changes"][0]["fields"][0]["pointer"] == "/metadata/version"


def test_unknown_revision_is_an_error(repo: Path) -> None:
    r = run_spo("diff", "no-such-branch")
    assert r.exit_code == 1
    assert "unknown revision 'no-such-branch'" in r.stderr


def test_inherited_git_variables_are_ignored(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path_factory.mktemp("other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / "index"))
    assert "GIT_DIR" not in no_git_env()
    with repository(repo) as r:
        assert r.root == repo.resolve()
        assert r.resolve("main")
    assert os.environ["GIT_DIR"] == str(other / ".git")


def test_bump_keeps_comments_and_layout(repo: Path) -> None:
    path = repo / "catalog/services/payments.yaml"
    before = path.read_text()
    r = run_spo("bump", "payments", "--kind", "ServiceModel", "--part", "major")
    assert r.exit_code == 0, r.stderr
    assert "1.0.0 -> 2.0.0" in r.stdout
    assert path.read_text() == before.replace("version: 1.0.0  # keep", "version: 2.0.0  # keep")
    assert run_spo("bump", "payments").exit_code == 64  # a ServiceModel and a PortfolioEntry
    assert run_spo("bump", "nothing").exit_code == 1
