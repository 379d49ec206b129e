"""What every metrics source shares: the values it yields, reading tabular exports (CSV or JSON
lines) with their line numbers, timestamps, service names, service hours, and the metrics CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spo_gitops import jsonio
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.sla.hours import HoursError, parse_hours, service_seconds, zone
from spo_gitops.sla.metrics import Objective
from spo_gitops.sla.periods import Period, PeriodKind, _label, parse_period

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


def service_hours_between(
    start: dt.datetime,
    end: dt.datetime,
    hours: str,
    timezone: str = "UTC",
    holidays: Collection[dt.date] = (),
) -> float | None:
    """Hours of service between two instants under the SLA's service hours (the grammar of
    :mod:`spo_gitops.sla.hours`: days, several windows, overnight windows, a time zone, a
    holiday calendar). None when the hours or the zone do not parse (validate reports them) or
    the span covers more than MAX_DAYS days."""
    try:
        window, tz = parse_hours(hours), zone(timezone)
    except HoursError:
        return None
    if not window.always and (end.date() - start.date()).days > MAX_DAYS:
        return None
    return service_seconds(window, start, end, tz, holidays) / 3600


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
