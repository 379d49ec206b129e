"""Customer surveys: CSAT and NPS per service and SLA period.

A survey export is CSV (with a header) or JSON lines, one response per record:
``service, answered`` (a date or timestamp) and ``score`` (0-10: "how likely are you to recommend
us") and/or ``rating`` (1-5: "how satisfied are you"). Per objective of the service's SLAs:

- ``customer-satisfaction`` (CSAT, percent): the share of ratings of 4 or 5.
- ``nps`` (points): the share of promoters (score 9 or 10) minus the share of detractors (0 to 6),
  in percentage points, -100 to 100.

A response with an unknown service, an unreadable date, or a score or rating that is not a whole
number in its scale is a finding at its file:line and is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.sla.metrics import sla_objectives
from spo_gitops.sla.pull.common import (
    Value,
    diag,
    in_validity,
    missing_columns,
    parse_time,
    period_of,
    read_records,
    service_names,
)


@dataclass(frozen=True)
class Response:
    service: str
    answered: dt.date
    score: int | None  # 0-10
    rating: int | None  # 1-5
    file: str
    line: int


def _whole(text: str, low: int, high: int) -> int | bool | None:
    """The number, None when empty, False when not a whole number in [low, high]."""
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return False
    if not value.is_integer() or not low <= value <= high:
        return False
    return int(value)


def read_surveys(text: str, display: str, index: Index) -> tuple[list[Response], list[Diagnostic]]:
    records, found = read_records(text, display)
    if not records:
        return [], found
    bad = missing_columns(records, ("service", "answered"), display)
    if bad is None and not any(c in records[0][1] for c in ("score", "rating")):
        bad = diag("SPO830", "no column score (0-10) or rating (1-5)", display, records[0][0])
    if bad is not None:
        return [], [*found, bad]
    names = service_names(index)
    out: list[Response] = []
    for line, rec in records:
        where = display, line
        service = names.get(rec.get("service", "").lower())
        if service is None:
            found.append(diag("SPO832", f"unknown service {rec.get('service')!r}", *where))
            continue
        answered = _date(rec.get("answered", ""))
        if answered is None:
            found.append(diag("SPO831", f"answered {rec.get('answered')!r} is not a date", *where))
            continue
        score = _whole(rec.get("score", ""), 0, 10)
        rating = _whole(rec.get("rating", ""), 1, 5)
        if score is False or rating is False:
            what = "score must be 0 to 10" if score is False else "rating must be 1 to 5"
            found.append(diag("SPO831", f"{what}, whole numbers", *where))
            continue
        if score is None and rating is None:
            found.append(diag("SPO831", "response has neither a score nor a rating", *where))
            continue
        out.append(Response(service, answered, score, rating, display, line))
    return out, found


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        stamp = parse_time(text, dt.UTC)
        return stamp.date() if stamp else None


def survey_values(responses: list[Response], index: Index) -> list[Value]:
    by_service: dict[str, list[Response]] = defaultdict(list)
    for r in responses:
        by_service[r.service].append(r)
    out: list[Value] = []
    for o in sla_objectives(index):
        if o.metric not in ("customer-satisfaction", "nps") or o.service not in by_service:
            continue
        groups: dict[str, list[int]] = defaultdict(list)
        for r in by_service[o.service]:
            p = period_of(r.answered, o.period_kind)
            answer = r.rating if o.metric == "customer-satisfaction" else r.score
            if answer is not None and in_validity(p, o):
                groups[p.label].append(answer)
        for label, answers in groups.items():
            if o.metric == "customer-satisfaction":
                out.append(Value(o.service, o.metric, "", label, csat(answers), "percent"))
            else:
                out.append(Value(o.service, o.metric, "", label, nps(answers), "points"))
    return out


def csat(ratings: list[int]) -> float:
    """Share of ratings (1-5) of 4 or 5, in percent."""
    return 100.0 * sum(1 for a in ratings if a >= 4) / len(ratings)


def nps(scores: list[int]) -> float:
    """Promoters (9-10) minus detractors (0-6), in percentage points of all scores (0-10)."""
    promoters = sum(1 for a in scores if a >= 9)
    detractors = sum(1 for a in scores if a <= 6)
    return 100.0 * (promoters - detractors) / len(scores)
