"""spo validate's portfolio checks on a small catalog (tests/portfolio_catalog.py): slipped plans,
the run budget, risks. Each expected line and number is read off the fixture by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_spo
from tests.portfolio_catalog import FILES, SPO_YAML, write_portfolio


def findings(root: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    """The findings but SPO507: the fixture's pipeline overbooks pool eng on purpose (the
    forecast's case, see test_the_fixture_validates_clean)."""
    result = run_spo("-C", str(root), "validate", "--format", "json", *extra)
    assert "Traceback" not in result.stderr
    found = json.loads(result.stdout)["findings"]
    return result.exit_code, [f for f in found if f["code"] != "SPO507"]


def codes(found: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(f["code"], f["file"], f["line"]) for f in found]


def test_the_fixture_validates_clean(tmp_path: Path) -> None:
    result = run_spo("-C", str(write_portfolio(tmp_path)), "validate", "--format", "json")
    assert result.exit_code == 0
    found = json.loads(result.stdout)["findings"]
    # only the warning that eng (10 FTE) is overbooked once the approved pipeline goes live:
    # 7 committed + gamma 2 + delta 5 + omega 2 = 16 (the forecast says from when: 2027-Q4)
    assert [(f["code"], f["file"], f["severity"]) for f in found] == [
        ("SPO507", "catalog/pools.yaml", "warning")
    ]


def test_a_planned_stage_past_due_is_a_slip_with_how_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_portfolio(tmp_path)
    # gamma: designed planned for 2027-Q1, due 2027-03-31; on 2027-05-01 that is 31 days late
    # (30 days of April + 1); transitioning (2027-Q2, due 2027-06-30) is not due yet
    monkeypatch.setenv("SPO_VALIDATION_DATE", "2027-05-01")
    code, found = findings(root)
    slips = [f for f in found if f["code"] == "SPO1001"]
    assert code == 0  # a warning
    assert [(f["file"], f["line"], f["severity"]) for f in slips] == [
        ("catalog/portfolio/gamma.yaml", 13, "warning")
    ]
    assert "slipped by 31 day(s)" in str(slips[0]["message"])
    assert "still chartered" in str(slips[0]["message"])


def test_the_validation_date_comes_from_spo_yaml(tmp_path: Path) -> None:
    root = write_portfolio(tmp_path, {"spo.yaml": SPO_YAML.replace("2026-12-01", "2027-07-01")})
    _, found = findings(root)
    # 2027-07-01: designed (due 2027-03-31) 92 days late = 30 + 31 + 30 + 1; transitioning
    # (due 2027-06-30) 1 day late
    slips = sorted(str(f["message"]) for f in found if f["code"] == "SPO1001")
    assert len(slips) == 2
    assert "designed by 2027-Q1 (due 2027-03-31) and has slipped by 92 day(s)" in slips[0]
    assert "transitioning by 2027-Q2 (due 2027-06-30) and has slipped by 1 day(s)" in slips[1]


def test_a_bad_validation_date_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPO_VALIDATION_DATE", "tomorrow")
    result = run_spo("-C", str(write_portfolio(tmp_path)), "validate")
    assert result.exit_code == 64
    assert "SPO_VALIDATION_DATE='tomorrow' is not a date" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_dates_out_of_order(tmp_path: Path) -> None:
    text = FILES["catalog/portfolio/gamma.yaml"].replace("live: 2027-Q3", "live: 2027-04")
    _, found = findings(write_portfolio(tmp_path, {"catalog/portfolio/gamma.yaml": text}))
    assert codes(found) == [("SPO1002", "catalog/portfolio/gamma.yaml", 13)]
    assert "live is planned for 2027-04, before transitioning (2027-Q2)" in str(found[0]["message"])


def test_changing_an_annual_cost_alone_breaks_the_run_budget(tmp_path: Path) -> None:
    text = FILES["catalog/portfolio/beta.yaml"].replace("annualCost: 200,", "annualCost: 250,")
    code, found = findings(write_portfolio(tmp_path, {"catalog/portfolio/beta.yaml": text}))
    assert code == 1
    assert codes(found) == [("SPO1003", "catalog/portfolio/beta.yaml", 9)]
    f = found[0]
    assert f["pointer"] == "/spec/businessCase/annualCost"
    assert (
        "annual cost 250 EUR of beta (live) disagrees with its run budget allocation of 200 EUR"
        in str(f["message"])
    )
    assert "(run 200)" in str(f["message"]) and f["hint"]


def test_a_running_service_without_a_budget_request(tmp_path: Path) -> None:
    text = FILES["catalog/services/alpha.yaml"].replace("\n    - {pool: run, quantity: 100}", "")
    _, found = findings(write_portfolio(tmp_path, {"catalog/services/alpha.yaml": text}))
    assert codes(found) == [("SPO1003", "catalog/portfolio/alpha.yaml", 9)]
    assert "allocation of 0 EUR (none)" in str(found[0]["message"])


