"""spo sla report, spo docs build and spo graph through the real entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.report.graph import build_graph, layered_svg, to_dot
from spo_gitops.site import SiteInput, build_site
from tests.conftest import REPO
from tests.helpers import run_spo

SAMPLE = str(REPO / "examples" / "metrics" / "northwind-2026.csv")


def test_sla_report_text_names_the_breach_and_the_improvement_plan() -> None:
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", SAMPLE)
    assert r.exit_code == 0, r.stderr
    assert (
        "open-banking-gateway-retail availability: 99.82 percent against 99.9 in 2026-06 "
        "(margin -0.08); error budget -34.56 of 43.2 min left (-80 %)" in r.stdout
    )
    assert (
        "open-banking-gateway: open-banking-gateway-retail: availability missed its target in 2"
        in r.stdout
    )
    assert "service-desk: service-desk-branch: first-contact-resolution worsened" in r.stdout


def test_sla_report_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "-f", "json", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["format_version"] == 1 and data["period"] == "2026-06"
    assert [p["service"] for p in data["improvement_plans"]] == [
        "open-banking-gateway",
        "service-desk",
    ]
    obg = next(o for o in data["objectives"] if o["sla"] == "open-banking-gateway-retail")
    june = obg["points"][-1]
    assert june["budget"]["allowed_minutes"] == pytest.approx(43.2)
    assert june["budget"]["left_minutes"] == pytest.approx(-34.56)
    assert june["source"].endswith("northwind-2026.csv:" + str(june["source"].split(":")[-1]))


def test_sla_report_markdown_writes_charts_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    metrics = tmp_path / "m.csv"
    metrics.write_text(
        "service,metric,priority,period,value,unit\n"
        + "".join(
            f"network,availability,,2026-0{m},{v},percent\n" for m, v in ((1, 99.995), (2, 99.98))
        )
    )
    r = run_spo(
        "-C",
        str(REPO),
        "sla",
        "report",
        "--metrics",
        str(metrics),
        "-f",
        "markdown",
        "-o",
        str(out),
        "--chart-format",
        "png",
    )
    assert r.exit_code == 0, r.stderr
    text = out.read_text()
    image = "report-charts/network-branch--availability.png"
    assert f"![network-branch availability over time against its target]({image})" in text
    assert (tmp_path / "report-charts" / "network-branch--availability.png").read_bytes()[
        :4
    ] == b"\x89PNG"


def test_sla_report_html_has_inline_svg_charts(tmp_path: Path) -> None:
    metrics = tmp_path / "m.csv"
    metrics.write_text(
        "service,metric,priority,period,value\nnetwork,availability,,2026-01,99.98\n"
    )
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", str(metrics), "-f", "html")
    assert r.exit_code == 0, r.stderr
    assert (
        "<svg" in r.stdout
        and "network-branch" in r.stdout
        and "http://" not in r.stdout.split("<svg")[0]
    )


def test_bad_rows_exit_1_with_file_and_line(tmp_path: Path) -> None:
    metrics = tmp_path / "m.csv"
    metrics.write_text("service,metric,priority,period,value\nnetwork,availability,,2026-01,high\n")
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", str(metrics))
    assert r.exit_code == 1
    assert "m.csv:2:1: error SPO804 value 'high' is not a number" in r.stderr


def test_bad_period_option_is_a_usage_error() -> None:
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--period", "June")
    assert r.exit_code == 64


def test_graph_formats() -> None:
    dot = run_spo("-C", str(REPO), "graph")
    assert dot.exit_code == 0 and dot.stdout.startswith("digraph services {")
    assert '"service:internet-banking" -> "service:payments-hub"' in dot.stdout
    assert '"service:internet-banking" -> "pool:engineering-fte"' in dot.stdout
    mermaid = run_spo("-C", str(REPO), "graph", "-f", "mermaid")
    assert mermaid.stdout.startswith("flowchart LR") and "classDef pool" in mermaid.stdout
    svg = run_spo("-C", str(REPO), "graph", "-f", "svg")
    assert svg.exit_code == 0 and "<svg" in svg.stdout


def test_own_svg_layout_without_graphviz() -> None:
    graph = build_graph(validate(load_project(REPO)).index)
    svg = layered_svg(graph, lambda n: f"{n.name}.html")
    assert svg.count('<g class="node service">') == 21
    assert '<a href="internet-banking.html">' in svg
    assert "digraph" in to_dot(graph)


def test_site_escapes_catalog_markup_and_has_history(tmp_path: Path) -> None:
    root = tmp_path / "c"
    shutil.copytree(REPO / "catalog", root / "catalog")
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    model = root / "catalog" / "services" / "network.yaml"
    model.write_text(
        model.read_text().replace(
            "  owner: team-infrastructure\n",
            '  owner: team-infrastructure\n  description: "<script>alert(1)</script>"\n',
            1,
        )
    )
    result = validate(load_project(root))
    history = {
        "network": [
            {
                "id": "a" * 40,
                "author": "<img src=x>",
                "date": "2026-01-02T10:00:00+00:00",
                "subject": "Add network",
            }
        ]
    }
    files = build_site(SiteInput(result.index, result.capacity, None, history, use_dot=False))
    page = files["services/network.html"]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x&gt;" in page and "Add network" in page
    for text in files.values():
        assert "https://" not in text and "http://127" not in text
    assert {
        "index.html",
        "assets/search.js",
        "parties/cirrus-cloud.html",
        "pools/engineering-fte.html",
    } <= set(files)


def test_docs_build_writes_the_site_with_git_history(tmp_path: Path) -> None:
    out = tmp_path / "site"
    r = run_spo("-C", str(REPO), "docs", "build", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    page = (out / "services" / "internet-banking.html").read_text()
    assert '<table id="history">' in page  # the reference catalog is committed in this repository
    assert not list(out.rglob("*.tmp"))


def test_a_rebuild_removes_pages_the_catalog_no_longer_has_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cat"
    root.mkdir()
    for name in ("catalog", "policies"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "spo.yaml", root / "spo.yaml")
    monkeypatch.chdir(root)
    site = tmp_path / "site"
    assert run_spo("docs", "build", "-o", str(site)).exit_code == 0
    page = site / "services" / "sms-banking.html"
    assert page.is_file()
    (site / "notes.txt").write_text("mine")  # not the build's: must survive
    for rel in ("catalog/services/sms-banking.yaml", "catalog/portfolio/sms-banking.yaml"):
        (root / rel).unlink()
    rebuilt = run_spo("docs", "build", "-o", str(site))
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert not page.exists()
    assert (site / "notes.txt").read_text() == "mine"
    assert (site / "services" / "internet-banking.html").is_file()
