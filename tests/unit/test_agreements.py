"""Agreements judged on the validation date: lapsed, expiring, reviews overdue (days by hand)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project

CATALOG = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: Party
metadata: {name: retail, version: 1.0.0}
spec: {type: customer}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec: {type: business, tier: 2, outcomes: [{name: Customers pay}]}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec: {service: pay, stage: proposed}
---
apiVersion: spo/v1
kind: ServiceLevelAgreement
metadata: {name: pay-retail, version: 1.0.0, owner: team-a}
spec:
  service: pay
  customer: retail
  status: %(status)s
  validity:
    start: 2026-01-01
    end: 2026-12-31
  window: {hours: 24x7}
  objectives: [{metric: availability, target: 99.5, unit: percent}]
  reviews: {cadence: quarterly, next: 2026-03-01}
"""
END_LINE, REVIEW_LINE = 30, 33


def run(
    tmp_path: Path, today: str, status: str = "active", config: str = ""
) -> list[tuple[str, int, str]]:
    (tmp_path / "spo.yaml").write_text(
        "apiVersion: spo/v1\nkind: Project\n" + config, encoding="utf-8"
    )
    (tmp_path / "catalog").mkdir(exist_ok=True)
    (tmp_path / "catalog" / "all.yaml").write_text(CATALOG % {"status": status}, "utf-8")
    result = validate(load_project(tmp_path), today=dt.date.fromisoformat(today))
    return [(d.code, d.line or 0, d.message) for d in result.findings.items]


def codes(found: list[tuple[str, int, str]]) -> list[str]:
    return [c for c, _, _ in found]


def test_review_on_its_day_is_not_overdue_and_the_day_after_it_is(tmp_path: Path) -> None:
    assert run(tmp_path, "2026-03-01") == []
    (found,) = run(tmp_path, "2026-03-02")
    assert found == (
        "SPO415",
        REVIEW_LINE,
        "service review of pay-retail was due on 2026-03-01 (1 day(s) ago)",
    )


def test_an_agreement_is_flagged_60_days_before_it_ends(tmp_path: Path) -> None:
    # 2026-11-01 to 2026-12-31: 30 days of November + 30 = 60 days left: not yet
    assert codes(run(tmp_path, "2026-11-01")) == ["SPO415"]
    found = run(tmp_path, "2026-11-02")  # 59 days left
    assert ("SPO414", END_LINE, "pay-retail expires on 2026-12-31, in 59 day(s)") in found
    assert ("SPO414", END_LINE, "pay-retail expires on 2026-12-31, in 0 day(s)") in run(
        tmp_path, "2026-12-31"
    )


def test_the_warning_period_is_set_in_spo_yaml(tmp_path: Path) -> None:
    config = "agreements: {expiryWarningDays: 90}\n"
    # 2026-10-03 to 2026-12-31: 28 + 30 + 31 = 89 days
    found = run(tmp_path, "2026-10-03", config=config)
    assert ("SPO414", END_LINE, "pay-retail expires on 2026-12-31, in 89 day(s)") in found
    assert codes(run(tmp_path, "2026-10-02", config=config)) == ["SPO415"]  # 90 days


def test_an_active_agreement_past_its_end_is_not_in_force(tmp_path: Path) -> None:
    found = run(tmp_path, "2027-01-05")
    assert (
        "SPO413",
        END_LINE,
        "pay-retail is active but its validity ended on 2026-12-31 (5 day(s) before "
        "2027-01-05): it is no longer in force",
    ) in found
    assert "SPO414" not in codes(found)


@pytest.mark.parametrize("status", ["expired", "draft"])
def test_agreements_not_active_are_neither_lapsed_nor_reviewed(tmp_path: Path, status: str) -> None:
    assert run(tmp_path, "2027-01-05", status=status) == []


def test_reference_catalog_is_clean_on_its_validation_date() -> None:
    from tests.conftest import REPO

    result = validate(load_project(REPO), today=dt.date(2026, 12, 1))
    assert [d.code for d in result.findings.items if d.code.startswith("SPO41")] == []
