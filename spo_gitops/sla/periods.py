"""Measurement periods (2026-03, 2026-Q1, 2026) and the minutes of service in them.

An SLA's ``window.period`` says how its objectives are measured: monthly periods are written
``YYYY-MM``, quarterly ``YYYY-Qn`` and yearly ``YYYY``. The error budget of an availability
objective is counted in minutes of *service hours* (``24x7`` or e.g. ``Mon-Fri 08:00-18:00``,
sla/hours.py) in the period, in the SLA's time zone, less its holidays.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from spo_gitops.sla.hours import HoursError, parse_hours, service_minutes_between, zone

PeriodKind = Literal["monthly", "quarterly", "yearly"]

_FORMS: dict[PeriodKind, tuple[re.Pattern[str], str]] = {
    "monthly": (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "YYYY-MM, e.g. 2026-03"),
    "quarterly": (re.compile(r"^(\d{4})-Q([1-4])$"), "YYYY-Qn, e.g. 2026-Q1"),
    "yearly": (re.compile(r"^(\d{4})$"), "YYYY, e.g. 2026"),
}


@dataclass(frozen=True, order=True)
class Period:
    """One measurement period: [start, end) in calendar days."""

    start: dt.date
    end: dt.date  # exclusive
    kind: PeriodKind
    label: str

    def previous(self) -> Period:
        return parse_period(_label(self.kind, self.start - dt.timedelta(days=1)), self.kind)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def minutes(self) -> int:
        """Calendar minutes in the period."""
        return self.days * 24 * 60


class PeriodError(ValueError):
    """A period label that does not fit the SLA's measurement period."""


def _label(kind: PeriodKind, day: dt.date) -> str:
    if kind == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarterly":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def parse_period(text: str, kind: PeriodKind) -> Period:
    """The period ``text`` names; PeriodError when it is not written as ``kind`` periods are."""
    pattern, form = _FORMS[kind]
    m = pattern.match(text.strip())
    if m is None:
        raise PeriodError(f"period {text!r} is not a {kind} period ({form})")
    year = int(m.group(1))
    if kind == "monthly":
        month = int(m.group(2))
        start = dt.date(year, month, 1)
        end = dt.date(year + month // 12, month % 12 + 1, 1)
    elif kind == "quarterly":
        q = int(m.group(2))
        start = dt.date(year, 3 * q - 2, 1)
        end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    else:
        start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    return Period(start, end, kind, text.strip())


def kind_of(text: str) -> PeriodKind | None:
    """The kind of period ``text`` is written as (None: it is no period label)."""
    for kind, (pattern, _form) in _FORMS.items():
        if pattern.match(text.strip()):
            return kind
    return None


def quarter_of(period: Period) -> Period:
    """The quarter ``period`` (a month) starts in."""
    return parse_period(_label("quarterly", period.start), "quarterly")


def months_of(period: Period) -> tuple[Period, ...]:
    """The months of ``period``, in order."""
    out = []
    day = period.start
    while day < period.end:
        month = parse_period(_label("monthly", day), "monthly")
        out.append(month)
        day = month.end
    return tuple(out)


def service_minutes(
    period: Period,
    hours: str,
    timezone: str = "UTC",
    holidays: Collection[dt.date] = (),
) -> int:
    """Minutes of service hours in ``period`` (sla/hours.py has the grammar): ``24x7`` is every
    minute of the time zone's real time line (a month with a daylight-saving change has an hour
    more or less), ``Mon-Fri 08:00-18:00`` the windows on those days, less the ``holidays``.
    Hours or a time zone that do not parse (validate reports them, SPO420/SPO421) count every
    calendar minute."""
    try:
        parsed, tz = parse_hours(hours), zone(timezone)
    except HoursError:
        return period.minutes
    return round(service_minutes_between(parsed, period.start, period.end, tz, holidays))
