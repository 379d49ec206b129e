"""Prometheus alerting rules for SLA objectives: multi-window, multi-burn-rate alerts on the error
budget, the scheme of the Google SRE workbook ("Alerting on SLOs", table 5-8).

An objective gets rules when it has a PromQL source (its ``promql`` or spo.yaml's default for its
metric, see :mod:`spo_gitops.sla.pull.prometheus`) and is a share in percent where higher is
better (availability, success ratios): its error budget is ``100 - target`` percentage points.
The expression measures the objective over ``$window``; the error rate over a window burns the
budget ``burn`` times as fast as allowed when

    measured(window) < 100 - burn * (100 - target)

and an alert fires when that holds over both a long and a short window (the short one makes the
alert stop soon after the problem does):

| severity | burn rate | long window | short window | budget spent at that rate |
|---|---|---|---|---|
| page | 14.4 | 1h | 5m | 2 % in 1 hour |
| page | 6 | 6h | 30m | 5 % in 6 hours |
| ticket | 3 | 1d | 2h | 10 % in 1 day |
| ticket | 1 | 3d | 6h | 10 % in 3 days |

Every alert is labelled with the service, the customer, the SLA, the objective, the service's tier
and its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from spo_gitops.catalog.references import Index
from spo_gitops.config import Project
from spo_gitops.sla.metrics import Objective
from spo_gitops.sla.pull.prometheus import sources

ALERT = "SLOErrorBudgetBurn"


@dataclass(frozen=True)
class Window:
    severity: str
    burn: float
    long: str
    short: str
    seconds_long: int
    seconds_short: int


WINDOWS: tuple[Window, ...] = (
    Window("page", 14.4, "1h", "5m", 3600, 300),
    Window("page", 6.0, "6h", "30m", 21600, 1800),
    Window("ticket", 3.0, "1d", "2h", 86400, 7200),
    Window("ticket", 1.0, "3d", "6h", 259200, 21600),
)


@dataclass(frozen=True)
class Skipped:
    objective: Objective
    reason: str


def _number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _expr(query: str, o: Objective, seconds: int) -> str:
    return (
        query.replace("$service", o.service)
        .replace("$sla", o.sla)
        .replace("$window", f"{seconds}s")
    )


def rule_groups(project: Project, index: Index) -> tuple[dict[str, Any], list[Skipped]]:
    """The rules file (as data) and the objectives with a PromQL source that get no rules."""
    groups: dict[str, list[dict[str, Any]]] = {}
    skipped: list[Skipped] = []
    for o, query, _where in sources(project, index):
        if o.unit != "percent" or o.direction != "higher-is-better":
            skipped.append(Skipped(o, "burn-rate alerts need a percentage where higher is better"))
            continue
        if o.target >= 100:
            skipped.append(Skipped(o, "a target of 100 % leaves no error budget to burn"))
            continue
        service = index.get("ServiceModel", o.service)
        meta = (service.data.get("metadata") or {}) if service is not None else {}
        spec = (service.data.get("spec") or {}) if service is not None else {}
        labels = {
            "service": o.service,
            "customer": o.customer,
            "sla": o.sla,
            "objective": o.label.replace(" ", "/"),
            "tier": str(spec.get("tier", "")),
            "owner": str(meta.get("owner", "")),
        }
        budget = 100 - o.target
        rules = groups.setdefault(o.sla, [])
        for w in WINDOWS:
            bound = _number(100 - w.burn * budget)
            expr = (
                f"({_expr(query, o, w.seconds_long)}) < {bound}"
                f" and ({_expr(query, o, w.seconds_short)}) < {bound}"
            )
            rules.append(
                {
                    "alert": ALERT,
                    "expr": expr,
                    "labels": {
                        **labels,
                        "severity": w.severity,
                        "long_window": w.long,
                        "short_window": w.short,
                        "burn_rate": _number(w.burn),
                    },
                    "annotations": {
                        "summary": f"{o.service}: {o.sla} {o.label} burns its error budget "
                        f"{_number(w.burn)}x as fast as its target {_number(o.target)} % allows "
                        f"(over {w.long} and {w.short})",
                    },
                }
            )
    data = {"groups": [{"name": f"slo-{sla}", "rules": rules} for sla, rules in groups.items()]}
    return data, skipped


def render_rules(data: dict[str, Any], header: Sequence[str] = ()) -> str:
    comments = "".join(f"# {line}\n" for line in header)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return comments + body
