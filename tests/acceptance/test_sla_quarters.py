"""Monthly measurements rolled up into quarters for SLAs reviewed quarterly, through the CLI, on
the sample metrics (values read off examples/metrics/northwind-2026.csv, figures by hand).

Open Banking's availability (99.9 %, 24x7 in Europe/London) in 2026:
Jan 99.95, Feb 99.93, Mar 99.97, Apr 99.91, May 99.86, Jun 99.82.
Minutes of 24x7 service: Jan 44,640 (31 days), Feb 40,320 (28), Mar 44,580 (31 days less the
hour the clocks go forward on 29 March), Apr 43,200 (30), May 44,640 (31), Jun 43,200 (30).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.test_output_schemas import check
from tests.conftest import REPO
from tests.helpers import run_spo

SAMPLE = str(REPO / "examples" / "metrics" / "northwind-2026.csv")

# Q1: down 0.05 % of 44,640 + 0.07 % of 40,320 + 0.03 % of 44,580 = 22.32 + 28.224 + 13.374
Q1_MINUTES = 44_640 + 40_320 + 44_580  # 129,540
Q1_DOWN = 22.32 + 28.224 + 13.374  # 63.918
Q1 = 100 * (1 - Q1_DOWN / Q1_MINUTES)  # 99.95066
# Q2: 0.09 % of 43,200 + 0.14 % of 44,640 + 0.18 % of 43,200 = 38.88 + 62.496 + 77.76
Q2_MINUTES = 43_200 + 44_640 + 43_200  # 131,040
Q2_DOWN = 38.88 + 62.496 + 77.76  # 179.136
Q2 = 100 * (1 - Q2_DOWN / Q2_MINUTES)  # 99.86330


def _json(*args: str) -> tuple[int, dict[str, Any], str]:
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--format", "json", *args)
    return r.exit_code, check("sla-report", r.stdout), r.stderr


def _objective(doc: dict[str, Any], sla: str, metric: str, priority: str | None = None) -> Any:
    return next(
        o
        for o in doc["objectives"]
        if o["sla"] == sla and o["metric"] == metric and o["priority"] == priority
    )


def test_a_quarter_of_a_monthly_sla_is_rolled_up_from_its_months() -> None:
    code, doc, _ = _json("--period", "2026-Q2")
    assert code == 0
    assert doc["per"] == "quarter"
    o = _objective(doc, "open-banking-gateway-retail", "availability")
    assert [p["period"] for p in o["points"]] == ["2026-Q1", "2026-Q2"]
    q1, q2 = o["points"]
    assert round(Q1, 6) == 99.950658
    assert round(Q2, 6) == 99.863297
    assert q1["measured"] == pytest.approx(Q1) and q1["attained"]
    assert q2["measured"] == pytest.approx(Q2) and not q2["attained"]
    assert q2["margin"] == pytest.approx(Q2 - 99.9, abs=1e-6)  # -0.0367 (rounded to 6 places)
    # the quarter's error budget is the months' budgets summed: 0.1 % of 131,040 = 131.04 allowed
    assert q2["budget"]["service_minutes"] == 131_040
    assert q2["budget"]["allowed_minutes"] == pytest.approx(131.04)
    assert q2["budget"]["consumed_minutes"] == pytest.approx(179.136)
    assert q2["budget"]["left_minutes"] == pytest.approx(131.04 - 179.136)  # -48.096
    assert q2["trend"] == "worsening"  # 99.863 after 99.951: beyond 5 % of 0.1 points
    assert q2["rollup"] == {
        "rule": "service-minutes",
        "months_expected": 3,
        "partial": False,
        "months": [
            {
                "period": "2026-04",
                "measured": 99.91,
                "attained": True,
                "service_minutes": 43_200,
                "source": q2["rollup"]["months"][0]["source"],
            },
            {
                "period": "2026-05",
                "measured": 99.86,
                "attained": False,
                "service_minutes": 44_640,
                "source": q2["rollup"]["months"][1]["source"],
            },
            {
                "period": "2026-06",
                "measured": 99.82,
                "attained": False,
                "service_minutes": 43_200,
                "source": q2["rollup"]["months"][2]["source"],
            },
        ],
    }
    assert q1["rollup"]["months"][2]["service_minutes"] == 44_580
    sources = [m["source"] for m in q2["rollup"]["months"]]
    assert all(s.startswith("examples/metrics/northwind-2026.csv:") for s in sources)
    assert q2["source"] == ", ".join(sources)


def test_business_hours_with_bank_holidays_weigh_by_their_minutes() -> None:
    _, doc, _ = _json("--period", "2026-Q2")
    o = _objective(doc, "service-desk-branch", "availability")
    q2 = o["points"][-1]
    # Mon-Sat 07:00-20:00 (780 min a day), less the uk-bank-holidays calendar:
    # April: 30 days - 4 Sundays - Good Friday (3rd) - Easter Monday (6th) = 24 days: 18,720
    # May: 31 days - 5 Sundays - 4th and 25th (bank holiday Mondays) = 24 days: 18,720
    # June: 30 days - 4 Sundays = 26 days: 20,280
    assert [m["service_minutes"] for m in q2["rollup"]["months"]] == [18_720, 18_720, 20_280]
    # 99.750, 99.775, 99.737 %: down 0.25 % of 18,720 + 0.225 % of 18,720 + 0.263 % of 20,280
    down = 46.8 + 42.12 + 53.3364  # 142.2564
    assert q2["measured"] == pytest.approx(100 * (1 - down / 57_720))  # 99.75354
    assert q2["budget"]["service_minutes"] == 57_720
    assert q2["budget"]["allowed_minutes"] == pytest.approx(288.6)  # 0.5 % of 57,720
    assert q2["budget"]["consumed_minutes"] == pytest.approx(142.2564)


def test_other_metrics_are_the_mean_of_their_months() -> None:
    _, doc, _ = _json("--period", "2026-Q2")
    mttr = _objective(doc, "service-desk-branch", "mttr", "P1")["points"][-1]
    assert mttr["measured"] == pytest.approx((2.80 + 2.68 + 2.86) / 3)  # 2.78 h
    assert mttr["margin"] == pytest.approx(4 - 2.78)
    assert mttr["budget"] is None
    assert mttr["rollup"]["rule"] == "mean"
    assert [m["service_minutes"] for m in mttr["rollup"]["months"]] == [None, None, None]
    # card processing's response time missed 250 ms in March (268), not in the quarter
    rt = _objective(doc, "card-processing-retail", "response-time")["points"]
    assert rt[0]["measured"] == pytest.approx((231 + 238 + 268) / 3)  # 245.667 ms
    assert rt[0]["attained"]


def test_slas_not_reviewed_quarterly_stay_in_their_months() -> None:
    _, doc, _ = _json("--period", "2026-Q2")
    # the data warehouse is measured monthly and reviewed half-yearly
    o = _objective(doc, "data-warehouse-corporate", "availability")
    assert [p["period"] for p in o["points"]][-1] == "2026-06"
    assert all(p["rollup"] is None for p in o["points"])


def test_quarters_decide_the_improvement_plans_when_reporting_per_quarter() -> None:
    # per month: the gateway missed May and June, the service desk's FCR worsened twice
    _, months, _ = _json("--period", "2026-06")
    assert months["per"] == "measurement"
    assert {i["service"] for i in months["improvement_plans"]} == {
        "open-banking-gateway",
        "service-desk",
    }
    # per quarter: the gateway missed one quarter (Q1 99.951 met 99.9), and FCR worsened once
    # ((78.2 + 77.9 + 78.4) / 3 = 78.167 -> (77.6 + 76.1 + 74.3) / 3 = 76.0, both above 75)
    code, quarters, _ = _json("--period", "2026-Q2")
    assert code == 0
    assert quarters["improvement_plans"] == []
    assert quarters["breaches"] == [
        {"sla": "open-banking-gateway-retail", "objective": "availability", "period": "2026-Q2"}
    ]
    fcr = _objective(quarters, "service-desk-branch", "first-contact-resolution")["points"]
    assert [p["measured"] for p in fcr] == pytest.approx([234.5 / 3, 228 / 3])
    assert [p["trend"] for p in fcr] == [None, "worsening"]


def test_the_text_report_shows_the_quarter_and_its_months() -> None:
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--period", "2026-Q2")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("SLA report up to 2026-Q2: 95 objectives measured over ")
    assert "0 services need an improvement plan" in lines[0]
    assert lines[1].startswith(
        "Per quarter: the months of SLAs measured monthly and reviewed quarterly are rolled up "
    )
    # margin 99.86330 - 99.9 = -0.037; budget 131.04 - 179.136 = -48.096 min, -48.096 / 131.04
    # = -37 %
    assert (
        "  open-banking-gateway-retail availability: 99.863 percent against 99.9 in 2026-Q2 "
        "(margin -0.037); error budget -48.096 of 131.04 min left (-37 %); rolled up from "
        "2026-04: 99.91, 2026-05: 99.86, 2026-06: 99.82"
    ) in lines
    head = next(line for line in lines if line.startswith("sla "))
    assert head.split() == [
        "sla",
        "objective",
        "target",
        "period",
        "measured",
        "status",
        "margin",
        "budget",
        "trend",
        "months",
    ]


def test_a_partial_quarter_is_rolled_up_from_the_months_there_are_and_says_so() -> None:
    code, doc, _ = _json("--period", "2026-05", "--per", "quarter")
    assert code == 0
    assert doc["period"] == "2026-05"
    q2 = _objective(doc, "open-banking-gateway-retail", "availability")["points"][-1]
    assert q2["period"] == "2026-Q2"
    assert q2["rollup"]["partial"] and q2["rollup"]["months_expected"] == 3
    assert [m["period"] for m in q2["rollup"]["months"]] == ["2026-04", "2026-05"]
    # April and May only: (38.88 + 62.496) / (43,200 + 44,640) down
    assert q2["measured"] == pytest.approx(100 * (1 - 101.376 / 87_840))  # 99.88459
    assert q2["budget"]["service_minutes"] == 87_840
    r = run_spo(
        "-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--period", "2026-05", "--per",
        "quarter",
    )  # fmt: skip
    assert "in 2026-Q2 (partial: 2 of 3 months) (margin " in r.stdout
    assert "Partial quarters (not every month measured): 2026-Q2, 2 of 3 months" in r.stdout


def test_per_measurement_keeps_a_quarter_in_months() -> None:
    code, doc, _ = _json("--period", "2026-Q2", "--per", "measurement")
    assert code == 0 and doc["per"] == "measurement"
    o = _objective(doc, "open-banking-gateway-retail", "availability")
    assert [p["period"] for p in o["points"]][-3:] == ["2026-04", "2026-05", "2026-06"]
    bad = run_spo("-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--per", "year")
    assert bad.exit_code == 64


def test_markdown_shows_the_months_of_each_quarter() -> None:
    r = run_spo(
        "-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--period", "2026-Q2", "-f",
        "markdown",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert (
        "| sla | objective | target | period | measured | status | margin | budget | trend | "
        "months |"
    ) in r.stdout
    assert (
        "| open-banking-gateway-retail | availability | 99.9 percent | 2026-Q2 | 99.863 | BREACHED "
        "| -0.037 | -48.096 of 131.04 min left (-37 %) | worsening | 2026-04: 99.91, 2026-05: "
        "99.86, 2026-06: 99.82 |"
    ) in r.stdout


def test_html_shows_the_months_of_each_quarter() -> None:
    r = run_spo(
        "-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--period", "2026-Q2", "-f", "html"
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert '<p class="rollup">Per quarter: the months of SLAs measured monthly' in r.stdout
    breaches = r.stdout.split('id="breaches"')[1].split("</ul>")[0]
    assert (
        "99.863 percent against 99.9 in 2026-Q2 (margin -0.037); error budget -48.096 of 131.04 "
        "min left (-37 %); rolled up from 2026-04: 99.91, 2026-05: 99.86, 2026-06: 99.82</li>"
    ) in breaches
    assert "<th>months</th>" in r.stdout


QUARTER_ROW = """\
service,metric,priority,period,value,unit
open-banking-gateway,availability,,2026-Q2,99.86,percent
"""


def test_a_quarterly_row_for_a_monthly_sla_is_refused_with_the_roll_up_as_hint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(QUARTER_ROW, encoding="utf-8")
    r = run_spo("-C", str(REPO), "sla", "report", "--metrics", str(path), "--period", "2026-Q2")
    assert r.exit_code == 1
    assert ":2:1: error SPO806 period '2026-Q2' is not a monthly period (YYYY-MM" in r.stderr
    assert (
        "  hint: open-banking-gateway-retail is measured monthly: give a row per month "
        "(YYYY-MM); for its quarterly reviews the months roll up into quarters (spo sla report "
        "--per quarter, spo review pack --period 2026-Q2)"
    ) in r.stderr
    out = tmp_path / "pack"
    r = run_spo(
        "-C", str(REPO), "review", "pack", "--customer", "retail-banking", "--period", "2026-Q2",
        "--metrics", str(path), "-o", str(out),
    )  # fmt: skip
    assert r.exit_code == 1
    assert "SPO806" in r.stderr and "roll up into quarters" in r.stderr


def test_the_review_pack_of_a_quarter_shows_quarters_of_monthly_slas(tmp_path: Path) -> None:
    r = run_spo(
        "-C", str(REPO), "review", "pack", "--customer", "retail-banking", "--period", "2026-Q2",
        "--metrics", SAMPLE, "-o", str(tmp_path),
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    md = (tmp_path / "retail-banking.md").read_text()
    assert "Per quarter: the months of SLAs measured monthly and reviewed quarterly" in md
    assert (
        "- open-banking-gateway-retail availability: 99.863 percent against 99.9 percent in "
        "2026-Q2 (2026-04: 99.91, 2026-05: 99.86, 2026-06: 99.82); plan: "
        "open-banking-availability-2026"
    ) in md
    assert (
        "| open-banking-gateway-retail | availability | 99.9 percent | 2026-Q1: 99.951 (2026-01: "
        "99.95, 2026-02: 99.93, 2026-03: 99.97); 2026-Q2: 99.863 (breached; 2026-04: 99.91, "
        "2026-05: 99.86, 2026-06: 99.82) | -0.037 |"
    ) in md
    html = (tmp_path / "retail-banking.html").read_text()
    assert "2026-Q2: 99.863" in html
    assert "2026-04: 99.91, 2026-05: 99.86, 2026-06: 99.82" in html
    assert "2026-05: 99.86" in html.split('id="breaches"')[1].split("</ul>")[0]


def test_json_of_a_quarter_matches_its_schema_with_plans_reviewed() -> None:
    code, doc, stderr = _json("--period", "2026-Q2", "--require-plans")
    assert code == 0, stderr
    # both open plans' objectives: FCR met 75 % in Q1 and Q2 (78.167, 76.0): its plan can close;
    # the gateway missed Q2: its plan stays open
    assert [k["plan"] for k in doc["plan_review"]["can_close"]] == [
        "service-desk-first-contact-2026"
    ]
    assert json.dumps(doc)  # plain data
