"""Measured values: reading CSV or JSON-lines metric files and matching rows to SLA objectives.

A row says what was measured for a *service* (``service, metric, priority, period, value`` and
optionally ``unit``); it is matched to every SLA objective of that service with the same metric
and priority, so that one measurement is judged against each customer's target. A row that does
not fit (unknown service, a metric none of the service's SLAs has, a value that is not a number,
a unit other than the objective's, a period that is badly written or outside the agreement) is a
diagnostic at its file:line and is skipped, never folded into the figures.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spo_gitops import jsonio
from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import CODES, Diagnostic
from spo_gitops.models import metrics
from spo_gitops.models.metrics import Direction
from spo_gitops.sla.periods import Period, PeriodError, PeriodKind, kind_of, parse_period

# Stable codes of metric-file findings (8xx: service level reporting).
METRIC_CODES: dict[str, str] = {k: v for k, v in CODES.items() if k.startswith("SPO8")}
COLUMNS = ("service", "metric", "priority", "period", "value")


@dataclass(frozen=True)
class Objective:
    """One objective of one SLA, with what is needed to judge a measurement against it."""

    sla: str
    service: str
    customer: str
    metric: str
    priority: str | None
    target: float
    unit: str
    direction: Direction
    period_kind: PeriodKind
    hours: str
    valid_from: Any  # dt.date
    valid_to: Any  # dt.date
    description: str | None = None
    timezone: str = "UTC"  # of the service hours
    holidays: frozenset[Any] = frozenset()  # dt.date: days the service hours are closed
    review_cadence: str | None = None  # spec.reviews.cadence: quarterly, half-yearly, ...

    @property
    def label(self) -> str:
        return self.metric + (f" {self.priority}" if self.priority else "")

    @property
    def is_availability(self) -> bool:
        return self.metric == "availability" and self.unit == "percent"


@dataclass(frozen=True)
class Row:
    """One row of a metrics file, as written."""

    file: str
    line: int
    service: str
    metric: str
    priority: str | None
    period: str
    value: str
    unit: str | None


@dataclass(frozen=True)
class Measurement:
    """A row matched to an objective: the measured value of one period."""

    objective: Objective
    period: Period
    value: float
    file: str
    line: int


def direction_of(metric: str, explicit: str | None) -> Direction:
    """The metric registry's direction of ``metric``; a custom metric's declared one. (A custom
    metric without one is refused by validate, SPO412; it is judged lower-is-better here.)"""
    return metrics.direction_of(metric, explicit) or "lower-is-better"


def sla_objectives(index: Index) -> list[Objective]:
    """Every objective of every valid, non-draft SLA in the catalog."""
    out = []
    for doc in sorted(index.of_kind("ServiceLevelAgreement"), key=lambda d: d.name):
        if not doc.valid:
            continue
        spec = doc.data["spec"]
        if spec.get("status", "active") == "draft":
            continue
        window = spec["window"]
        holidays = _holidays(index, window.get("calendar"))
        for o in spec["objectives"]:
            out.append(
                Objective(
                    sla=doc.name,
                    service=spec["service"],
                    customer=spec["customer"],
                    metric=o["metric"],
                    priority=o.get("priority"),
                    target=float(o["target"]),
                    unit=o["unit"],
                    direction=direction_of(o["metric"], o.get("direction")),
                    period_kind=window.get("period", "monthly"),
                    hours=window["hours"],
                    valid_from=_date(spec["validity"]["start"]),
                    valid_to=_date(spec["validity"]["end"]),
                    description=o.get("description"),
                    timezone=str(window.get("timezone") or "UTC"),
                    holidays=holidays,
                    review_cadence=(spec.get("reviews") or {}).get("cadence"),
                )
            )
    return out


def _holidays(index: Index, calendar: Any) -> frozenset[Any]:
    """The days of the HolidayCalendar ``calendar`` names (none without one)."""
    doc = index.get("HolidayCalendar", str(calendar)) if calendar else None
    if doc is None or not doc.valid:
        return frozenset()
    return frozenset(_date(h["date"]) for h in doc.data["spec"].get("holidays") or [])


def _date(value: Any) -> Any:
    import datetime as dt

    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _diag(code: str, message: str, file: str, line: int, hint: str | None = None) -> Diagnostic:
    return Diagnostic("error", code, message, file, line, 1, hint=hint)


def parse_metrics(text: str, display: str) -> tuple[list[Row], list[Diagnostic]]:
    """Rows of a metrics file: JSON lines when its first character is ``{``, else CSV."""
    if text.lstrip().startswith("{"):
        return _parse_jsonl(text, display)
    return _parse_csv(text, display)


def read_metrics(path: Path, display: str | None = None) -> tuple[list[Row], list[Diagnostic]]:
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        return [], [_diag("SPO801", f"cannot read metrics file: {reason}", shown, 1)]
    return parse_metrics(text, shown)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _row(display: str, line: int, fields: dict[str, Any]) -> Row:
    return Row(
        display,
        line,
        _text(fields.get("service")),
        _text(fields.get("metric")),
        _text(fields.get("priority")) or None,
        _text(fields.get("period")),
        _text(fields.get("value")),
        _text(fields.get("unit")) or None,
    )


def _parse_csv(text: str, display: str) -> tuple[list[Row], list[Diagnostic]]:
    reader = csv.reader(io.StringIO(text))
    rows: list[Row] = []
    header: list[str] | None = None
    for record in reader:
        line = reader.line_num
        if not record or all(not c.strip() for c in record) or record[0].startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in record]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                hint = "the header is: service,metric,priority,period,value[,unit]"
                msg = f"metrics file has no column {', '.join(missing)}"
                return [], [_diag("SPO801", msg, display, line, hint)]
            continue
        rows.append(_row(display, line, dict(zip(header, record, strict=False))))
    return rows, []


def _parse_jsonl(text: str, display: str) -> tuple[list[Row], list[Diagnostic]]:
    rows: list[Row] = []
    found: list[Diagnostic] = []
    for n, obj, problem in jsonio.json_lines(text):
        if obj is None:
            found.append(_diag("SPO801", str(problem), display, n))
            continue
        missing = [c for c in COLUMNS if c != "priority" and c not in obj]
        if missing:
            found.append(_diag("SPO801", f"row has no {', '.join(missing)}", display, n))
            continue
        rows.append(_row(display, n, obj))
    return rows, found


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_FORM = {"monthly": "YYYY-MM", "quarterly": "YYYY-Qn", "yearly": "YYYY"}
_ROW = {"monthly": "a row per month", "quarterly": "a row per quarter", "yearly": "a row per year"}


def _period_hint(o: Objective, label: str) -> str | None:
    """What to do with a row written in another kind of period than the SLA's own."""
    kind = kind_of(label)
    if kind is None:
        return None
    hint = (
        f"{o.sla} is measured {o.period_kind}: give {_ROW[o.period_kind]} ({_FORM[o.period_kind]})"
    )
    if o.period_kind == "monthly" and kind == "quarterly":
        if o.review_cadence == "quarterly":
            hint += (
                "; for its quarterly reviews the months roll up into quarters (spo sla report "
                f"--per quarter, spo review pack --period {label})"
            )
        else:
            this = f"reviewed {o.review_cadence}" if o.review_cadence else "no review cadence"
            hint += f"; months roll up into quarters for SLAs reviewed quarterly (this one: {this})"
    return hint


def match_rows(
    rows: Iterable[Row], objectives: list[Objective], services: Iterable[str]
) -> tuple[list[Measurement], list[Diagnostic]]:
    """Rows matched to the objectives they measure; a diagnostic for every row that does not fit.

    ``services`` are the names of the catalog's services (a row for a service that exists but
    has no SLA is an unknown metric, not an unknown service).
    """
    known = set(services)
    by_service: dict[str, list[Objective]] = {}
    for o in objectives:
        by_service.setdefault(o.service, []).append(o)
    out: list[Measurement] = []
    found: list[Diagnostic] = []
    seen: dict[tuple[str, str, str | None, str], int] = {}
    for row in rows:
        result = _match(row, known, by_service)
        if isinstance(result, Diagnostic):
            found.append(result)
            continue
        for m in result:
            key = (m.objective.sla, m.objective.metric, m.objective.priority, m.period.label)
            if key in seen:
                found.append(
                    _diag(
                        "SPO807",
                        f"{row.service} {m.objective.label} for {row.period} was already "
                        f"given at {row.file}:{seen[key]}; this row is skipped",
                        row.file,
                        row.line,
                    )
                )
                break
            seen[key] = row.line
            out.append(m)
    return out, found


def _match(
    row: Row, known: set[str], by_service: dict[str, list[Objective]]
) -> list[Measurement] | Diagnostic:
    d = row.file, row.line
    if row.service not in known:
        return _diag("SPO802", f"unknown service {row.service!r}", *d)
    candidates = [
        o
        for o in by_service.get(row.service, [])
        if o.metric == row.metric and o.priority == row.priority
    ]
    if not candidates:
        agreed = sorted({o.label for o in by_service.get(row.service, [])})
        what = row.metric + (f" {row.priority}" if row.priority else "")
        hint = ("agreed: " + ", ".join(agreed)) if agreed else "the service has no SLA"
        return _diag("SPO803", f"no SLA of {row.service} has an objective {what!r}", *d, hint)
    value = _number(row.value)
    if value is None:
        return _diag("SPO804", f"value {row.value!r} is not a number", *d)
    matched = []
    for o in candidates:
        unit = row.unit or o.unit
        family = metrics.family_of(o.unit)
        if unit != o.unit and (family is None or unit not in family.factors):
            others = ", ".join(family.factors) if family is not None else o.unit
            return _diag(
                "SPO805",
                f"unit {row.unit!r} differs from the unit of {o.sla} {o.label} ({o.unit})",
                *d,
                f"give the value in {o.unit}, or in another unit of its family: {others}"
                if family is not None and len(family.factors) > 1
                else f"give the value in {o.unit}",
            )
        if metrics.out_of_range(o.metric, unit, value) is not None:
            rng = metrics.describe_range(o.metric, unit)
            return _diag("SPO804", f"value {row.value} {unit} out of range ({rng})", *d)
        converted = value if family is None else family.convert(value, unit, o.unit)
        try:
            period = parse_period(row.period, o.period_kind)
        except PeriodError as e:
            return _diag("SPO806", str(e), *d, _period_hint(o, row.period))
        if period.end <= o.valid_from or period.start > o.valid_to:
            return _diag(
                "SPO806",
                f"period {row.period} is outside {o.sla}'s validity "
                f"({o.valid_from} to {o.valid_to})",
                *d,
            )
        matched.append(Measurement(o, period, converted, row.file, row.line))
    return matched
