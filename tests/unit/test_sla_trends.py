"""Trends count beyond a margin; texts count in the singular when there is one (by hand)."""

from __future__ import annotations

import datetime as dt

from spo_gitops.sla.compute import SlaReport, build_report, tolerance
from spo_gitops.sla.metrics import Measurement, Objective
from spo_gitops.sla.periods import parse_period
from spo_gitops.sla.render import render_text


def objective(metric: str, target: float, unit: str, direction: str) -> Objective:
    return Objective(
        sla="pay-retail",
        service="pay",
        customer="retail",
        metric=metric,
        priority=None,
        target=target,
        unit=unit,
        direction=direction,  # type: ignore[arg-type]
        period_kind="monthly",
        hours="24x7",
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2027, 12, 31),
    )


MTTR = objective("mttr", 5, "h", "lower-is-better")


def run(o: Objective, values: list[float], margin: float = 0.05, consecutive: int = 2) -> SlaReport:
    ms = [
        Measurement(o, parse_period(f"2026-0{i + 1}", "monthly"), v, "m.csv", i + 2)
        for i, v in enumerate(values)
    ]
    return build_report([o], ms, consecutive=consecutive, worsening_margin=margin)


def test_the_margin_is_a_share_of_what_the_target_allows() -> None:
    assert tolerance(MTTR) == 0.25  # 5 % of 5 h
    assert (
        round(tolerance(objective("availability", 99.9, "percent", "higher-is-better")), 9) == 0.005
    )
    assert (
        tolerance(objective("first-contact-resolution", 75, "percent", "higher-is-better")) == 1.25
    )
    assert tolerance(objective("nps", 30, "points", "higher-is-better")) == 3.5  # 5 % of 70


def test_small_drifts_within_the_margin_demand_no_improvement_plan() -> None:
    rep = run(MTTR, [4.0, 4.1, 4.2])
    assert [p.trend for p in rep.series[0].points] == [None, "steady", "steady"]
    assert rep.improvements == []
    # without a margin the same values worsen twice running
    assert [i.reason for i in run(MTTR, [4.0, 4.1, 4.2], margin=0.0).improvements] == ["worsening"]


def test_changes_beyond_the_margin_are_trends() -> None:
    rep = run(MTTR, [4.0, 4.3, 4.6])  # +0.3 h twice, beyond 0.25 h
    assert [p.trend for p in rep.series[0].points] == [None, "worsening", "worsening"]
    (plan,) = rep.improvements
    assert plan.message == "pay-retail: mttr worsened in 2 consecutive periods (2026-02, 2026-03)"
    assert [p.trend for p in run(MTTR, [4.6, 4.3]).series[0].points] == [None, "improving"]


def test_one_is_singular() -> None:
    rep = run(MTTR, [6.0], consecutive=1)
    text = render_text(rep)
    assert text.splitlines()[0] == (
        "SLA report up to 2026-01: 1 objective measured over 1 period; 1 breached in their "
        "latest period; 1 service needs an improvement plan (after 1 consecutive period missed "
        "or worsening)."
    )
    assert "mttr missed its target in 1 period (2026-01)" in text
