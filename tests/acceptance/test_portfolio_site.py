"""The site's portfolio pages in real headless Chromium, on tests/portfolio_catalog.py: every
number asserted here is computed by hand (the arithmetic is in tests/unit/test_portfolio_report.py
and repeated in the comments)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.acceptance.test_site_browser import _errors, _shot, browser, serve_folder  # noqa: F401
from tests.helpers import run_spo
from tests.portfolio_catalog import write_portfolio


@pytest.fixture(scope="module")
def portfolio_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = write_portfolio(tmp_path_factory.mktemp("portfolio"))
    out = root / "site"
    result = run_spo("-C", str(root), "docs", "build", "-o", str(out))
    assert result.exit_code == 0, result.stderr

    with serve_folder(out) as url:
        yield url


def _cells(driver: Any, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    row = driver.find_element(By.CSS_SELECTOR, selector)
    return [c.text for c in row.find_elements(By.TAG_NAME, "td")]


def test_dashboard_numbers(browser: Any, portfolio_site: str) -> None:  # noqa: F811
    browser.get(portfolio_site + "portfolio.html")
    assert _errors(browser) == []
    assert _cells(browser, "#funnel tr[data-stage=live]")[:2] == ["live", "2"]  # alpha, beta
    assert _cells(browser, "#funnel tr[data-stage=designed]")[:2] == ["designed", "0"]
    # pay = alpha + beta: investment 1000 + 2000; annual cost 100 + 200; annual benefit
    # 500 + 600; TCO 1300 + 3000; NPV 30.839 - 402.916 = -372; ROI (4500 - 4300) / 4300 = 4.7 %;
    # payback 3000 / (400 + 400) = 3.75 years
    assert _cells(browser, "#money-domain tr[data-key=pay]") == [
        "pay", "EUR", "2", "3,000", "300", "1,100", "4,300", "-372", "4.7 %", "3.8 y",
    ]  # fmt: skip
    # lend = gamma: TCO 500 + 4 * 50 = 700; NPV -334; ROI (400 - 700) / 700 = -42.9 %; 500 / 50
    assert _cells(browser, "#money-domain tr[data-key=lend]") == [
        "lend", "EUR", "1", "500", "50", "100", "700", "-334", "-42.9 %", "10.0 y",
    ]  # fmt: skip
    # Ann = alpha + gamma: 1000 + 500; TCO 1300 + 700; NPV 30.839 - 334.394 = -304 (-303.555)
    assert _cells(browser, "#money-sponsor tr[data-key=Ann]")[3:9] == [
        "1,500", "150", "600", "2,000", "-304", "-5.0 %",
    ]  # fmt: skip
    # medians: chartered of 41, 60, 45 days; designed of 70 and 60; transitioning of 31 and 60
    assert _cells(browser, "#lead-times tr[data-stage=chartered]")[:3] == ["chartered", "45", "3"]
    assert _cells(browser, "#lead-times tr[data-stage=designed]")[:2] == ["designed", "65"]
    assert _cells(browser, "#lead-times tr[data-stage=transitioning]")[:2] == [
        "transitioning",
        "45.5",
    ]
    # run: alpha 100 + beta 200 allocated, the same in their business cases
    assert _cells(browser, "#run-budget tr[data-pool=run]") == [
        "run", "EUR", "1,000", "300", "300", "0", "agrees",
    ]  # fmt: skip
    _shot(browser, "portfolio-dashboard.png")


def test_forecast_page(browser: Any, portfolio_site: str) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(portfolio_site + "forecast.html")
    assert _errors(browser) == []
    eng = browser.find_element(By.CSS_SELECTOR, "section[data-pool=eng]")
    # 7 committed + gamma 2 (from 2027-Q2) + omega 2 (from 2027-Q4) = 11 > 10 FTE
    assert eng.find_element(By.CSS_SELECTOR, ".first-overbooked").text == "Overbooked from 2027-Q4"
    row = eng.find_element(By.CSS_SELECTOR, "tr[data-quarter='2027-Q2']")
    assert [c.text for c in row.find_elements(By.TAG_NAME, "td")] == [
        "2027-Q2", "7", "2", "9", "90.0 %", "near capacity",
    ]  # fmt: skip
    assert len(eng.find_elements(By.CSS_SELECTOR, "svg rect.pipeline")) == 6  # 2027-Q2 on
    run = browser.find_element(By.CSS_SELECTOR, "section[data-pool=run]")
    assert run.find_element(By.CSS_SELECTOR, ".first-overbooked").text == (
        "Not overbooked in these quarters"
    )
    _shot(browser, "capacity-forecast.png")


def test_risk_heat_map_and_timeline(browser: Any, portfolio_site: str) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(portfolio_site + "risks.html")
    assert _errors(browser) == []

    def count(likelihood: int, impact: int) -> str:
        cell = browser.find_element(
            By.CSS_SELECTOR, f"td[data-likelihood='{likelihood}'][data-impact='{impact}']"
        )
        return str(cell.get_attribute("data-count"))

    assert count(2, 5) == "1"  # r1; r3 has the same score but is closed
    assert count(4, 3) == "1"  # r2
    cells = browser.find_elements(By.CSS_SELECTOR, "td.heat")
    assert sum(int(c.get_attribute("data-count")) for c in cells) == 2
    assert _cells(browser, "tr[data-risk=r2]")[1] == "12"  # 4 x 3

    browser.get(portfolio_site + "timeline.html")
    assert _errors(browser) == []
    head = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#timeline thead th")][3:]
    gamma = browser.find_element(By.CSS_SELECTOR, "tr[data-service=gamma]")
    cells = gamma.find_elements(By.TAG_NAME, "td")[2:]
    marks = {q: c.text for q, c in zip(head, cells, strict=True) if c.text}
    # approved 2026-03-01 and chartered 2026-04-15 reached; designed, transitioning, live planned
    assert marks == {
        "2026-Q1": "approved",
        "2026-Q2": "chartered",
        "2027-Q1": "designed",
        "2027-Q2": "transitioning",
        "2027-Q3": "live",
    }
    assert len(gamma.find_elements(By.CSS_SELECTOR, ".mark.planned")) == 3


def test_service_page_roadmap_and_risks(browser: Any, portfolio_site: str) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(portfolio_site + "services/gamma.html")
    assert _errors(browser) == []
    assert _cells(browser, "#roadmap tr[data-stage=chartered]")[0] == "chartered"
    assert "2026-04-15" in _cells(browser, "#roadmap tr[data-stage=chartered]")[1]
    assert "45 days" in _cells(browser, "#roadmap tr[data-stage=chartered]")[1]  # from 03-01
    assert _cells(browser, "#roadmap tr[data-stage=live]")[2:] == ["2027-Q3", "planned"]
    browser.get(portfolio_site + "services/alpha.html")
    rows = browser.find_elements(By.CSS_SELECTOR, "#service-risks tbody tr")
    assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == ["Supplier X fails"]
