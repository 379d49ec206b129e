"""Service hours: the grammar, time zones, holidays and daylight saving (minutes by hand).

June 2026 starts on a Monday: 22 weekdays (1-5, 8-12, 15-19, 22-26, 29-30), 4 Saturdays and
4 Sundays. April 2026 starts on a Wednesday: 22 weekdays, Good Friday is the 3rd and Easter
Monday the 6th. Europe/London moves its clocks forward on 29 March 2026 and back on 25 October.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.review.versioning import breaking_changes
from spo_gitops.sla import parse_period, report, service_minutes
from spo_gitops.sla.hours import HoursError, parse_hours

JUNE = parse_period("2026-06", "monthly")


@pytest.mark.parametrize(
    ("hours", "minutes"),
    [
        ("24x7", 30 * 1440),
        ("Mon-Fri 08:00-18:00", 22 * 600),
        ("mon-fri 08:00-12:00 13:00-18:00", 22 * 540),  # two windows a day, any case
        ("Mon-Fri 08:00-18:00; Sat 09:00-13:00", 22 * 600 + 4 * 240),
        ("Mon-Fri 08:00-18:00 09:00-10:00", 22 * 600),  # overlapping windows count once
        ("daily 22:00-06:00", 30 * 480),  # overnight: May 31's night reaches into June 1
        ("Sat,Sun 00:00-24:00", 8 * 1440),
        ("Fri-Mon 10:00-11:00", (4 + 4 + 4 + 5) * 60),  # a range that wraps the week
        ("Mon-Fri 22:00-06:00", 21 * 480 + 120),  # June 30's night ends in July
    ],
)
def test_minutes_of_service_in_june(hours: str, minutes: int) -> None:
    assert service_minutes(JUNE, hours) == minutes


def test_daylight_saving_changes_are_counted() -> None:
    march, october = parse_period("2026-03", "monthly"), parse_period("2026-10", "monthly")
    assert service_minutes(march, "24x7", "Europe/London") == 31 * 1440 - 60
    assert service_minutes(october, "24x7", "Europe/London") == 31 * 1440 + 60
    assert service_minutes(march, "24x7", "UTC") == 31 * 1440
    # 29 March 2026: 00:30 GMT to 02:30 BST is one real hour
    day = parse_period("2026-03", "monthly")
    assert service_minutes(day, "Sun 00:30-02:30", "Europe/London") == 5 * 120 - 60


def test_holidays_close_the_windows_that_start_on_them() -> None:
    april = parse_period("2026-04", "monthly")
    easter = {dt.date(2026, 4, 3), dt.date(2026, 4, 6)}
    assert service_minutes(april, "Mon-Fri 08:00-18:00", "Europe/London") == 22 * 600
    assert service_minutes(april, "Mon-Fri 08:00-18:00", "Europe/London", easter) == 20 * 600
    assert service_minutes(april, "24x7", "UTC", easter) == 28 * 1440


@pytest.mark.parametrize(
    ("hours", "offset", "message"),
    [
        (
            "Mon-Fri 08:00-18:00 excl. bank holidays",
            20,
            "'excl.' is not a time window: holidays are not written in the hours; name the "
            "holiday calendar in window.calendar",
        ),
        (
            "Mon-Fry 08:00-18:00",
            0,
            "'Mon-Fry' is not a day or a range of days (Mon, Mon-Fri, daily)",
        ),
        ("Mon-Fri 8-18", 8, "'8' is not a time (HH:MM, 00:00 to 24:00)"),
        ("Mon-Fri", 0, "'Mon-Fri' has no time window (HH:MM-HH:MM)"),
        ("Mon-Fri 08:00-25:00", 14, "'25:00' is not a time (HH:MM, 00:00 to 24:00)"),
        ("business hours", 0, "'business' is not a day or a range of days (Mon, Mon-Fri, daily)"),
    ],
)
def test_hours_that_do_not_parse_say_what_and_where(hours: str, offset: int, message: str) -> None:
    with pytest.raises(HoursError) as e:
        parse_hours(hours)
    assert (e.value.offset, e.value.message) == (offset, message)


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
metadata: {name: obg, version: 1.0.0, owner: team-a}
spec: {type: business, tier: 2, outcomes: [{name: Third parties reach accounts}]}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: obg, version: 1.0.0, owner: team-a}
spec: {service: obg, stage: proposed}
---
apiVersion: spo/v1
kind: HolidayCalendar
metadata: {name: bank-holidays, version: 1.0.0, owner: team-a}
spec:
  holidays: [{date: 2026-04-03, name: Good Friday}, {date: 2026-04-06, name: Easter Monday}]
---
apiVersion: spo/v1
kind: ServiceLevelAgreement
metadata: {name: obg-retail, version: 1.0.0, owner: team-a}
spec:
  service: obg
  customer: retail
  validity: {start: 2026-01-01, end: 2027-12-31}
  window: {hours: "%(hours)s", timezone: %(tz)s%(calendar)s}
  objectives: [{metric: availability, target: 99.9, unit: percent}]
"""


