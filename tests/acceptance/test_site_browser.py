"""The built catalog site in real headless Chromium (Debian's chromium + chromium-driver).

The site is served from a temporary folder on 127.0.0.1 by http.server in a thread. Without the
browser the tests skip, unless SPO_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.helpers import run_spo
from tests.threaded import running

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "test-artifacts"
WAIT = 10  # seconds: every wait is bounded
EVIL = "<script>document.title='pwned'</script><b>bold</b>"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference catalog, one description carrying markup, built with the sample metrics."""
    root = tmp_path_factory.mktemp("catalog")
    shutil.copytree(REPO / "catalog", root / "catalog")
    shutil.copytree(REPO / "policies", root / "policies")
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    model = root / "catalog" / "services" / "mobile-banking.yaml"
    text = model.read_text(encoding="utf-8")
    model.write_text(
        text.replace(
            "  owner: team-digital\n", f'  owner: team-digital\n  description: "{EVIL}"\n', 1
        ),
        encoding="utf-8",
    )
    out = root / "site"
    metrics = REPO / "examples" / "metrics" / "northwind-2026.csv"
    result = run_spo("-C", str(root), "docs", "build", "-o", str(out), "--metrics", str(metrics))
    assert result.exit_code == 0, result.stderr
    return out


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """The files of ``folder`` over HTTP on 127.0.0.1, quietly; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    with running(httpd):
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    with serve_folder(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = (
            "chromium and chromium-driver are missing: apt-get install chromium chromium-driver"
        )
        if os.environ.get("SPO_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def _errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


_HREFS = """return Array.from(document.querySelectorAll('a')).map(
  a => a.getAttribute('href') || a.getAttribute('xlink:href')).filter(Boolean);"""
_LOADED = "return performance.getEntriesByType('resource').map(e => e.name);"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_every_page_loads_without_errors_and_every_link_resolves(
    browser: Any, server: str, site: Path
) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "index.html" in pages and "services/internet-banking.html" in pages
    checked: dict[str, int] = {}
    for page in pages:
        url = server + page
        browser.get(url)
        assert _errors(browser) == [], page
        assert browser.title != "pwned"
        for loaded in browser.execute_script(_LOADED):
            assert loaded.startswith(server), f"{page} loaded {loaded} from outside the site"
        for href in browser.execute_script(_HREFS):
            target = urllib.parse.urljoin(url, href).split("#")[0]
            assert target.startswith(server), f"{page} links outside the site: {href}"
            if target not in checked:
                checked[target] = _status(target)
            assert checked[target] == 200, f"{page}: link {href} -> {checked[target]}"
    assert len(checked) > 40


def test_search_filter_narrows_the_board(browser: Any, server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "index.html")
    cards = browser.find_elements(By.CSS_SELECTOR, ".card")
    assert len(cards) == 21
    _shot(browser, "board.png")
    box = browser.find_element(By.ID, "search")
    box.send_keys("payments")

    def visible(driver: Any) -> list[str]:
        return [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".card") if c.is_displayed()]

    WebDriverWait(browser, WAIT).until(lambda d: 0 < len(visible(d)) < 21)
    shown = visible(browser)
    assert any("Payments Hub" in t for t in shown)
    assert not any("Network" in t.split("\n")[0] for t in shown)
    assert "of 21 services" in browser.find_element(By.ID, "count").text
    _shot(browser, "board-filtered.png")
    assert _errors(browser) == []


def test_service_page_shows_sla_table_and_markup_as_text(browser: Any, server: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + "services/open-banking-gateway.html")
    table = browser.find_element(By.CSS_SELECTOR, "table.sla")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 6
    first = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
    # availability is better higher: the target is a floor
    assert first[0] == "availability" and first[2] == "≥ 99.9 percent"
    assert first[4] == "99.82 (2026-06)" and first[5] == "breached"
    assert browser.find_elements(By.CSS_SELECTOR, "table.raci")
    assert browser.find_elements(By.CSS_SELECTOR, ".graph svg")
    browser.execute_script("arguments[0].scrollIntoView();", table)
    _shot(browser, "service-page.png")
    browser.get(server + "services/mobile-banking.html")
    assert browser.find_element(By.CSS_SELECTOR, ".description").text == EVIL
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, ".description b")
