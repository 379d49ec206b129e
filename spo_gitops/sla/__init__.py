"""Service level management: measured values against SLA objectives, period over period.

``load(index, files)`` reads metric files and matches their rows to the catalog's objectives;
``build_report`` turns the matches into attainment, margins, error budgets, trends and the list
of services that need a service improvement plan; ``render`` writes it as text, markdown, json
or html, and ``charts`` draws each objective over time against its target. Per quarter,
``rollup`` makes the quarters of SLAs measured monthly and reviewed quarterly from their months.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spo_gitops.catalog.references import Index
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.sla.compute import (
    DEFAULT_WORSENING_MARGIN,
    Budget,
    Improvement,
    Point,
    Series,
    SlaReport,
    Trend,
    build_report,
)
from spo_gitops.sla.metrics import (
    METRIC_CODES,
    Measurement,
    Objective,
    Row,
    match_rows,
    parse_metrics,
    read_metrics,
    sla_objectives,
)
from spo_gitops.sla.periods import Period, PeriodError, parse_period, service_minutes
from spo_gitops.sla.rollup import PER, Per, default_per

__all__ = [
    "METRIC_CODES",
    "PER",
    "Budget",
    "Improvement",
    "Measurement",
    "Objective",
    "Per",
    "Period",
    "PeriodError",
    "Point",
    "Row",
    "Series",
    "SlaReport",
    "Trend",
    "build_report",
    "default_per",
    "load_measurements",
    "match_rows",
    "parse_metrics",
    "parse_period",
    "read_metrics",
    "report",
    "service_minutes",
    "sla_objectives",
]


def load_measurements(
    index: Index, files: Sequence[tuple[Path, str]]
) -> tuple[list[Objective], list[Measurement], list[Diagnostic]]:
    """The catalog's objectives and the rows of ``files`` (path, name shown) matched to them."""
    objectives = sla_objectives(index)
    services = [d.name for d in index.of_kind("ServiceModel")]
    rows: list[Row] = []
    found: list[Diagnostic] = []
    for path, shown in files:
        file_rows, file_diags = read_metrics(path, shown)
        rows.extend(file_rows)
        found.extend(file_diags)
    measurements, bad = match_rows(rows, objectives, services)
    found.extend(bad)
    return objectives, measurements, found


def report(
    index: Index,
    files: Sequence[tuple[Path, str]],
    *,
    period: str | None = None,
    consecutive: int = 2,
    worsening_margin: float = DEFAULT_WORSENING_MARGIN,
    per: Per = "measurement",
) -> SlaReport:
    """Read ``files``, match them to the catalog and build the report (diagnostics included)."""
    objectives, measurements, found = load_measurements(index, files)
    return build_report(
        objectives,
        measurements,
        period=period,
        consecutive=consecutive,
        diagnostics=found,
        worsening_margin=worsening_margin,
        per=per,
    )
