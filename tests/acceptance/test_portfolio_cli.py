"""spo portfolio report and spo capacity forecast through the CLI, on the small portfolio of
tests/portfolio_catalog.py (its figures are computed by hand in test_portfolio_report.py) and
on a real git repository for the lead-time fallback."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from spo_gitops.git import no_git_env
from tests.helpers import run_spo
from tests.portfolio_catalog import FILES, write_portfolio


def test_report_json(tmp_path: Path) -> None:
    root = write_portfolio(tmp_path)
    result = run_spo("-C", str(root), "portfolio", "report", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format_version"] == 1 and data["date"] == "2026-12-01"
    pay = next(g for g in data["rollups"]["domain"] if g["key"] == "pay")
    assert (pay["investment"], pay["annualCost"], pay["tco"]) == (3000, 300, 4300)
    assert round(pay["npv"], 3) == -372.077  # 30.839 - 402.916
    assert data["stages"]["live"] == {"lend": 0, "pay": 2}
    assert data["stages"]["approved"] == {"lend": 2, "pay": 0}  # delta, omega
    assert [(x["stage"], x["median"]) for x in data["leadTimes"]] == [
        ("chartered", 45),
        ("designed", 65),
        ("transitioning", 45.5),
        ("live", 45),
    ]
    assert data["budget"][0]["agrees"] is True and data["slipped"] == []


def test_report_text_markdown_html_and_output_file(tmp_path: Path) -> None:
    root = write_portfolio(tmp_path)
    text = run_spo("-C", str(root), "portfolio", "report").stdout
    assert "Money by domain (not retired)" in text
    line = next(x for x in text.splitlines() if x.startswith("pay "))
    # pay: 2 services, 3,000 investment, 300 annual cost, TCO 4,300, NPV -372, ROI 4.7 %, 3.8 y
    assert line.split() == [
        "pay",
        "EUR",
        "2",
        "3,000",
        "300",
        "4,300",
        "-372",
        "4.7",
        "%",
        "3.8",
        "y",
    ]
    md = run_spo("-C", str(root), "portfolio", "report", "-f", "markdown").stdout
    assert "| pay | EUR | 2 | 3,000 | 300 | 4,300 | -372 | 4.7 % | 3.8 y |" in md
    out = tmp_path / "out" / "portfolio.html"
    result = run_spo("-C", str(root), "portfolio", "report", "-f", "html", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    html = out.read_text(encoding="utf-8")
    assert '<tr data-key="pay"><td>pay</td>' in html and "<script" not in html


def test_slipped_plans_in_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPO_VALIDATION_DATE", "2027-05-01")
    data = json.loads(
        run_spo("-C", str(write_portfolio(tmp_path)), "portfolio", "report", "-f", "json").stdout
    )
    # gamma's designed (2027-Q1, due 2027-03-31) is 31 days late on 2027-05-01
    assert data["slipped"] == [
        {
            "service": "gamma",
            "stage": "designed",
            "planned": "2027-Q1",
            "due": "2027-03-31",
            "days": 31,
        }
    ]


def test_a_changed_annual_cost_shows_in_the_run_budget(tmp_path: Path) -> None:
    text = FILES["catalog/portfolio/beta.yaml"].replace("annualCost: 200,", "annualCost: 250,")
    root = write_portfolio(tmp_path, {"catalog/portfolio/beta.yaml": text})
    result = run_spo("-C", str(root), "portfolio", "report", "-f", "json")
    assert "the catalog has errors" in result.stderr  # SPO1003
    (line,) = json.loads(result.stdout)["budget"]
    assert (line["allocated"], line["annualCost"], line["difference"]) == (300, 350, 50)
    assert line["agrees"] is False


def _commit(root: Path, message: str, day: str) -> None:
    env = {
        **no_git_env(),
        "GIT_AUTHOR_DATE": f"{day}T12:00:00+00:00",
        "GIT_COMMITTER_DATE": f"{day}T12:00:00+00:00",
    }
    for args in (["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_lead_time_falls_back_to_the_git_history_of_the_entry(tmp_path: Path) -> None:
    root = write_portfolio(tmp_path)
    env = no_git_env()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Test"],
        ["config", "user.email", "test@example.com"],
        ["config", "commit.gpgsign", "false"],
    ):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    gamma = root / "catalog" / "portfolio" / "gamma.yaml"
    final = gamma.read_text(encoding="utf-8")
    bare = FILES["catalog/portfolio/gamma.yaml"].split("  sponsor:")[0]
    for stage, day in (
        ("proposed", "2026-01-05"),
        ("defined", "2026-02-09"),
        ("analyzed", "2026-02-20"),
    ):
        gamma.write_text(bare.replace("stage: chartered", f"stage: {stage}"), encoding="utf-8")
        _commit(root, f"gamma {stage}", day)
    gamma.write_text(final, encoding="utf-8")
    _commit(root, "gamma chartered", "2026-04-16")
    data = json.loads(run_spo("-C", str(root), "portfolio", "report", "-f", "json").stdout)
    entry = next(e for e in data["entries"] if e["service"] == "gamma")
    assert entry["reached"]["defined"] == {"date": "2026-02-09", "source": "git"}
    assert entry["reached"]["approved"] == {"date": "2026-03-01", "source": "approval"}
    # proposed 2026-01-05 -> defined 2026-02-09: 26 + 9 = 35 days; -> analyzed 02-20: 11;
    # -> approved (approval 03-01): 8 + 1 = 9; -> chartered (approval 04-15): 31 + 14 = 45
    assert entry["leadTimes"] == {"defined": 35, "analyzed": 11, "approved": 9, "chartered": 45}
    defined = next(x for x in data["leadTimes"] if x["stage"] == "defined")
    assert defined["samples"] == [{"service": "gamma", "days": 35, "source": "git"}]
    assert "GIT_DIR" not in os.environ


def test_capacity_forecast_text_and_json(tmp_path: Path) -> None:
    root = write_portfolio(tmp_path)
    result = run_spo("-C", str(root), "capacity", "forecast")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    # eng: 7 committed + gamma 2 + omega 2 = 11 of 10 FTE from 2027-Q4
    assert ["2027-Q4", "7", "4", "11", "110.0", "%", "overbooked"] in [x.split() for x in lines]
    assert "first overbooked: 2027-Q4" in lines
    assert "unscheduled pipeline (no planned go-live, not counted): delta 5" in lines
    assert "  eng: 2027-Q4" in lines and "  run: not within the forecast" in lines
    data = json.loads(
        run_spo("-C", str(root), "capacity", "forecast", "-f", "json", "--quarters", "2").stdout
    )
    eng = next(p for p in data["pools"] if p["pool"] == "eng")
    assert [q["quarter"] for q in eng["quarters"]] == ["2026-Q4", "2027-Q1"]
    assert eng["firstOverbooked"] is None  # not within two quarters
    assert {p["service"]: p["from"] for p in eng["pipeline"]} == {
        "delta": None,
        "gamma": "2027-Q2",
        "omega": "2027-Q4",
    }


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    root = write_portfolio(tmp_path)
    assert run_spo("-C", str(root), "capacity", "forecast", "--quarters", "0").exit_code == 64
    assert run_spo("-C", str(root), "portfolio", "report", "-f", "pdf").exit_code == 64
