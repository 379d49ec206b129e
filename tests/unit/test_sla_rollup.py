"""Quarters rolled up from monthly measurements (sla/rollup.py), against figures worked out by
hand: service minutes counted on the calendar, the weighted value and error budget written out as
arithmetic on those minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.models.metrics import rollup_of
from spo_gitops.sla import report
from spo_gitops.sla.compute import Point, SlaReport, build_report
from spo_gitops.sla.metrics import Measurement, Objective
from spo_gitops.sla.periods import kind_of, months_of, parse_period, quarter_of
from spo_gitops.sla.render import render_markdown, render_text
from spo_gitops.sla.rollup import default_per
from tests.conftest import REPO

# England and Wales bank holidays of April to June 2026 (catalog/calendars/uk-bank-holidays.yaml)
HOLIDAYS = frozenset(dt.date(2026, m, d) for m, d in ((4, 3), (4, 6), (5, 4), (5, 25)))


def objective(
    metric: str = "availability",
    target: float = 99.9,
    unit: str = "percent",
    direction: str = "higher-is-better",
    *,
    hours: str = "24x7",
    timezone: str = "UTC",
    holidays: frozenset[dt.date] = frozenset(),
    cadence: str | None = "quarterly",
    valid_from: dt.date = dt.date(2026, 1, 1),
) -> Objective:
    return Objective(
        sla="pay-retail",
        service="pay",
        customer="retail",
        metric=metric,
        priority=None,
        target=target,
        unit=unit,
        direction=direction,  # type: ignore[arg-type]
        period_kind="monthly",
        hours=hours,
        valid_from=valid_from,
        valid_to=dt.date(2027, 12, 31),
        timezone=timezone,
        holidays=holidays,
        review_cadence=cadence,
    )


def run(
    o: Objective, values: dict[str, float], per: str = "quarter", margin: float = 0.05
) -> SlaReport:
    ms = [
        Measurement(o, parse_period(label, "monthly"), v, "m.csv", n + 2)
        for n, (label, v) in enumerate(values.items())
    ]
    return build_report([o], ms, per=per, worsening_margin=margin)  # type: ignore[arg-type]


def points(rep: SlaReport) -> tuple[Point, ...]:
    (s,) = rep.series
    return s.points


Q2 = {"2026-04": 99.95, "2026-05": 99.80, "2026-06": 99.99}


def test_availability_weighs_each_month_by_its_service_minutes() -> None:
    (q2,) = points(run(objective(), Q2))
    # 24x7: April 30 days = 43,200 min, May 31 days = 44,640, June 30 days = 43,200
    # down: 0.05 % of 43,200 + 0.20 % of 44,640 + 0.01 % of 43,200 = 21.6 + 89.28 + 4.32 = 115.2
    assert q2.period.label == "2026-Q2"
    assert q2.measured == pytest.approx(100 * (1 - 115.2 / 131_040))  # 99.912088
    assert round(q2.measured, 6) == 99.912088  # not the plain mean, 99.913333
    assert q2.attained and q2.margin == pytest.approx(0.012088, abs=1e-6)
    assert q2.budget is not None
    assert q2.budget.minutes == 131_040
    assert q2.budget.allowed == pytest.approx(131.04)  # 0.1 % of 131,040: 43.2 + 44.64 + 43.2
    assert q2.budget.consumed == pytest.approx(115.2)
    assert q2.budget.left == pytest.approx(15.84)
    assert q2.budget.left_percent == pytest.approx(100 * 15.84 / 131.04)  # 12.09 %
    assert [m.period.label for m in q2.rolled_up] == ["2026-04", "2026-05", "2026-06"]
    assert [m.measured for m in q2.rolled_up] == [99.95, 99.80, 99.99]
    assert not q2.partial and q2.sources == ("m.csv:2", "m.csv:3", "m.csv:4")


def test_business_hours_and_holidays_weigh_by_the_minutes_of_service() -> None:
    o = objective(
        target=99.5, hours="Mon-Fri 08:00-18:00", timezone="Europe/London", holidays=HOLIDAYS
    )
    (q2,) = points(run(o, Q2))
    # 10 h = 600 min a weekday. April 2026 starts on a Wednesday: 22 weekdays less Good Friday
    # and Easter Monday = 20 days = 12,000 min. May starts on a Friday: 21 weekdays less the two
    # bank holiday Mondays = 19 days = 11,400 min. June starts on a Monday: 22 weekdays = 13,200.
    assert [m.budget.minutes for m in q2.rolled_up if m.budget] == [12_000, 11_400, 13_200]
    # down: 0.05 % of 12,000 + 0.20 % of 11,400 + 0.01 % of 13,200 = 6 + 22.8 + 1.32 = 30.12
    assert q2.measured == pytest.approx(100 * (1 - 30.12 / 36_600))  # 99.917705
    assert q2.budget is not None and q2.budget.minutes == 36_600
    assert q2.budget.allowed == pytest.approx(183.0)  # 0.5 % of 36,600
    assert q2.budget.consumed == pytest.approx(30.12)
    assert q2.budget.left == pytest.approx(152.88)


def test_other_metrics_are_the_mean_of_the_months() -> None:
    mttr = objective("mttr", 4, "h", "lower-is-better")
    (q2,) = points(run(mttr, {"2026-04": 1.2, "2026-05": 1.5, "2026-06": 2.1}))
    assert q2.measured == pytest.approx(1.6)  # (1.2 + 1.5 + 2.1) / 3, per month, unweighted
    assert q2.margin == pytest.approx(2.4) and q2.budget is None
    assert rollup_of("availability", "percent") == "service-minutes"
    assert [rollup_of(m, u) for m, u in (("mttr", "h"), ("incidents", "count"))] == ["mean"] * 2
    assert rollup_of("my-own-share", "percent") == "mean"  # a custom metric


def test_a_partial_quarter_rolls_up_what_there_is_and_is_marked() -> None:
    rep = run(objective(), {"2026-04": 99.95, "2026-05": 99.80})
    (q2,) = points(rep)
    assert q2.partial and (len(q2.rolled_up), q2.expected_months) == (2, 3)
    # April and May only: (21.6 + 89.28) / (43,200 + 44,640) down
    assert q2.measured == pytest.approx(100 * (1 - 110.88 / 87_840))  # 99.87377: breached
    assert not q2.attained
    assert q2.budget is not None and q2.budget.minutes == 87_840
    assert q2.budget.allowed == pytest.approx(87.84) and q2.budget.consumed == pytest.approx(110.88)
    text = render_text(rep)
    assert "in 2026-Q2 (partial: 2 of 3 months) (margin -0.026)" in text
    assert "Partial quarters (not every month measured): 2026-Q2, 2 of 3 months (1 objective)." in (
        text
    )
    assert "| 2026-Q2 (partial: 2 of 3 months) | 99.874 | BREACHED |" in render_markdown(rep)


def test_months_outside_the_validity_are_not_expected() -> None:
    late = objective(valid_from=dt.date(2026, 2, 1))  # Q1 of this SLA is February and March
    (q1,) = points(run(late, {"2026-02": 99.95, "2026-03": 99.95}))
    assert (q1.expected_months, q1.partial) == (2, False)


def test_two_missed_quarters_call_for_a_plan_where_no_two_months_in_a_row_missed() -> None:
    months = {
        "2026-01": 99.95,
        "2026-02": 99.60,
        "2026-03": 99.95,
        "2026-04": 99.95,
        "2026-05": 99.60,
        "2026-06": 99.95,
    }
    # per month: February and May missed 99.9, never two in a row; no two worsening in a row
    assert run(objective(), months, per="measurement").improvements == []
    rep = run(objective(), months)
    q1, q2 = points(rep)
    # Q1 (UTC): 44,640 + 40,320 + 44,640 = 129,600 min; down 22.32 + 161.28 + 22.32 = 205.92
    assert q1.measured == pytest.approx(100 * (1 - 205.92 / 129_600))  # 99.841111
    # Q2: 131,040 min; down 21.6 + 178.56 + 21.6 = 221.76
    assert q2.measured == pytest.approx(100 * (1 - 221.76 / 131_040))  # 99.830769
    (plan,) = rep.improvements
    assert (plan.reason, plan.periods) == ("breached", ("2026-Q1", "2026-Q2"))
    assert plan.message == (
        "pay-retail: availability missed its target in 2 consecutive periods (2026-Q1, 2026-Q2)"
    )


def test_the_last_two_months_missed_are_one_quarter_missed() -> None:
    months = {
        "2026-01": 99.95,
        "2026-02": 99.95,
        "2026-03": 99.95,
        "2026-04": 99.95,
        "2026-05": 99.85,
        "2026-06": 99.85,
    }
    (monthly,) = run(objective(), months, per="measurement").improvements
    assert (monthly.reason, monthly.periods) == ("breached", ("2026-05", "2026-06"))
    rep = run(objective(), months)
    q1, q2 = points(rep)
    assert q1.measured == pytest.approx(99.95) and q1.attained
    # Q2: down 0.05 % of 43,200 + 0.15 % of 44,640 + 0.15 % of 43,200 = 21.6 + 66.96 + 64.8
    assert q2.measured == pytest.approx(100 * (1 - 153.36 / 131_040))  # 99.882967
    assert not q2.attained and q2.trend == "worsening"
    # one quarter missed, one worsening: not two in a row
    assert rep.improvements == []


def test_trends_between_quarters_use_the_worsening_margin() -> None:
    mttr = objective("mttr", 5, "h", "lower-is-better")
    values = dict(
        zip(
            [f"2026-{m:02d}" for m in range(1, 10)],
            [3.9, 4.0, 4.1, 4.1, 4.2, 4.3, 4.4, 4.5, 4.6],
            strict=True,
        )
    )
    # means 4.0, 4.2, 4.5 h: +0.2 is within 5 % of 5 h (0.25), +0.3 is beyond
    assert [p.trend for p in points(run(mttr, values))] == [None, "steady", "worsening"]
    assert [p.trend for p in points(run(mttr, values, margin=0.0))] == [
        None,
        "worsening",
        "worsening",
    ]


def test_only_monthly_slas_reviewed_quarterly_roll_up() -> None:
    half = objective(cadence="half-yearly")
    assert [p.period.label for p in points(run(half, Q2))] == ["2026-04", "2026-05", "2026-06"]
    assert [p.period.label for p in points(run(objective(), Q2, per="measurement"))] == [
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    assert (default_per("2026-Q2"), default_per("2026-06"), default_per(None)) == (
        "quarter",
        "measurement",
        "measurement",
    )


def test_quarters_and_their_months() -> None:
    assert quarter_of(parse_period("2026-05", "monthly")).label == "2026-Q2"
    assert quarter_of(parse_period("2026-12", "monthly")).label == "2026-Q4"
    q4 = parse_period("2026-Q4", "quarterly")
    assert [m.label for m in months_of(q4)] == ["2026-10", "2026-11", "2026-12"]
    assert (kind_of("2026-Q1"), kind_of("2026-01"), kind_of("2026"), kind_of("Q1")) == (
        "quarterly",
        "monthly",
        "yearly",
        None,
    )


def test_a_quarterly_row_for_an_sla_reviewed_half_yearly_says_so(tmp_path: Path) -> None:
    index = validate(load_project(REPO)).index
    path = tmp_path / "q.csv"
    path.write_text(
        "service,metric,priority,period,value\ndata-warehouse,availability,,2026-Q2,99.9\n",
        encoding="utf-8",
    )
    rep = report(index, [(path, "q.csv")])
    (d,) = rep.diagnostics
    assert (d.code, d.line) == ("SPO806", 2)
    assert d.hint == (
        "data-warehouse-corporate is measured monthly: give a row per month (YYYY-MM); months "
        "roll up into quarters for SLAs reviewed quarterly (this one: reviewed half-yearly)"
    )