def test_a_tier1_live_service_needs_a_reviewed_risk(tmp_path: Path) -> None:
    # r1 is alpha's only risk; without its last review date alpha has no reviewed risk
    risks = FILES["catalog/risks.yaml"].replace("last: 2026-10-01, ", "")
    code, found = findings(write_portfolio(tmp_path, {"catalog/risks.yaml": risks}))
    assert code == 1
    assert codes(found) == [("SPO1004", "catalog/services/alpha.yaml", 6)]
    assert found[0]["message"] == "tier-1 live service alpha has no reviewed risk"


def test_an_overdue_review_is_a_warning_and_closed_risks_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # r1 is due 2027-01-01: on 2027-01-31 it is 30 days overdue; r3 (closed, due 2026-01-01) is not
    monkeypatch.setenv("SPO_VALIDATION_DATE", "2027-01-31")
    code, found = findings(write_portfolio(tmp_path))
    assert code == 0
    assert codes(found) == [("SPO1006", "catalog/risks.yaml", 8)]
    assert "r1 was due on 2027-01-01 and is 30 day(s) overdue" in str(found[0]["message"])


def test_supplier_concentration_beyond_the_threshold(tmp_path: Path) -> None:
    # sup-x underpins alpha and gamma (both tier 1): 2 is more than a threshold of 1
    spo = SPO_YAML.replace("supplierConcentration: 2", "supplierConcentration: 1")
    code, found = findings(write_portfolio(tmp_path, {"spo.yaml": spo}))
    assert code == 0
    assert codes(found) == [("SPO1005", "catalog/parties.yaml", 8)]
    assert "sup-x underpins 2 tier-1 services (alpha, gamma), more than 1" in str(
        found[0]["message"]
    )


def test_risk_references_resolve(tmp_path: Path) -> None:
    risks = FILES["catalog/risks.yaml"].replace("services: [beta]", "services: [betta]")
    code, found = findings(write_portfolio(tmp_path, {"catalog/risks.yaml": risks}))
    assert code == 1
    assert ("SPO302", "catalog/risks.yaml", 21) in codes(found)


def _git(root: Path, *args: str) -> None:
    import subprocess

    from spo_gitops.git import no_git_env

    subprocess.run(["git", *args], cwd=root, env=no_git_env(), check=True, capture_output=True)


def test_changed_only_validation_reports_the_portfolio_findings(tmp_path: Path) -> None:
    root = write_portfolio(tmp_path)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Test"],
        ["config", "user.email", "test@example.com"],
        ["config", "commit.gpgsign", "false"],
        ["add", "-A"],
        ["commit", "-q", "-m", "catalog"],
    ):
        _git(root, *args)
    beta = root / "catalog" / "portfolio" / "beta.yaml"
    beta.write_text(
        FILES["catalog/portfolio/beta.yaml"].replace("annualCost: 200,", "annualCost: 250,")
    )
    risks = root / "catalog" / "risks.yaml"
    risks.write_text(FILES["catalog/risks.yaml"].replace("last: 2026-10-01, ", ""))
    code, found = findings(root, "--changed-since", "HEAD")
    assert code == 1
    # the same findings as a full run: the changed entry, and the service the changed risk names
    assert codes(found) == [
        ("SPO1003", "catalog/portfolio/beta.yaml", 9),
        ("SPO1004", "catalog/services/alpha.yaml", 6),
    ]
    assert codes(findings(root)[1]) == codes(found)


@pytest.mark.parametrize(
    ("plan", "code", "message"),
    [
        ("{designed: 2027-02-30}", "SPO407", "'2027-02-30' of designed is not a calendar day"),
        ("{designed: 2027-13}", "SPO204", "/spec/plan/designed"),
        ("{designed: 2027-Q5}", "SPO204", "/spec/plan/designed"),
        ("{launched: 2027-Q1}", "SPO204", "/spec/plan"),
        ("{designed: 2027}", "SPO204", "/spec/plan/designed"),
    ],
)
def test_a_bad_planned_date_is_a_located_error(
    tmp_path: Path, plan: str, code: str, message: str
) -> None:
    text = FILES["catalog/portfolio/gamma.yaml"].replace(
        "{designed: 2027-Q1, transitioning: 2027-Q2, live: 2027-Q3}", plan
    )
    root = write_portfolio(tmp_path, {"catalog/portfolio/gamma.yaml": text})
    result = run_spo("-C", str(root), "validate", "--format", "json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    errors = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert [(f["code"], f["file"], f["line"]) for f in errors] == [
        (code, "catalog/portfolio/gamma.yaml", 13)
    ]
    assert message in str(errors[0]["message"])
    for command in (["portfolio", "report"], ["capacity", "forecast"]):  # still a report
        assert run_spo("-C", str(root), *command).exit_code == 0