def catalog(root: Path, hours: str, tz: str = "Europe/London", calendar: str = "") -> Path:
    (root / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n", encoding="utf-8")
    (root / "catalog").mkdir(exist_ok=True)
    text = CATALOG % {"hours": hours, "tz": tz, "calendar": calendar}
    (root / "catalog" / "all.yaml").write_text(text, encoding="utf-8")
    return root


def test_hours_that_do_not_parse_are_an_error_at_their_place(tmp_path: Path) -> None:
    root = catalog(tmp_path, "Mon-Fri 08:00-18:00 excl. bank holidays")
    (d,) = validate(load_project(root)).findings.items
    assert (d.code, d.line, d.pointer) == ("SPO420", 34, "/spec/window/hours")
    assert "'excl.' is not a time window" in d.message
    root = catalog(tmp_path, "24x7", tz="Europe/Londres")
    (d,) = validate(load_project(root)).findings.items
    assert (d.code, d.pointer) == ("SPO421", "/spec/window/timezone")
    root = catalog(tmp_path, "24x7", calendar=", calendar: no-such-calendar")
    (d,) = validate(load_project(root)).findings.items
    assert (d.code, d.pointer) == ("SPO302", "/spec/window/calendar")


def test_the_error_budget_counts_the_real_service_minutes(tmp_path: Path) -> None:
    root = catalog(tmp_path, "Mon-Fri 08:00-18:00", calendar=", calendar: bank-holidays")
    result = validate(load_project(root))
    assert result.findings.items == []
    rows = tmp_path / "m.csv"
    rows.write_text(
        "service,metric,priority,period,value\nobg,availability,,2026-06,99.9\n"
        "obg,availability,,2026-04,99.9\n",
        encoding="utf-8",
    )
    (series,) = report(result.index, [(rows, "m.csv")]).series
    april, june = series.points
    # June: 22 weekdays of 10 hours = 13,200 minutes; 0.1 % of them is 13.2 (24x7: 43.2)
    assert june.budget is not None and june.budget.minutes == 13200
    assert june.budget.allowed == pytest.approx(13.2)
    # April: 22 weekdays less Good Friday and Easter Monday = 20 days = 12,000 minutes
    assert april.budget is not None and april.budget.minutes == 12000
    assert april.budget.allowed == pytest.approx(12.0)


def test_changing_the_time_zone_or_the_calendar_breaks_the_agreement() -> None:
    def sla(**window: str) -> dict[str, object]:
        return {"spec": {"window": {"hours": "24x7", **window}, "objectives": []}}

    assert breaking_changes("ServiceLevelAgreement", sla(), sla(timezone="UTC"), False) == []
    assert breaking_changes(
        "ServiceLevelAgreement", sla(), sla(timezone="Europe/London"), False
    ) == ["time zone of the service hours changed"]
    assert breaking_changes("ServiceLevelAgreement", sla(), sla(calendar="uk"), False) == [
        "holiday calendar of the service hours changed"
    ]
