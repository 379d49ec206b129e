"""Prometheus: each objective's PromQL evaluated over each period through the HTTP API.

An objective is measured from Prometheus when it names ``promql`` or when spo.yaml sets a default
for its metric (``metrics.prometheus.queries``). In the expression ``$service``, ``$sla`` and
``$window`` are replaced: the window is the period as a range (``2678400s`` for a 31-day month),
and the expression is evaluated as an instant query at the period's end, so that a range selector
``[$window]`` covers the period exactly: [start, end). Service hours are not applied (Prometheus
measures round the clock). The expression must return one series, its value in the objective's
unit (e.g. ``100 * avg_over_time(up{job="$service"}[$window])`` for availability in percent).

A query that fails or returns more than one series is a finding at the place of its PromQL (the
SLA's objective, or spo.yaml); a period without data yields nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from spo_gitops import jsonio
from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.references import Index
from spo_gitops.config import Project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.sla.metrics import Objective, sla_objectives
from spo_gitops.sla.periods import Period, PeriodError, parse_period
from spo_gitops.sla.pull.common import Value, period_of

MAX_PERIODS = 120  # periods evaluated per objective at most


class QueryError(Exception):
    """Prometheus refused the query or could not be reached."""


@dataclass(frozen=True)
class Client:
    url: str
    token: str | None = None
    timeout: float = 30.0

    def instant(self, query: str, at: float) -> list[tuple[dict[str, str], float]]:
        """The vector ``query`` evaluates to at Unix time ``at``: (labels, value) per series."""
        params = urllib.parse.urlencode({"query": query, "time": f"{at:.3f}"})
        request = urllib.request.Request(f"{self.url.rstrip('/')}/api/v1/query?{params}")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = jsonio.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            try:
                detail = jsonio.loads(e.read().decode("utf-8")).get("error", e.reason)
            except (ValueError, AttributeError):
                detail = e.reason
            raise QueryError(f"HTTP {e.code}: {detail}") from e
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise QueryError(f"cannot query {self.url}: {reason}") from e
        if body.get("status") != "success":
            raise QueryError(str(body.get("error", "query failed")))
        data = body.get("data", {})
        if data.get("resultType") == "scalar":
            return [({}, float(data["result"][1]))]
        if data.get("resultType") != "vector":
            raise QueryError(f"expected a vector, got {data.get('resultType')}")
        return [(r.get("metric", {}), float(r["value"][1])) for r in data.get("result", [])]


def expand(query: str, objective: Objective, period: Period) -> str:
    seconds = period.days * 86400
    return (
        query.replace("$service", objective.service)
        .replace("$sla", objective.sla)
        .replace("$window", f"{seconds}s")
    )


def periods_until(objective: Objective, today: dt.date) -> list[Period]:
    """The objective's complete periods from its validity start up to ``today`` (at most
    MAX_PERIODS, the latest ones)."""
    out: list[Period] = []
    p = period_of(objective.valid_from, objective.period_kind)
    while p.end <= today and p.start <= objective.valid_to:
        out.append(p)
        p = period_of(p.end, objective.period_kind)
    return out[-MAX_PERIODS:]


def pull_prometheus(
    project: Project,
    index: Index,
    url: str | None = None,
    periods: Sequence[str] = (),
    today: dt.date | None = None,
) -> tuple[list[Value], list[Diagnostic], str]:
    """Values of every objective with a PromQL source, per period (``periods``, else every
    complete period of the SLA's validity up to ``today``)."""
    settings = project.config.metrics.prometheus
    base = url or settings.url
    if not base:
        shown, line, col = project.config_position(["metrics"], key=True)
        return (
            [],
            [
                Diagnostic(
                    "error",
                    "SPO835",
                    "no Prometheus server: give --prometheus URL or set metrics.prometheus.url",
                    shown,
                    line,
                    col,
                )
            ],
            "prometheus",
        )
    token = os.environ.get(settings.token_env) if settings.token_env else None
    client = Client(base, token, settings.timeout)
    day = today or dt.date.today()
    values: list[Value] = []
    found: list[Diagnostic] = []
    for o, query, where in sources(project, index):
        chosen = _chosen(o, periods, day)
        for period in chosen:
            end = dt.datetime.combine(period.end, dt.time(), dt.UTC).timestamp() - 0.001
            try:
                result = client.instant(expand(query, o, period), end)
            except QueryError as e:
                found.append(where(f"{o.sla} {o.label} {period.label}: {e}"))
                break  # the same expression fails for every period
            if len(result) > 1:
                found.append(
                    where(
                        f"{o.sla} {o.label} {period.label}: the query returned {len(result)} "
                        "series, expected one (aggregate it, e.g. with avg or sum)"
                    )
                )
                break
            if not result or not math.isfinite(result[0][1]):
                continue
            values.append(
                Value(o.service, o.metric, o.priority or "", period.label, result[0][1], o.unit)
            )
    return values, found, f"prometheus {base}"


def _chosen(o: Objective, periods: Sequence[str], day: dt.date) -> list[Period]:
    if not periods:
        return periods_until(o, day)
    out = []
    for label in periods:
        try:
            out.append(parse_period(label, o.period_kind))
        except PeriodError:
            continue  # a label of another kind of period: not this objective's
    return out


def sources(project: Project, index: Index) -> list[tuple[Objective, str, _Where]]:
    """Every objective with a PromQL source: its own ``promql``, else spo.yaml's default for its
    metric; with where the expression is written (to point a finding at it)."""
    defaults = project.config.metrics.prometheus.queries
    out: list[tuple[Objective, str, _Where]] = []
    for o in sla_objectives(index):
        doc = index.get("ServiceLevelAgreement", o.sla)
        own = None
        position: list[str | int] = []
        if doc is not None:
            for i, raw in enumerate(doc.data["spec"]["objectives"]):
                if raw["metric"] == o.metric and raw.get("priority") == o.priority:
                    own = raw.get("promql")
                    position = ["spec", "objectives", i, "promql"]
                    break
        if own and doc is not None:
            out.append((o, own, _Where(doc_diag=(doc, position))))
        elif o.metric in defaults:
            shown, line, col = project.config_position(
                ["metrics", "prometheus", "queries", o.metric]
            )
            out.append((o, defaults[o.metric], _Where(place=(shown, line, col))))
    return out


@dataclass(frozen=True)
class _Where:
    """Where a PromQL expression is written, to point a finding at it."""

    doc_diag: tuple[Document, list[str | int]] | None = None
    place: tuple[str, int, int] | None = None

    def __call__(self, message: str) -> Diagnostic:
        hint = "try the expression in Prometheus's expression browser"
        if self.doc_diag is not None:
            doc, parts = self.doc_diag
            return doc.diag("SPO835", message, parts, hint=hint)
        shown, line, col = self.place or ("spo.yaml", 1, 1)
        return Diagnostic("error", "SPO835", message, shown, line, col, hint=hint)
