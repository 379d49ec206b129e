"""Business case figures, each against arithmetic done by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from spo_gitops.portfolio.finance import case_figures, npv, payback_years, roi, tco
from spo_gitops.portfolio.roadmap import due, lead_times, quarter_of, stage_dates


def test_tco_roi_npv_payback_of_a_small_case() -> None:
    # investment 1000, cost 100/yr, benefit 500/yr, 3 years, 10 %
    assert tco(1000, 100, 3) == 1300  # 1000 + 3 * 100
    assert roi(1000, 100, 500, 3) == pytest.approx(200 / 1300)  # (1500 - 1300) / 1300
    # -1000 + 400/1.1 + 400/1.21 + 400/1.331 = -1000 + 363.6364 + 330.5785 + 300.5259
    assert npv(1000, 100, 500, 3, 0.10) == pytest.approx(-5.2592, abs=1e-4)
    assert payback_years(1000, 100, 500, 3) == 2.5  # 1000 / 400


def test_payback_none_when_never_earned_back() -> None:
    assert payback_years(1000, 500, 500, 10) is None  # net 0
    assert payback_years(1000, 100, 300, 4) is None  # 1000 / 200 = 5 years > 4
    assert payback_years(0, 100, 50, 4) == 0.0  # nothing to earn back


def test_legacy_teller_has_positive_roi_but_negative_npv_at_8_percent() -> None:
    case = {
        "currency": "EUR",
        "investment": 3_800_000,
        "annualCost": 1_300_000,
        "annualBenefit": 1_600_000,
        "horizonYears": 30,
    }
    f = case_figures(case, 0.08)
    assert f is not None
    assert f.tco == 42_800_000  # 3.8 M + 30 * 1.3 M
    assert f.roi == pytest.approx(5_200_000 / 42_800_000)  # (48 M - 42.8 M) / 42.8 M = 12.15 %
    # annuity factor (1 - 1.08**-30) / 0.08 = 11.257783; 300,000 * 11.257783 = 3,377,335
    assert f.npv == pytest.approx(-422_665, abs=1)
    assert f.payback == pytest.approx(12.6667, abs=1e-4)  # 3.8 M / 0.3 M


def test_case_without_a_field_has_no_figures() -> None:
    assert case_figures({"currency": "EUR", "investment": 1}, 0.08) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03", dt.date(2027, 3, 31)),
        ("2028-02", dt.date(2028, 2, 29)),  # a leap year
        ("2027-Q3", dt.date(2027, 9, 30)),
        ("2027-Q4", dt.date(2027, 12, 31)),
        ("2027-03-15", dt.date(2027, 3, 15)),
    ],
)
def test_a_planned_period_is_due_on_its_last_day(text: str, expected: dt.date) -> None:
    assert due(text) == expected


def test_quarter_of() -> None:
    assert quarter_of(dt.date(2026, 12, 1)) == (2026, 4)
    assert quarter_of(dt.date(2027, 4, 1)) == (2027, 2)


def test_stage_dates_prefer_approvals_then_git_history() -> None:
    entry = {
        "spec": {
            "stage": "designed",
            "approvals": [
                {"stage": "approved", "date": "2026-01-10"},
                {"stage": "designed", "date": "2026-05-01"},
            ],
        }
    }
    history = [
        (dt.date(2025, 12, 1), "proposed"),
        (dt.date(2026, 1, 3), "approved"),  # the approval record's date wins
        (dt.date(2026, 2, 20), "chartered"),
        (dt.date(2026, 5, 2), "designed"),
    ]
    dates = stage_dates(entry, history)
    assert dates == {
        "proposed": (dt.date(2025, 12, 1), "git"),
        "approved": (dt.date(2026, 1, 10), "approval"),
        "chartered": (dt.date(2026, 2, 20), "git"),
        "designed": (dt.date(2026, 5, 1), "approval"),
    }
    # proposed -> approved, 2025-12-01 to 2026-01-10: 30 + 10 = 40 days;
    # approved -> chartered: 21 + 20 = 41; chartered -> designed: 8 + 31 + 30 + 1 = 70
    assert lead_times(dates) == {"approved": 40, "chartered": 41, "designed": 70}
