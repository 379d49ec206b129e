"""Metrics from where they live: Prometheus, service-desk incident exports and customer surveys,
turned into the metrics file that ``spo sla report`` reads (see :mod:`spo_gitops.sla.metrics`).

Each source yields :class:`~spo_gitops.sla.pull.common.Value` records (service, metric, priority,
period, value, unit) for the objectives the catalog's SLAs agree, and diagnostics at the
``file:line`` of every record it could not use; such records are skipped, never folded in.
``write_metrics`` renders the values as the metrics CSV.
"""

from __future__ import annotations

from spo_gitops.sla.pull.common import Value, render_metrics

__all__ = ["Value", "render_metrics"]
