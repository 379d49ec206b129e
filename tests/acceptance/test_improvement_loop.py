"""The continual improvement loop of the README, end to end in a real git repository:
metrics pulled from an incident export -> report -> --require-plans fails -> the plan is added
in a pull request -> passes. The MTTR figures are the README's, worked out by hand from the
incidents in examples/improvement-loop/incidents.csv."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from spo_gitops.git import no_git_env
from tests.conftest import REPO
from tests.helpers import run_spo

LOOP = REPO / "examples" / "improvement-loop"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=SLM", "-c", "user.email=slm@example.com", *args],
        cwd=cwd,
        env=no_git_env(),
        check=True,
        capture_output=True,
    )


def test_the_loop(in_tmp: Path) -> None:
    repo = in_tmp / "catalog-repo"
    shutil.copytree(LOOP, repo, ignore=shutil.ignore_patterns("improvement-plan.yaml"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "catalog")

    pulled = run_spo(
        "-C", str(repo), "metrics", "pull", "--incidents", "incidents.csv", "-o", "metrics.csv"
    )
    assert pulled.exit_code == 0, pulled.stderr
    rows = (repo / "metrics.csv").read_text().splitlines()
    # Application Support: Q1 5 + 6 + 7 + 8 h / 4 = 6.5; Q2 4 + 4.5 + 5 + 5.7 h / 4 = 4.8
    # Network Infrastructure: Q1 2.8 + 3.4 h / 2 = 3.1; Q2 2.5 + 3.3 h / 2 = 2.9
    assert rows[-4:] == [
        "application-support,mttr,,2026-Q1,6.5,h",
        "application-support,mttr,,2026-Q2,4.8,h",
        "network-infrastructure,mttr,,2026-Q1,3.1,h",
        "network-infrastructure,mttr,,2026-Q2,2.9,h",
    ]

    report = run_spo("-C", str(repo), "sla", "report", "--metrics", "metrics.csv")
    assert report.exit_code == 0
    assert "network-infrastructure-business mttr: 2.9 h against 2.5 in 2026-Q2" in report.stdout
    assert "application-support-business mttr" not in report.stdout.split("sla  ")[0]

    gate = run_spo("-C", str(repo), "sla", "report", "--metrics", "metrics.csv", "--require-plans")
    assert gate.exit_code == 1
    assert "catalog/slas.yaml:23:7: error SPO825 network-infrastructure has no open" in gate.stderr
    assert "network-infrastructure-business mttr has NO open improvement plan" in gate.stdout
    assert "application-support" not in gate.stderr  # missed once, then met: no plan needed

    # the pull request that adds the plan
    _git(repo, "checkout", "-q", "-b", "sip/network-mttr")
    shutil.copy(LOOP / "improvement-plan.yaml", repo / "catalog" / "improvement-plan.yaml")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Improvement plan: proactive network monitoring")
    checked = run_spo("-C", str(repo), "validate", "--strict")
    assert checked.exit_code == 0, checked.stdout
    diff = run_spo("-C", str(repo), "diff", "main", "HEAD")
    assert diff.exit_code == 0, diff.stdout + diff.stderr
    assert "network-mttr-2026" in diff.stdout

    passed = run_spo(
        "-C", str(repo), "sla", "report", "--metrics", "metrics.csv", "--require-plans"
    )
    assert passed.exit_code == 0, passed.stderr
    assert "network-infrastructure-business mttr is covered by network-mttr-2026" in passed.stdout


@pytest.mark.parametrize(
    ("plan", "code", "line"),
    [
        ("    - {title: t, owner: team-network, due: 2026-07-01, metric: mttr}", "SPO820", 13),
        ("    - {title: t, owner: team-nobody, due: 2027-07-01}", "SPO302", 13),
    ],
)
def test_bad_plans_are_located(in_tmp: Path, plan: str, code: str, line: int) -> None:
    repo = in_tmp / "r"
    shutil.copytree(LOOP, repo, ignore=shutil.ignore_patterns("improvement-plan.yaml"))
    (repo / "catalog" / "plan.yaml").write_text(
        "apiVersion: spo/v1\n"
        "kind: ImprovementPlan\n"
        "metadata: {name: p, version: 1.0.0, owner: team-network}\n"
        "spec:\n"
        "  service: network-infrastructure\n"
        "  opened: 2026-07-06\n"
        "  trigger:\n"
        "    objectives:\n"
        "      - {sla: network-infrastructure-business, metric: mttr}\n"
        "    feedback: [slow]\n"
        "  rootCause: late detection\n"
        "  actions:\n"
        f"{plan}\n"
    )
    result = run_spo("-C", str(repo), "validate")
    assert result.exit_code == 1
    assert f"catalog/plan.yaml:{line}:" in result.stdout
    assert f"error {code}" in result.stdout


PLAN = """\
apiVersion: spo/v1
kind: ImprovementPlan
metadata: {name: p, version: 1.0.0, owner: team-network}
spec:
  service: network-infrastructure
  status: STATUS
  opened: 2026-07-06
  trigger:
    objectives:
      - {sla: application-support-business, metric: mttr}
      - {metric: availability}
  actions:
    - {title: monitoring, owner: team-network, due: 2026-09-30, status: in-progress}
    - {title: runbook, owner: team-network, due: 2026-08-30, status: done}
  reviews: [2026-09-01, 2026-08-01]
