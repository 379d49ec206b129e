"""What every metrics source shares: the values it yields, reading tabular exports (CSV or JSON
lines) with their line numbers, timestamps, service names, service hours, and the metrics CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spo_gitops import jsonio
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.sla.metrics import Objective
from spo_gitops.sla.periods import _DAYS, _HOURS, Period, PeriodKind, _label, parse_period

MAX_DAYS = 3660  # a record spanning more service days than this is refused, not iterated


@dataclass(frozen=True, order=True)
class Value:
    """One row of the metrics file."""

    service: str
    metric: str
    priority: str
    period: str
    value: float
    unit: str


def diag(code: str, message: str, file: str, line: int, hint: str | None = None) -> Diagnostic:
    return Diagnostic("error", code, message, file, line, 1, hint=hint)


def read_records(
    text: str, display: str
) -> tuple[list[tuple[int, dict[str, str]]], list[Diagnostic]]:
    """(line, fields) of a CSV file with a header (``#`` comment lines skipped) or of JSON lines
    (when the first character is ``{``); keys are lower-case, values stripped text."""
    records: list[tuple[int, dict[str, str]]] = []
    found: list[Diagnostic] = []
    if text.lstrip().startswith("{"):
        for n, obj, problem in jsonio.json_lines(text):
            if obj is None:
                found.append(diag("SPO830", str(problem), display, n))
                continue
            records.append((n, {str(k).lower(): _text(v) for k, v in obj.items()}))
        return records, found
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for record in reader:
        line = reader.line_num
        if not record or all(not c.strip() for c in record) or record[0].startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in record]
            continue
        records.append((line, {k: v.strip() for k, v in zip(header, record, strict=False)}))
    return records, found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def missing_columns(
    records: list[tuple[int, dict[str, str]]], needed: Iterable[str], display: str
) -> Diagnostic | None:
    """A finding when the first record lacks one of ``needed`` (CSV: the header does)."""
    if not records:
        return None
    line, first = records[0]
    missing = [c for c in needed if c not in first]
    if not missing:
        return None
    return diag("SPO830", f"no column {', '.join(missing)}", display, line)


def parse_time(text: str, zone: dt.tzinfo) -> dt.datetime | None:
    """An ISO 8601 timestamp (``2026-01-12T09:00:00Z``, ``2026-01-12 09:00:00``); one without an
    offset is local time in ``zone``. None when it cannot be read."""
    value = text.strip()
    if not value:
        return None
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp.replace(tzinfo=zone) if stamp.tzinfo is None else stamp.astimezone(zone)


def zone_of(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def service_names(index: Index) -> dict[str, str]:
    """Lower-case service name or title -> service name (exports often show the title)."""
    out: dict[str, str] = {}
    for doc in index.of_kind("ServiceModel"):
        out.setdefault(doc.name.lower(), doc.name)
        title = (doc.data.get("metadata") or {}).get("title")
        if isinstance(title, str):
            out.setdefault(title.strip().lower(), doc.name)
    return out


def period_of(day: dt.date, kind: PeriodKind) -> Period:
    return parse_period(_label(kind, day), kind)


def in_validity(period: Period, objective: Objective) -> bool:
    return bool(period.end > objective.valid_from and period.start <= objective.valid_to)


def _windows(hours: str) -> dict[int, tuple[int, int]] | None:
    """Weekday -> (first minute, end minute) of service; None for round-the-clock service.
    The grammar is the one of :func:`spo_gitops.sla.periods.service_minutes`."""
    text = hours.strip()
    m = _HOURS.match(text)
    if text.lower() in ("24x7", "24/7") or m is None:
        return None
    d1 = m.group("d1").lower()
    d2 = (m.group("d2") or m.group("d1")).lower()
    if d1 not in _DAYS or d2 not in _DAYS:
        return None
    first, last = _DAYS.index(d1), _DAYS.index(d2)
    start = int(m.group("h1")) * 60 + int(m.group("m1"))
    end = int(m.group("h2")) * 60 + int(m.group("m2"))
    if end <= start:
        return None
    return {(first + i) % 7: (start, end) for i in range((last - first) % 7 + 1)}


def service_hours_between(start: dt.datetime, end: dt.datetime, hours: str) -> float | None:
    """Hours of service between two local timestamps (of the SLA's time zone): all of them for
    ``24x7``, else only those inside the service window (``Mon-Fri 08:00-18:00``). None when the
    span covers more than MAX_DAYS days."""
    windows = _windows(hours)
    if windows is None:
        return (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() / 3600
    if (end.date() - start.date()).days > MAX_DAYS:
        return None
    total = 0.0
    day = start.date()
    while day <= end.date():
        window = windows.get(day.weekday())
        if window is not None:
            open_at = dt.datetime.combine(day, dt.time(), start.tzinfo) + dt.timedelta(
                minutes=window[0]
            )
            close_at = dt.datetime.combine(day, dt.time(), start.tzinfo) + dt.timedelta(
                minutes=window[1]
            )
            lo, hi = max(start, open_at), min(end, close_at)
            if hi > lo:  # in UTC: a day that changes the clocks has 23 or 25 hours
                total += (hi.astimezone(dt.UTC) - lo.astimezone(dt.UTC)).total_seconds()
        day += dt.timedelta(days=1)
    return total / 3600


def render_metrics(values: Iterable[Value], sources: Iterable[str] = ()) -> str:
    """The metrics CSV (``service,metric,priority,period,value,unit``), sorted, one row each."""
    out = io.StringIO()
    for source in sources:
        out.write(f"# from {source}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["service", "metric", "priority", "period", "value", "unit"])
    for v in sorted(values):
        writer.writerow([v.service, v.metric, v.priority, v.period, number(v.value), v.unit])
    return out.getvalue()


def number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def dedupe(values: Iterable[Value]) -> Iterator[Value]:
    """One value per service, metric, priority and period (the first one)."""
    seen: set[tuple[str, str, str, str]] = set()
    for v in values:
        key = (v.service, v.metric, v.priority, v.period)
        if key not in seen:
            seen.add(key)
            yield v
