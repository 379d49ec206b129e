"""Roll-ups, lead times, run budget and forecast of tests/portfolio_catalog.py, computed by hand.

Per case (discount rate 8 %; annuity factors: 3 years 2.577097, 4 years 3.312127, 5 years
3.992710):
- alpha: TCO 1000 + 3*100 = 1300; benefit 3*500 = 1500; NPV -1000 + 400*2.577097 = 30.839
- beta:  TCO 2000 + 5*200 = 3000; benefit 5*600 = 3000; NPV -2000 + 400*3.992710 = -402.916
- gamma: TCO 500 + 4*50 = 700;    benefit 4*100 = 400;  NPV -500 + 50*3.312127 = -334.394
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.portfolio.forecast import forecast
from spo_gitops.portfolio.report import PortfolioReport, Rollup, build_report
from tests.portfolio_catalog import write_portfolio


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_portfolio(tmp_path_factory.mktemp("portfolio"))


@pytest.fixture(scope="module")
def rep(catalog: Path) -> PortfolioReport:
    project = load_project(catalog)
    result = validate(project)
    assert result.ok
    return build_report(
        result.index, project.today(), rate=0.08, provisioned=["transitioning", "live", "retiring"]
    )


def by_key(rep: PortfolioReport, dim: str) -> dict[str, Rollup]:
    return {g.key: g for g in rep.rollups[dim]}


def test_services_per_stage_and_domain(rep: PortfolioReport) -> None:
    assert rep.domains == ["lend", "pay"]
    assert rep.counts["live"] == {"lend": 0, "pay": 2}  # alpha, beta
    assert rep.counts["chartered"] == {"lend": 1, "pay": 0}  # gamma
    assert rep.counts["approved"]["lend"] == 2  # delta, omega
    assert rep.counts["proposed"]["lend"] == 1  # zeta
    assert sum(sum(d.values()) for d in rep.counts.values()) == 6


def test_money_by_domain(rep: PortfolioReport) -> None:
    groups = by_key(rep, "domain")
    pay = groups["pay"]  # alpha + beta
    assert (pay.services, pay.investment, pay.annual_cost) == (2, 3000, 300)
    assert pay.tco == 4300  # 1300 + 3000
    assert pay.roi == pytest.approx(200 / 4300)  # (4500 - 4300) / 4300
    assert pay.npv == pytest.approx(-372.077, abs=1e-3)  # 30.839 - 402.916
    assert pay.payback == pytest.approx(3.75)  # 3000 / (400 + 400)
    lend = groups["lend"]  # gamma only: delta and omega have no business case
    assert (lend.services, lend.tco) == (1, 700)
    assert lend.roi == pytest.approx(-300 / 700)  # (400 - 700) / 700
    assert lend.npv == pytest.approx(-334.394, abs=1e-3)
    assert lend.payback == pytest.approx(10.0)  # 500 / 50


def test_money_by_stage_and_sponsor(rep: PortfolioReport) -> None:
    stages = by_key(rep, "stage")
    assert list(stages) == ["chartered", "live"]  # stage order, only stages with a case
    assert stages["live"].tco == 4300
    sponsors = by_key(rep, "sponsor")
    ann = sponsors["Ann"]  # alpha + gamma
    assert (ann.investment, ann.annual_cost, ann.tco) == (1500, 150, 2000)
    assert ann.roi == pytest.approx(-0.05)  # (1500 + 400 - 2000) / 2000
    assert ann.npv == pytest.approx(-303.555, abs=1e-3)  # 30.839 - 334.394
    assert ann.payback == pytest.approx(1500 / 450)  # (400 + 50)
    assert sponsors["Ben"].services == 1  # beta; omega has no case


def test_lead_time_medians_from_approval_dates(rep: PortfolioReport) -> None:
    # alpha: 2026-01-10 -> 02-20 41 d, -> 05-01 70 d, -> 06-01 31 d, -> 07-01 30 d
    # beta:  2025-01-01 -> 03-02 60 d, -> 05-01 60 d, -> 06-30 60 d, -> 08-29 60 d
    # gamma: 2026-03-01 -> 04-15 45 d
    medians = {lt.stage: lt.median for lt in rep.lead_times}
    assert medians == {"chartered": 45, "designed": 65, "transitioning": 45.5, "live": 45}
    chartered = next(lt for lt in rep.lead_times if lt.stage == "chartered")
    assert sorted(chartered.samples) == [
        ("alpha", 41, "approval"),
        ("beta", 60, "approval"),
        ("gamma", 45, "approval"),
    ]


def test_run_budget_line(rep: PortfolioReport) -> None:
    (line,) = rep.budget
    assert (line.pool, line.capacity, line.allocated, line.annual_cost) == ("run", 1000, 300, 300)
    assert line.agrees  # alpha 100 + beta 200 on both sides


def test_forecast_per_quarter(catalog: Path) -> None:
    project = load_project(catalog)
    index = validate(project).index
    pools = {p.pool: p for p in forecast(index, project.today(), ["transitioning", "live"], 8)}
    eng = pools["eng"]
    rows = [(r.quarter, r.committed, r.pipeline, r.status) for r in eng.rows]
    # committed: alpha 4 + beta 3 = 7; gamma (2) from its planned transitioning 2027-Q2; omega
    # (2) from 2027-Q4; delta (5) has no plan: unscheduled; zeta (1) is not approved: no demand.
    # High threshold 80 % of 10 FTE.
    assert rows == [
        ("2026-Q4", 7, 0, "ok"),  # 70 %
        ("2027-Q1", 7, 0, "ok"),
        ("2027-Q2", 7, 2, "near capacity"),  # 9 of 10: 90 % > 80 %
        ("2027-Q3", 7, 2, "near capacity"),
        ("2027-Q4", 7, 4, "overbooked"),  # 11 > 10
        ("2028-Q1", 7, 4, "overbooked"),
        ("2028-Q2", 7, 4, "overbooked"),
        ("2028-Q3", 7, 4, "overbooked"),
    ]
    assert eng.rows[2].utilization == pytest.approx(90.0)
    assert eng.first_overbooked == "2027-Q4"
    assert [d.service for d in eng.unscheduled] == ["delta"]
    assert pools["run"].first_overbooked is None
    assert [r.total for r in pools["run"].rows] == [300] * 8


def test_a_planned_retirement_releases_demand(tmp_path: Path) -> None:
    from tests.portfolio_catalog import FILES

    text = FILES["catalog/portfolio/beta.yaml"] + "  plan: {retired: 2027-Q1}\n"
    root = write_portfolio(tmp_path, {"catalog/portfolio/beta.yaml": text})
    project = load_project(root)
    index = validate(project).index
    eng = next(p for p in forecast(index, project.today(), ["live"], 3) if p.pool == "eng")
    # beta (3 FTE) still draws in 2027-Q1, the quarter it retires, and not after it
    assert [(r.quarter, r.committed) for r in eng.rows] == [
        ("2026-Q4", 7),
        ("2027-Q1", 7),
        ("2027-Q2", 4),
    ]