"""


def test_plan_checks_against_the_catalog_and_the_calendar(in_tmp: Path) -> None:
    from spo_gitops.catalog.validate import validate
    from spo_gitops.config import load_project

    repo = in_tmp / "r"
    shutil.copytree(LOOP, repo, ignore=shutil.ignore_patterns("improvement-plan.yaml"))
    (repo / "catalog" / "plan.yaml").write_text(PLAN.replace("STATUS", "closed"))
    result = validate(load_project(repo), today=dt.date(2026, 10, 1))
    got = sorted((d.line, d.code, d.severity) for d in result.findings.items)
    assert got == [
        (6, "SPO821", "error"),  # closed without a closure
        (10, "SPO823", "error"),  # that SLA is Application Support's
        (11, "SPO823", "error"),  # no SLA of the service has availability
        (15, "SPO820", "error"),  # the second review comes before the first
    ]
    (repo / "catalog" / "plan.yaml").write_text(PLAN.replace("STATUS", "open"))
    result = validate(load_project(repo), today=dt.date(2026, 10, 1))
    overdue = [d for d in result.findings.items if d.code == "SPO824"]
    # only the open action: due 2026-09-30, one day before "today"; the done one is not late
    assert [(d.line, d.severity) for d in overdue] == [(13, "warning")]
    assert "(1 day ago)" in overdue[0].message


def test_reference_catalog_has_a_plan_for_every_flagged_service() -> None:
    sample = "examples/metrics/northwind-2026.csv"
    result = run_spo("-C", str(REPO), "sla", "report", "--metrics", sample, "--require-plans")
    assert result.exit_code == 0, result.stderr
    assert "covered by open-banking-availability-2026" in result.stdout
    assert "covered by service-desk-first-contact-2026" in result.stdout


def test_a_plan_whose_metric_is_back_on_target_can_close(in_tmp: Path) -> None:
    repo = in_tmp / "r"
    shutil.copytree(LOOP, repo)
    shutil.copy(LOOP / "improvement-plan.yaml", repo / "catalog" / "improvement-plan.yaml")
    (repo / "catalog" / "app-plan.yaml").write_text(
        "apiVersion: spo/v1\n"
        "kind: ImprovementPlan\n"
        "metadata: {name: app-mttr, version: 1.0.0, owner: team-application-support}\n"
        "spec:\n"
        "  service: application-support\n"
        "  opened: 2026-04-02\n"
        "  trigger:\n"
        "    objectives: [{metric: mttr, periods: [2026-Q1]}]\n"
        "  actions:\n"
        "    - {title: runbooks, owner: team-application-support, due: 2026-05-30, status: done}\n"
    )
    assert (
        run_spo(
            "-C", str(repo), "metrics", "pull", "--incidents", "incidents.csv", "-o", "m.csv"
        ).exit_code
        == 0
    )
    # one period on target is enough with --consecutive 1: Q2 4.8 h <= 5.0 h; the network's
    # Q2 (2.9 h) still misses, and its plan covers it
    r = run_spo(
        "-C",
        str(repo),
        "sla",
        "report",
        "--metrics",
        "m.csv",
        "--require-plans",
        "--consecutive",
        "1",
    )
    assert r.exit_code == 0, r.stderr
    assert (
        "catalog/app-plan.yaml:3:18: info SPO826 improvement plan app-mttr can close: "
        "application-support-business mttr met its target in 1 consecutive period (2026-Q2)"
    ) in r.stderr
    assert "app-mttr (application-support) can close" in r.stdout
    # two periods are not there yet: Q1 missed
    r2 = run_spo("-C", str(repo), "sla", "report", "--metrics", "m.csv", "--require-plans")
    assert "can close" not in r2.stdout + r2.stderr


def test_pull_writes_the_good_rows_and_exits_1_on_bad_ones(in_tmp: Path) -> None:
    sample = REPO / "examples" / "metrics" / "incidents-servicenow.csv"
    r = run_spo(
        "-C",
        str(REPO),
        "metrics",
        "pull",
        "--profile",
        "servicenow",
        "--incidents",
        str(sample),
        "-o",
        str(in_tmp / "m.csv"),
    )
    assert r.exit_code == 1
    assert "examples/metrics/incidents-servicenow.csv:9:1: error SPO832 unknown service" in r.stderr
    assert "Traceback" not in r.stderr
    rows = (in_tmp / "m.csv").read_text().splitlines()
    assert "service-desk,mttr,P2,2026-03,4.5,h" in rows


def test_a_trigger_risk_is_a_reference_to_a_risk(in_tmp: Path) -> None:
    repo = in_tmp / "r"
    shutil.copytree(LOOP, repo)
    plan = (LOOP / "improvement-plan.yaml").read_text()
    trigger = "  trigger:\n"
    assert trigger in plan
    (repo / "catalog" / "plan.yaml").write_text(
        plan.replace(trigger, trigger + "    risk: branch-outage-risk\n")
    )
    result = run_spo("-C", str(repo), "validate")
    assert result.exit_code == 1
    assert "catalog/plan.yaml:13:11: error SPO302" in result.stdout
    assert "branch-outage-risk" in result.stdout


def test_the_plan_review_in_the_json_report(in_tmp: Path) -> None:
    import json

    repo = in_tmp / "r"
    shutil.copytree(LOOP, repo, ignore=shutil.ignore_patterns("improvement-plan.yaml"))
    assert (
        run_spo(
            "-C", str(repo), "metrics", "pull", "--incidents", "incidents.csv", "-o", "m.csv"
        ).exit_code
        == 0
    )
    r = run_spo(
        "-C", str(repo), "sla", "report", "--metrics", "m.csv", "--require-plans", "-f", "json"
    )
    assert r.exit_code == 1
    review = json.loads(r.stdout)["plan_review"]
    assert review == {
        "ok": False,
        "covered": [],
        "missing": [
            {
                "service": "network-infrastructure",
                "sla": "network-infrastructure-business",
                "objective": "mttr",
                "periods": ["2026-Q1", "2026-Q2"],
            }
        ],
        "can_close": [],
    }
