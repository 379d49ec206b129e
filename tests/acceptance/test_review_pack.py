"""spo review pack: the customer's page for its service review, against the sample metrics and the
reference catalog's improvement plans (values read off examples/metrics/northwind-2026.csv), and
the page in headless Chromium: no console errors, nothing loaded from outside, charts drawn.

For a quarter, the SLAs measured monthly and reviewed quarterly (all but two of the reference
SLAs) show quarters rolled up from their months (tests/acceptance/test_sla_quarters.py has the
figures); ``--per measurement`` shows their months."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.acceptance.test_site_browser import ARTIFACTS, _errors
from tests.acceptance.test_site_browser import browser as browser  # a fixture
from tests.conftest import REPO
from tests.helpers import run_spo

SAMPLE = REPO / "examples" / "metrics" / "northwind-2026.csv"
EVIL = "<script>document.title='pwned'</script>"


def _pack(out: Path, *args: str, root: Path = REPO) -> str:
    r = run_spo("-C", str(root), "review", "pack", "--metrics", str(SAMPLE), "-o", str(out), *args)
    assert r.exit_code == 0, r.stderr
    return r.stderr


def test_retail_banking_pack_for_q2(tmp_path: Path) -> None:
    _pack(tmp_path, "--customer", "retail-banking", "--period", "2026-Q2")
    md = (tmp_path / "retail-banking.md").read_text()
    assert md.startswith("# Service review: Retail Banking Division\n")
    # the gateway missed 99.9 % in the second quarter (May 99.86, June 99.82), covered by its
    # open plan
    assert (
        "- open-banking-gateway-retail availability: 99.863 percent against 99.9 percent in "
        "2026-Q2 (2026-04: 99.91, 2026-05: 99.86, 2026-06: 99.82); plan: "
        "open-banking-availability-2026" in md
    )
    assert "  - Rolling certificate rotation, one node at a time (team-integration, due " in md
    # card processing's response time missed 250 ms in March (268), not the first quarter:
    # (231 + 238 + 268) / 3 = 245.667 ms
    assert "card-processing-retail response-time: " not in md.split("## Attainment")[0]
    assert (
        "| card-processing-retail | response-time | 250 ms | 2026-Q1: 245.667 (2026-01: 231, "
        "2026-02: 238, 2026-03: 268); "
    ) in md
    # only the retail SLAs; the branch network's service desk is not in it
    assert "service-desk-branch" not in md
    assert "- SLA open-banking-gateway-retail: monthly reporting: " in md
    html = (tmp_path / "retail-banking.html").read_text()
    assert html.count("<svg") == md.count("\n| ") - 1  # a chart per objective row


def test_per_measurement_shows_the_months_of_the_quarter(tmp_path: Path) -> None:
    _pack(tmp_path, "--customer", "retail-banking", "--period", "2026-Q2", "--per", "measurement")
    md = (tmp_path / "retail-banking.md").read_text()
    assert "Per quarter" not in md
    # the gateway missed 99.9 % in May (99.86) and June (99.82), covered by its open plan
    assert (
        "- open-banking-gateway-retail availability: 99.82 percent against 99.9 percent in "
        "2026-06; plan: open-banking-availability-2026" in md
    )
    # card processing's response time missed once (268 ms in March): no plan needed, none open
    assert (
        "- card-processing-retail response-time: 268 ms against 250 ms in 2026-03; plan: "
        "**no open improvement plan**" in md
    )


def test_the_window_ends_with_the_review_period(tmp_path: Path) -> None:
    args = ("--customer", "retail-banking", "--period", "2026-Q1", "--periods", "2")
    _pack(tmp_path, *args, "--per", "measurement")
    md = (tmp_path / "retail-banking.md").read_text()
    assert "| open-banking-gateway-retail | availability | 99.9 percent | 2026-02: 99.93; " in md
    assert "2026-04:" not in md.split("## Breaches")[0]
    assert "open-banking-gateway-retail availability: 99.8" not in md
    _pack(tmp_path, *args)  # per quarter: the two quarters up to Q1 are Q1 alone
    md = (tmp_path / "retail-banking.md").read_text()
    assert (
        "| open-banking-gateway-retail | availability | 99.9 percent | 2026-Q1: 99.951 (2026-01: "
        "99.95, 2026-02: 99.93, 2026-03: 99.97) | "
    ) in md
    assert "2026-Q2" not in md and "2026-04:" not in md


def test_satisfaction_and_markup_as_text(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for part in ("catalog", "policies"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    plan = root / "catalog" / "improvement-plans" / "service-desk-fcr.yaml"
    text = plan.read_text()
    title = "    - title: Knowledge articles for the new branch printers\n"
    assert title in text
    plan.write_text(text.replace(title, f'    - title: "{EVIL}"\n'))
    _pack(tmp_path / "out", "--customer", "branch-network", "--period", "2026-Q2", root=root)
    md = (tmp_path / "out" / "branch-network.md").read_text()
    # the service desk is reviewed quarterly: (94 + 93.2 + 94.6) / 3 = 93.933 in Q1; the
    # end-user computing SLA is reviewed half-yearly: its months
    assert (
        "- service-desk-branch customer-satisfaction (target 90 percent): 2026-Q1: 93.933 "
        "(2026-01: 94, 2026-02: 93.2, 2026-03: 94.6); " in md
    )
    assert (
        "- end-user-computing-branch customer-satisfaction (target 85 percent): 2026-01: 89; "
        in (md)
    )
    # per month the desk's FCR missed 75 % in June (74.3), so its plan's actions are listed
    _pack(
        tmp_path / "months", "--customer", "branch-network", "--period", "2026-Q2", "--per",
        "measurement", root=root,
    )  # fmt: skip
    html = (tmp_path / "months" / "branch-network.html").read_text()
    assert "<script" not in html
    assert "&lt;script&gt;document.title=" in html


def test_an_unknown_customer_is_a_usage_error(tmp_path: Path) -> None:
    r = run_spo(
        "review",
        "pack",
        "--metrics",
        str(SAMPLE),
        "--customer",
        "nobody",
        "--period",
        "2026-Q2",
        "-o",
        str(tmp_path),
    )
    assert r.exit_code == 64 and "no Party 'nobody'" in r.stderr


def test_pack_in_the_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _pack(tmp_path, "--customer", "retail-banking", "--period", "2026-Q2")
    url = (tmp_path / "retail-banking.html").as_uri()
    browser.get(url)
    assert _errors(browser) == []
    loaded = browser.execute_script("return performance.getEntriesByType('resource').length;")
    assert loaded == 0  # self-contained: nothing fetched
    # one row and one chart per objective of the eight retail SLAs: 6+7+6+6+7+7+7+6
    rows = browser.find_elements(By.CSS_SELECTOR, "#attainment tbody tr")
    assert len(rows) == 52
    assert len(browser.find_elements(By.CSS_SELECTOR, ".chart svg")) == 52
    breached = browser.find_elements(By.CSS_SELECTOR, "#breaches > li")
    assert len(breached) == 1  # the gateway's availability in 2026-Q2
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "review-pack.png"))
