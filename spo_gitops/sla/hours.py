"""Service hours: the grammar of an SLA's ``window.hours`` and the real minutes of service.

Grammar (day names in English, any case)::

    hours   := "24x7" | "24/7" | group (";" group)*
    group   := days window+                       e.g. "Mon-Fri 08:00-12:00 13:00-18:00"
    days    := "daily" | dayspec ("," dayspec)*   e.g. "Mon-Fri", "Sat,Sun", "Mon-Wed,Fri"
    dayspec := day | day "-" day                  a range may wrap: "Fri-Mon"
    window  := HH:MM "-" HH:MM                    00:00 to 24:00; an end at or before the start
                                                  runs overnight into the next day

A window belongs to the day it starts on; on a holiday of the SLA's holiday calendar
(``window.calendar``, a HolidayCalendar document) the windows that start that day are closed.
Times are wall-clock times of the SLA's time zone (``window.timezone``, IANA), and minutes are
counted on the real time line: a 24x7 month in Europe/London has 60 minutes less in March and 60
more in October, and a window across the clock change counts the hour it really lasted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_WINDOW = re.compile(r"^(\S+)-(\S+)$")


class HoursError(ValueError):
    """Service hours that do not parse: ``message`` says what, ``offset`` where in the text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class ServiceHours:
    """Parsed service hours: per weekday (0 = Monday) the windows that start that day, as
    minutes from local midnight (the end may pass 1440: overnight); None is round the clock."""

    windows: tuple[tuple[tuple[int, int], ...], ...] | None

    @property
    def always(self) -> bool:
        return self.windows is None

    def intervals(self, day: dt.date) -> tuple[tuple[int, int], ...]:
        """The windows that start on ``day`` (merged, in order)."""
        if self.windows is None:
            return ((0, DAY_MINUTES),)
        return self.windows[day.weekday()]


def _time(text: str, offset: int, end: bool) -> int:
    m = _TIME.match(text)
    if m is None:
        raise HoursError(f"{text!r} is not a time (HH:MM, 00:00 to 24:00)", offset)
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > DAY_MINUTES or (minutes == DAY_MINUTES and not end):
        raise HoursError(f"{text!r} is not a time of day (24:00 only ends a window)", offset)
    return minutes


def _days(text: str, offset: int) -> set[int]:
    if text.lower() == "daily":
        return set(range(7))
    out: set[int] = set()
    pos = offset
    for part in text.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e.lower() not in DAYS for e in ends):
            raise HoursError(f"{part!r} is not a day or a range of days (Mon, Mon-Fri, daily)", pos)
        first = DAYS.index(ends[0].lower())
        last = DAYS.index(ends[-1].lower())
        out.update((first + i) % 7 for i in range((last - first) % 7 + 1))
        pos += len(part) + 1
    return out


def _merge(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@lru_cache(maxsize=256)
def parse_hours(text: str) -> ServiceHours:
    """The service hours ``text`` says; HoursError (with the offset of the problem) when it
    does not follow the grammar."""
    stripped = text.strip()
    if stripped.lower() in ("24x7", "24/7"):
        return ServiceHours(None)
    if not stripped:
        raise HoursError("no service hours given (24x7, or e.g. Mon-Fri 08:00-18:00)")
    per_day: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    offset = 0
    for group in text.split(";"):
        tokens = [(m.group(), offset + m.start()) for m in re.finditer(r"\S+", group)]
        offset += len(group) + 1
        if not tokens:
            raise HoursError("an empty group of service hours (two ';' in a row?)", offset - 1)
        (days_text, days_at), windows = tokens[0], tokens[1:]
        if days_text.lower().startswith(("excl", "except", "without")):
            raise HoursError(
                f"{days_text!r}: holidays are not written in the hours; name the holiday "
                "calendar in window.calendar",
                days_at,
            )
        days = _days(days_text, days_at)
        if not windows:
            raise HoursError(f"{days_text!r} has no time window (HH:MM-HH:MM)", days_at)
        for word, at in windows:
            m = _WINDOW.match(word)
            if m is None:
                hint = (
                    "holidays are not written in the hours; name the holiday calendar in "
                    "window.calendar"
                    if word.lower().startswith(("excl", "except", "without"))
                    else "a window is written HH:MM-HH:MM"
                )
                raise HoursError(f"{word!r} is not a time window: {hint}", at)
            start = _time(m.group(1), at, end=False)
            end = _time(m.group(2), at + len(m.group(1)) + 1, end=True)
            if end <= start:
                end += DAY_MINUTES  # overnight: into the next day
            for d in days:
                per_day[d].append((start, end))
    return ServiceHours(tuple(_merge(w) for w in per_day))


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; HoursError when there is none of that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise HoursError(f"unknown time zone {name!r} (an IANA name, e.g. Europe/London)") from e


def _instant(day: dt.date, minutes: int, tz: ZoneInfo) -> dt.datetime:
    """The real instant (UTC) of local wall time ``minutes`` after midnight of ``day``.
    A wall time in a spring-forward gap is read with the offset before the change, as
    zoneinfo does (fold 0)."""
    local = dt.datetime.combine(day, dt.time(), tz) + dt.timedelta(minutes=minutes)
    wall = dt.datetime.combine(local.date(), local.time(), tz)
    return wall.astimezone(dt.UTC)


def service_seconds(
    hours: ServiceHours,
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
    holidays: Collection[dt.date] = (),
) -> float:
    """Seconds of service between two instants (aware datetimes)."""
    lo, hi = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if hi <= lo:
        return 0.0
    if hours.always and not holidays:
        return (hi - lo).total_seconds()
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    day = lo.astimezone(tz).date() - dt.timedelta(days=1)  # an overnight window of the day before
    last = hi.astimezone(tz).date()
    while day <= last:
        if day not in holidays:
            for a, b in hours.intervals(day):
                s, e = max(lo, _instant(day, a, tz)), min(hi, _instant(day, b, tz))
                if e > s:
                    spans.append((s, e))
        day += dt.timedelta(days=1)
    total = 0.0
    reach: dt.datetime | None = None  # windows of neighbouring days may overlap: count once
    for s, e in sorted(spans):
        if reach is not None and s < reach:
            s = reach
        if e > s:
            total += (e - s).total_seconds()
            reach = e
    return total


def service_minutes_between(
    hours: ServiceHours,
    first: dt.date,
    end: dt.date,
    tz: ZoneInfo,
    holidays: Collection[dt.date] = (),
) -> float:
    """Minutes of service from local midnight of ``first`` to local midnight of ``end``."""
    start = dt.datetime.combine(first, dt.time(), tz)
    stop = dt.datetime.combine(end, dt.time(), tz)
    return service_seconds(hours, start, stop, tz, holidays) / 60
