"""Incident records exported from a service desk: MTTR per priority, first-contact resolution
and incident counts per SLA period.

An export is CSV (with a header) or JSON lines. Two profiles say which column is which:

- ``generic``: ``id, service, priority, opened, resolved, first_contact``. ``priority`` is
  ``P1``..``P4`` (or ``1``..``4``); ``opened``/``resolved`` are ISO 8601 timestamps (without an
  offset: local time of the SLA's time zone); ``first_contact`` is true/false (yes/no, 1/0);
  ``resolved`` is empty while the incident is open.
- ``servicenow``: the columns of ServiceNow's incident list export: ``number, business_service``
  (or ``cmdb_ci``), ``priority`` (``1 - Critical`` .. ``4 - Low``), ``opened_at, resolved_at``
  (``2026-01-12 09:00:00``, the instance's time zone, taken as the SLA's) and
  ``reassignment_count`` (0: resolved at first contact; a ``u_first_contact`` column wins).

The service is matched by name or by title. Per objective of the service's SLAs:

- ``mttr``/``mtrs``: the mean of (resolved - opened), counted in the SLA's service hours, over
  the incidents of the objective's priority (all, when it has none) resolved in the period; hours.
- ``first-contact-resolution``: the share of incidents resolved in the period that were resolved
  at the first contact, in percent.
- ``incidents``: the number of incidents opened in the period (of the objective's priority).

A record with an unreadable timestamp, priority or flag, an unknown service, a resolution before
the opening, or an id seen before is a finding at its file:line and is skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.sla.metrics import Objective, sla_objectives
from spo_gitops.sla.pull.common import (
    Value,
    diag,
    in_validity,
    missing_columns,
    parse_time,
    period_of,
    read_records,
    service_hours_between,
    service_names,
    zone_of,
)

Profile = Literal["generic", "servicenow"]
PROFILES: tuple[Profile, ...] = ("generic", "servicenow")
_MTTR = frozenset({"mttr", "mtrs"})
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_PRIORITY = re.compile(r"^(?:P([1-4])|([1-4])(?:\s*-.*)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Incident:
    id: str
    service: str
    priority: str | None
    opened: str
    resolved: str
    first_contact: bool
    file: str
    line: int


def _columns(profile: Profile, first: dict[str, str]) -> dict[str, str]:
    if profile == "generic":
        return {
            "id": "id",
            "service": "service",
            "priority": "priority",
            "opened": "opened",
            "resolved": "resolved",
        }
    return {
        "id": "number",
        "service": "business_service" if "business_service" in first else "cmdb_ci",
        "priority": "priority",
        "opened": "opened_at",
        "resolved": "resolved_at",
    }


def read_incidents(
    text: str, display: str, index: Index, profile: Profile = "generic"
) -> tuple[list[Incident], list[Diagnostic]]:
    records, found = read_records(text, display)
    if not records:
        return [], found
    cols = _columns(profile, records[0][1])
    bad = missing_columns(records, cols.values(), display)
    if bad is not None:
        return [], [*found, bad]
    names = service_names(index)
    seen: dict[str, int] = {}
    out: list[Incident] = []
    for line, rec in records:
        where = display, line
        ident = rec.get(cols["id"], "")
        service = names.get(rec.get(cols["service"], "").lower())
        if service is None:
            found.append(diag("SPO832", f"unknown service {rec.get(cols['service'])!r}", *where))
            continue
        raw_priority = rec.get(cols["priority"], "")
        m = _PRIORITY.match(raw_priority)
        if raw_priority and m is None:
            found.append(diag("SPO831", f"priority {raw_priority!r} is not P1..P4", *where))
            continue
        priority = f"P{m.group(1) or m.group(2)}" if m else None
        flag = _first_contact(profile, rec)
        if flag is None:
            found.append(diag("SPO831", "first contact is not true or false", *where))
            continue
        if ident and ident in seen:
            found.append(
                diag("SPO834", f"incident {ident} was already given at line {seen[ident]}", *where)
            )
            continue
        seen[ident] = line
        out.append(
            Incident(
                ident,
                service,
                priority,
                rec.get(cols["opened"], ""),
                rec.get(cols["resolved"], ""),
                flag,
                display,
                line,
            )
        )
    return out, found


def _first_contact(profile: Profile, rec: dict[str, str]) -> bool | None:
    if profile == "servicenow" and "u_first_contact" not in rec:
        count = rec.get("reassignment_count", "0") or "0"
        return count == "0" if count.isdigit() else None
    value = rec.get("u_first_contact" if profile == "servicenow" else "first_contact", "")
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


@dataclass(frozen=True)
class _Timed:
    incident: Incident
    opened: dt.datetime
    resolved: dt.datetime | None


def incident_values(
    incidents: Sequence[Incident], index: Index
) -> tuple[list[Value], list[Diagnostic]]:
    """The values the incidents give for every objective of the catalog's SLAs they touch."""
    by_service: dict[str, list[Incident]] = defaultdict(list)
    for i in incidents:
        by_service[i.service].append(i)
    values: list[Value] = []
    found: list[Diagnostic] = []
    reported: set[tuple[str, int]] = set()
    zones = {
        d.name: str(d.data["spec"]["window"].get("timezone", "UTC"))
        for d in index.of_kind("ServiceLevelAgreement")
        if d.valid
    }
    for o in sla_objectives(index):
        if o.service not in by_service:
            continue
        if o.metric not in _MTTR | {"first-contact-resolution", "incidents"}:
            continue
        timed = []
        for i in by_service[o.service]:
            t = _time(i, zone_of(zones.get(o.sla, "UTC")), found, reported)
            if t is not None:
                timed.append(t)
        values.extend(_values(o, timed))
    return values, found


