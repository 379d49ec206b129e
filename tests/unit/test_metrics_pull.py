"""Incident exports and surveys turned into metrics, against values worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.sla.pull.common import Value, service_hours_between
from spo_gitops.sla.pull.incidents import incident_values, read_incidents
from spo_gitops.sla.pull.surveys import csat, nps, read_surveys, survey_values
from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "metrics"


@pytest.fixture(scope="module")
def index() -> object:
    return validate(load_project(REPO)).index


def test_service_hours_count_only_the_window() -> None:
    london = dt.timezone(dt.timedelta(0))
    fri = dt.datetime(2026, 3, 6, 18, 0, tzinfo=london)
    sat = dt.datetime(2026, 3, 7, 9, 0, tzinfo=london)
    # Friday 18:00-20:00 and Saturday 07:00-09:00 of Mon-Sat 07:00-20:00: 4 hours
    assert service_hours_between(fri, sat, "Mon-Sat 07:00-20:00") == pytest.approx(4.0)
    assert service_hours_between(fri, sat, "24x7") == pytest.approx(15.0)
    # Saturday 19:00 to Monday 08:00: one hour on Saturday, none on Sunday, one on Monday
    mon = dt.datetime(2026, 3, 9, 8, 0, tzinfo=london)
    late_sat = dt.datetime(2026, 3, 7, 19, 0, tzinfo=london)
    assert service_hours_between(late_sat, mon, "Mon-Sat 07:00-20:00") == pytest.approx(2.0)


def test_service_hours_of_a_restore_follow_the_sla_grammar() -> None:
    # the grammar of sla/hours.py: an overnight window, a holiday calendar, a time zone
    utc = dt.UTC
    tue_5 = dt.datetime(2026, 3, 10, 5, 0, tzinfo=utc)
    tue_23 = dt.datetime(2026, 3, 10, 23, 0, tzinfo=utc)
    # Mon-Fri 22:00-06:00: 05:00-06:00 and 22:00-23:00 on Tuesday: 2 hours (not 18)
    assert service_hours_between(tue_5, tue_23, "Mon-Fri 22:00-06:00") == pytest.approx(2.0)
    # Friday 1 May 17:00 to Tuesday 5 May 09:00, Mon-Fri 08:00-18:00, Monday 4 May a bank
    # holiday: Friday 1 h + Tuesday 1 h = 2 hours (12 without the calendar)
    fri = dt.datetime(2026, 5, 1, 17, 0, tzinfo=utc)
    tue = dt.datetime(2026, 5, 5, 9, 0, tzinfo=utc)
    hours = "Mon-Fri 08:00-18:00"
    assert service_hours_between(fri, tue, hours) == pytest.approx(12.0)
    assert service_hours_between(fri, tue, hours, "UTC", {dt.date(2026, 5, 4)}) == pytest.approx(
        2.0
    )
    # two windows a day: Mon 09:00-12:00 and 13:00-17:00, incident 11:00-14:00: 1 + 1 hours
    mon_11 = dt.datetime(2026, 3, 9, 11, 0, tzinfo=utc)
    mon_14 = dt.datetime(2026, 3, 9, 14, 0, tzinfo=utc)
    two = "Mon-Fri 09:00-12:00 13:00-17:00"
    assert service_hours_between(mon_11, mon_14, two) == pytest.approx(2.0)
    # London wall clock: 08:00-18:00 local is 07:00-17:00 UTC in May; 17:30 UTC is after hours
    london_fri = dt.datetime(2026, 5, 1, 16, 30, tzinfo=utc)
    london_end = dt.datetime(2026, 5, 1, 17, 30, tzinfo=utc)
    assert service_hours_between(london_fri, london_end, hours, "Europe/London") == pytest.approx(
        0.5
    )
    assert service_hours_between(fri, tue, "no such hours") is None


def test_servicenow_export_mttr_per_priority_in_service_hours(index: object) -> None:
    path = EXAMPLES / "incidents-servicenow.csv"
    shown = "examples/metrics/incidents-servicenow.csv"
    incidents, bad = read_incidents(path.read_text(), shown, index, "servicenow")  # type: ignore[arg-type]
    values, bad_times = incident_values(incidents, index)  # type: ignore[arg-type]
    got = {(v.metric, v.priority, v.period): round(v.value, 4) for v in values}
    # service-desk-branch: Mon-Sat 07:00-20:00. P1: 3.5 h (Mon 09:00-12:30), 4 h (Fri 18:00 to
    # Sat 09:00: 2 + 2), 2 h (Sat 19:00 to Mon 08:00: 1 + 0 + 1) -> 9.5 / 3
    assert got[("mttr", "P1", "2026-03")] == round(9.5 / 3, 4)
    # P2: 6 h (Tue 10:00-16:00) and 3 h (Wed 21:00 to Thu 10:00: only Thu 07:00-10:00) -> 4.5
    assert got[("mttr", "P2", "2026-03")] == 4.5
    # first contact = no reassignment: INC0010001, 3 and 4 of the five resolved -> 60 %
    assert got[("first-contact-resolution", "", "2026-03")] == 60.0
    assert all(v.unit == "h" for v in values if v.metric == "mttr")
    assert len(got) == 3  # the open incident and the bad rows add nothing
    found = sorted((d.line, d.code) for d in [*bad, *bad_times])
    assert found == [(7, "SPO831"), (8, "SPO833"), (9, "SPO832"), (10, "SPO831")]
    assert all(d.file == shown for d in [*bad, *bad_times])


def test_generic_jsonl_export(index: object) -> None:
    text = (
        '{"id": "A1", "service": "service-desk", "priority": "P2", "opened": '
        '"2026-03-10T10:00:00Z", "resolved": "2026-03-10T16:00:00Z", "first_contact": true}\n'
        '{"id": "A1", "service": "service-desk", "priority": "P2", "opened": '
        '"2026-03-10T10:00:00Z", "resolved": "2026-03-10T16:00:00Z", "first_contact": true}\n'
        "not json\n"
        '{"id": "A2", "service": "service-desk", "priority": "P2", "opened": '
        '"2026-03-11T08:00:00Z", "resolved": "2026-03-11T10:00:00Z", "first_contact": "maybe"}\n'
    )
    incidents, bad = read_incidents(text, "x.jsonl", index)  # type: ignore[arg-type]
    values, _ = incident_values(incidents, index)  # type: ignore[arg-type]
    assert sorted((d.line, d.code) for d in bad) == [(2, "SPO834"), (3, "SPO830"), (4, "SPO831")]
    assert Value("service-desk", "mttr", "P2", "2026-03", 6.0, "h") in values
    assert Value("service-desk", "first-contact-resolution", "", "2026-03", 100.0, "percent") in (
        values
    )


def test_csat_and_nps_by_hand() -> None:
    assert csat([5, 4, 3, 5, 2, 4, 4, 1]) == 62.5  # five of eight rate 4 or 5
    # 10 scores: promoters 9, 10, 10 (3); passives 7, 8 (2); detractors 0, 3, 5, 6, 6 (5)
    assert nps([9, 10, 10, 7, 8, 0, 3, 5, 6, 6]) == pytest.approx(-20.0)


def test_survey_export(index: object, tmp_path: Path) -> None:
    path = EXAMPLES / "surveys-2026.csv"
    responses, bad = read_surveys(path.read_text(), "surveys.csv", index)  # type: ignore[arg-type]
    values = survey_values(responses, index)  # type: ignore[arg-type]
    got = {(v.metric, v.period): v.value for v in values}
    assert got == {
        ("customer-satisfaction", "2026-03"): 62.5,
        ("customer-satisfaction", "2026-04"): 100.0,
    }
    assert [(d.line, d.code) for d in bad] == [(11, "SPO831")]  # a rating of 6
