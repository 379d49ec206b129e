"""What a catalog file's name or a link's target can do to the reports: nothing. A name with a
line break starts no workflow command; a link out of the repository is never quoted; a file
named like a glob owns only itself in CODEOWNERS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spo_gitops.report.text import Sources
from tests.gitrepo import make_repo, service, write
from tests.helpers import run_spo

EVIL = "catalog/x\n::error file=spo.yaml,line=1::pwned\n.yaml"
SECRET = "postgresql://spo:hunter2-fake-secret@db.internal/state"


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    return make_repo(in_tmp)


def test_a_file_name_with_a_line_break_starts_no_workflow_command(repo: Path) -> None:
    write(repo, {EVIL: "apiVersion: spo/v1\nkind: Nonsense\nmetadata: {name: x}\n"})
    text = run_spo("validate")
    assert text.exit_code == 1
    assert "Nonsense" in text.stdout  # the finding is there, on the evil file
    assert not [line for line in text.stdout.splitlines() if line.lstrip(" ").startswith("::")]

    github = run_spo("validate", "--format", "github")
    assert github.exit_code == 1
    commands = [line for line in github.stdout.splitlines() if line.startswith("::")]
    findings = json.loads(run_spo("validate", "--format", "json").stdout)["findings"]
    assert len(commands) == len(findings) >= 1  # one command per finding, none injected
    assert not any("pwned" in line and "%0A" not in line for line in commands)


def test_a_message_with_a_line_break_cannot_start_a_command_in_the_text_report(
    repo: Path,
) -> None:
    write(repo, {"catalog/bad.yaml": "apiVersion: spo/v1\nkind: 'Nope\n::error ::x'\n"})
    text = run_spo("validate")
    assert text.exit_code == 1
    assert not [line for line in text.stdout.splitlines() if line.startswith("::")]


def test_a_link_out_of_the_repository_is_reported_and_never_quoted(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "environ.yaml"
    outside.write_text(f"STATE_DSN: {SECRET}\nkind: [\n")
    (repo / "catalog" / "leak.yaml").symlink_to(outside)
    for fmt in ("text", "github", "json", "sarif", "junit"):
        result = run_spo("validate", "--format", fmt)
        assert result.exit_code == 1, fmt
        assert "hunter2" not in result.stdout + result.stderr, fmt
        assert "SPO112" in result.stdout, fmt


def test_the_text_report_quotes_no_line_of_a_file_outside_the_repository(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "environ.yaml"
    outside.write_text(f"{SECRET}\n")
    (repo / "catalog" / "leak.yaml").symlink_to(outside)
    (repo / "catalog" / "inside.yaml").symlink_to(repo / "catalog" / "parties.yaml")
    sources = Sources(repo)
    assert sources.line("catalog/leak.yaml", 1) is None
    assert sources.line("catalog/inside.yaml", 1) == "apiVersion: spo/v1"


def test_codeowners_escapes_glob_characters_in_file_names(repo: Path) -> None:
    owned = service("globbed").replace("owner: team-a", "owner: team-b")
    write(repo, {"catalog/services/*.yaml": owned, "catalog/services/a?[b].yaml": owned})
    result = run_spo("codeowners")
    assert result.exit_code == 0, result.stderr
    lines = (repo / ".github" / "CODEOWNERS").read_text().splitlines()
    assert "/catalog/services/\\*.yaml @acme/team-b" in lines
    assert "/catalog/services/a\\?\\[b].yaml @acme/team-b" in lines
    assert "/catalog/services/payments.yaml @acme/team-a" in lines