def _time(
    i: Incident, zone: dt.tzinfo, found: list[Diagnostic], reported: set[tuple[str, int]]
) -> _Timed | None:
    opened = parse_time(i.opened, zone)
    resolved = parse_time(i.resolved, zone) if i.resolved else None
    problem = None
    if opened is None:
        problem = diag(
            "SPO831", f"opened {i.opened!r} is not an ISO 8601 timestamp", i.file, i.line
        )
    elif i.resolved and resolved is None:
        problem = diag(
            "SPO831", f"resolved {i.resolved!r} is not an ISO 8601 timestamp", i.file, i.line
        )
    elif resolved is not None and resolved < opened:
        problem = diag("SPO833", f"resolved {i.resolved} before opened {i.opened}", i.file, i.line)
    if problem is not None:
        if (i.file, i.line) not in reported:
            reported.add((i.file, i.line))
            found.append(problem)
        return None
    assert opened is not None
    return _Timed(i, opened, resolved)


def _values(o: Objective, timed: list[_Timed]) -> list[Value]:
    chosen = [t for t in timed if o.priority is None or t.incident.priority == o.priority]
    prio = o.priority or ""
    out: list[Value] = []
    if o.metric == "incidents":
        counts: dict[str, int] = defaultdict(int)
        for t in chosen:
            p = period_of(t.opened.date(), o.period_kind)
            if in_validity(p, o):
                counts[p.label] += 1
        return [Value(o.service, o.metric, prio, k, float(n), "count") for k, n in counts.items()]
    by_period: dict[str, list[_Timed]] = defaultdict(list)
    for t in chosen:
        if t.resolved is None:
            continue  # still open: no restore time yet
        p = period_of(t.resolved.date(), o.period_kind)
        if in_validity(p, o):
            by_period[p.label].append(t)
    for label, ts in by_period.items():
        if o.metric in _MTTR:
            hours = [
                service_hours_between(t.opened, t.resolved, o.hours, o.timezone, o.holidays)
                for t in ts
                if t.resolved
            ]
            known = [h for h in hours if h is not None]
            if known:
                out.append(Value(o.service, o.metric, prio, label, sum(known) / len(known), "h"))
        else:
            share = 100.0 * sum(1 for t in ts if t.incident.first_contact) / len(ts)
            out.append(Value(o.service, o.metric, prio, label, share, "percent"))
    return out
