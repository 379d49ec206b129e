"""``spo codeowners [--check]``: .github/CODEOWNERS from metadata.owner and Party handles."""

from __future__ import annotations

from pathlib import Path

import pytest

from spo_gitops.review.codeowners import HEADER
from tests.conftest import REPO
from tests.gitrepo import make_repo, service, write
from tests.helpers import run_spo


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    return make_repo(in_tmp)


def lines(root: Path) -> list[str]:
    text = (root / ".github/CODEOWNERS").read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    return text[len(HEADER) :].splitlines()


def test_one_line_per_catalog_file_with_its_owners_handles(repo: Path) -> None:
    r = run_spo("codeowners")
    assert r.exit_code == 0, r.stderr
    assert "wrote .github/CODEOWNERS" in r.stderr
    got = lines(repo)
    assert "/catalog/services/payments.yaml @acme/team-a" in got
    assert "/catalog/slas/payments-retail.yaml @acme/team-a" in got
    # the teams own their own records; the customer (no owner) gets no line of its own
    assert "/catalog/parties.yaml @acme/team-a @acme/team-b" in got
    assert len(got) == 6
    assert not list(repo.glob(".github/.*.tmp"))


def test_a_file_with_several_owners_lists_them_all(repo: Path) -> None:
    text = service("x").replace("owner: team-a", "owner: team-b")
    write(repo, {"catalog/services/payments.yaml": service("payments") + "---\n" + text})
    run_spo("codeowners")
    assert "/catalog/services/payments.yaml @acme/team-a @acme/team-b" in lines(repo)


def test_check_fails_on_a_stale_file_and_says_how_to_fix_it(repo: Path) -> None:
    assert run_spo("codeowners", "--check").exit_code == 1  # no file yet
    run_spo("codeowners")
    r = run_spo("codeowners", "--check")
    assert r.exit_code == 0, r.stderr
    assert "up to date" in r.stdout
    write(repo, {"catalog/services/banking.yaml": service("banking").replace("team-a", "team-b")})
    before = (repo / ".github/CODEOWNERS").read_text()
    r = run_spo("codeowners", "--check")
    assert r.exit_code == 1
    assert "is stale" in r.stderr and "run `spo codeowners`" in r.stderr
    assert (repo / ".github/CODEOWNERS").read_text() == before  # --check writes nothing
    assert run_spo("codeowners").exit_code == 0
    assert "/catalog/services/banking.yaml @acme/team-b" in lines(repo)


def test_an_owner_without_a_handle_is_a_warning_with_a_hint(repo: Path) -> None:
    parties = (repo / "catalog/parties.yaml").read_text()
    write(repo, {"catalog/parties.yaml": parties.replace(', handle: "@acme/team-a"', "")})
    r = run_spo("codeowners")
    assert r.exit_code == 0
    assert "warning SPO608 owner 'team-a' has no spec.handle" in r.stderr
    assert 'add spec.handle (e.g. "@your-org/team-a") to Party team-a' in r.stderr
    assert not any(line.startswith("/catalog/services/") for line in lines(repo))


def test_paths_with_spaces_are_escaped(repo: Path) -> None:
    write(repo, {"catalog/my services/x.yaml": service("x")})
    run_spo("codeowners")
    assert r"/catalog/my\ services/x.yaml @acme/team-a" in lines(repo)


def test_the_reference_catalogs_codeowners_is_up_to_date() -> None:
    r = run_spo("-C", str(REPO), "codeowners", "--check")
    assert r.exit_code == 0, r.stderr
