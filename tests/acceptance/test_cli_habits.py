"""Command-line habits: colour switches, -q, did-you-mean, --config, an example in every
--help, spo show, --target checks, list changes element by element, a declined apply."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from spo_gitops.cli.main import COMMANDS, cli, main
from tests.gitrepo import commit, git
from tests.helpers import Result, run_spo

APPROVALS = "".join(
    f"\n    - {{stage: {s}, approver: team-a, date: 2026-01-0{i + 1}, reference: B-{i}}}"
    for i, s in enumerate(["approved", "chartered", "designed", "transitioning", "live"])
)
CATALOG = f"""\
apiVersion: spo/v1
kind: Party
metadata: {{name: team-a, version: 1.0.0}}
spec: {{type: team}}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: payments, version: 1.0.0, owner: team-a}}
spec:
  type: business
  tier: 2
  outcomes:
    - {{name: Customers pay, measure: payments per day}}
  capabilities: [payments]
  provisioning:
    - {{provider: cmdb, type: service, properties: {{tier: 2, owner: team-a, dependsOn: DEPS}}}}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: payments, version: 1.0.0, owner: team-a}}
spec:
  service: payments
  stage: live
  approvals:{APPROVALS}
"""
LONG = [f"upstream-service-number-{i:02d}" for i in range(12)]


def write_catalog(root: Path, deps: list[str]) -> None:
    (root / "catalog" / "all.yaml").write_text(CATALOG.replace("DEPS", json.dumps(deps)))
    commit(root, "catalog")


def committed_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding CATALOG (one service with a long dependency list), the working
    directory of the test."""
    root = tmp_path / "p"
    (root / "catalog").mkdir(parents=True)
    (root / "spo.yaml").write_text("catalog:\n  paths: [catalog]\n")
    (root / ".gitignore").write_text(".spo/\n*.json\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    write_catalog(root, LONG)
    monkeypatch.chdir(root)
    monkeypatch.delenv("SPO_PLAN_SIGNING_KEY", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return committed_project(tmp_path, monkeypatch)


def applied(project: Path) -> None:
    assert run_spo("plan", "-o", "p.json").exit_code == 0
    assert run_spo("apply", "p.json", "--auto-approve").exit_code == 0


def test_a_list_element_removed_is_shown_however_long_the_list(project: Path) -> None:
    applied(project)
    write_catalog(project, [d for d in LONG if d != "upstream-service-number-07"])
    result = run_spo("plan")
    assert result.exit_code == 0, result.stderr
    assert '        - [7] "upstream-service-number-07"' in result.stdout.splitlines()
    assert "+ [" not in result.stdout  # nothing was added


ESC = "\x1b["


def test_colour_follows_force_color_no_color_and_the_flag(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ESC not in run_spo("plan").stdout  # not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = run_spo("plan").stdout
    assert f"{ESC}32m+ cmdb.service.payments" in coloured
    assert ESC not in run_spo("plan", "--no-color").stdout
    assert ESC not in run_spo("--no-color", "plan").stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert ESC not in run_spo("plan").stdout


def test_every_command_takes_no_color_and_shows_an_example() -> None:
    ctx = click.Context(cli)

    def walk(command: click.Command, path: list[str]) -> list[list[str]]:
        out = [path]
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                out += walk(sub, [*path, name])
        return out

    paths = []
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        paths += walk(command, [name])
    for path in paths:
        result = run_spo(*path, "--help")
        assert result.exit_code == 0, path
        assert "--no-color" in result.stdout, path
        assert "Example: spo " in result.stdout, path


def test_a_mistyped_command_suggests_the_right_one() -> None:
    result = run_spo("valdate")
    assert result.exit_code == 64
    assert "No such command 'valdate'. Did you mean 'validate'?" in result.stderr


def test_config_naming_a_missing_file_is_a_usage_error(in_tmp: Path) -> None:
    result = run_spo("--config", "nope.yaml", "validate")
    assert result.exit_code == 64
    assert "'nope.yaml' does not exist" in result.stderr
    assert result.stdout == ""


def test_quiet_leaves_out_what_was_written(project: Path) -> None:
    assert "spo: wrote the plan to p.json" in run_spo("plan", "-o", "p.json").stderr
    assert run_spo("-q", "validate", "--format", "json", "-o", "r.json").stderr == ""


def test_verbose_tells_what_was_checked_and_planned(project: Path) -> None:
    # the catalog: 3 documents in 1 file; 1 cmdb resource; nothing applied yet: 1 action
    plain = run_spo("validate", "--format", "json", "-o", "r.json")
    assert "document(s)" not in plain.stderr
    loud = run_spo("-v", "validate", "--format", "json", "-o", "r.json")
    assert "spo: 3 document(s) in 1 file(s) checked in " in loud.stderr
    assert "; 0 finding(s)" in loud.stderr
    # -v and -q cancel out
    assert "document(s)" not in run_spo("-v", "-q", "validate", "-f", "json", "-o", "r.json").stderr
    planned = run_spo("-v", "plan", "-o", "p.json")
    assert "spo: 1 desired resource(s) compiled in " in planned.stderr
    assert "spo: planned 1 action(s) in " in planned.stderr
    changed = run_spo("-v", "validate", "--changed-since", "HEAD")
    assert "spo: cache (.spo/index.bin): " in changed.stderr


def test_show_prints_a_saved_plan_and_refuses_an_altered_one(project: Path) -> None:
    assert run_spo("plan", "-o", "p.json").exit_code == 0
    text = run_spo("show", "p.json")
    assert text.exit_code == 0
    assert "+ cmdb.service.payments" in text.stdout
    assert run_spo("show", "p.json", "--format", "markdown").stdout.startswith("### spo plan")
    shown = json.loads(run_spo("show", "p.json", "--format", "json").stdout)
    assert shown == json.loads(Path("p.json").read_text())
    document = json.loads(Path("p.json").read_text())
    document["actions"][0]["after"]["tier"] = 1
    Path("p.json").write_text(json.dumps(document))
    altered = run_spo("show", "p.json")
    assert altered.exit_code == 1
    assert altered.stdout == ""
    assert run_spo("show", "missing.json").exit_code == 1


def test_an_unknown_target_is_an_error_with_a_suggestion(project: Path) -> None:
    result = run_spo("plan", "--target", "cmdb.service.paymnts")
    assert result.exit_code == 64
    assert "hint: did you mean cmdb.service.payments?" in result.stderr
    assert result.stdout == ""
    assert run_spo("plan", "--target", "cmdb.service.payments").exit_code == 0


def test_a_stale_plan_is_refused_before_it_is_printed(project: Path) -> None:
    assert run_spo("plan", "-o", "p.json").exit_code == 0
    write_catalog(project, LONG[:3])  # a new commit: the plan is stale
    result = run_spo("apply", "p.json", "--auto-approve")
    assert result.exit_code == 1
    assert "cmdb.service.payments" not in result.stderr
    assert "the plan was made at commit" in result.stderr


def run_with_a_terminal(monkeypatch: pytest.MonkeyPatch, answer: str, *args: str) -> Result:
    monkeypatch.setattr("spo_gitops.cli.plan_cmd.interactive", lambda: True)
    runner = CliRunner()
    with runner.isolation(input=answer) as streams:
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        return Result(code, streams[0].getvalue().decode(), streams[1].getvalue().decode())


def test_a_declined_apply_is_cancelled_not_interrupted(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_spo("plan", "-o", "p.json").exit_code == 0
    result = run_with_a_terminal(monkeypatch, "n\n", "apply", "p.json")
    assert result.exit_code == 1
    assert "spo: error: Apply cancelled." in result.stderr
    assert "interrupted" not in result.stderr
    assert run_spo("state", "list").stdout == "no resources\n"


@pytest.mark.parametrize(
    "command",
    [["portfolio", "report"], ["capacity", "forecast"], ["sla", "rules"]],
)
def test_a_report_on_a_catalog_with_errors_warns_and_goes_on(
    project: Path, command: list[str]
) -> None:
    (project / "catalog" / "broken.yaml").write_text("apiVersion: spo/v1\nkind: Nothing\n")
    result = run_spo(*command)
    assert result.exit_code == 0, result.stderr
    assert "spo: warning: the catalog has errors (spo validate)" in result.stderr
    clean = project / "catalog" / "broken.yaml"
    clean.unlink()
    assert "warning" not in run_spo(*command).stderr
