"""The SLA charts written as SVG: well-formed, the right marks, and fast."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

from spo_gitops.sla import SlaReport
from spo_gitops.sla.svg import BOTTOM, HEIGHT, TOP, chart_svg, nice_ticks
from tests.unit.test_sla import _series
from tests.unit.test_sla import index as index  # a fixture
from tests.unit.test_sla import sample as sample  # a fixture

NS = "{http://www.w3.org/2000/svg}"


def test_nice_ticks() -> None:
    # the smallest step of 1, 2 or 5 times a power of ten that is at least a quarter of the span
    assert nice_ticks(99.78, 100.0) == [99.8, 99.9, 100.0]  # span 0.22 -> step 0.1
    assert nice_ticks(0, 10) == [0, 5, 10]  # span 10 -> 2.5 -> step 5
    assert nice_ticks(2.1, 3.4) == [2.5, 3.0]  # span 1.3 -> 0.325 -> step 0.5


def test_breaches_are_red_and_the_target_is_where_it_should_be(sample: SlaReport) -> None:
    s = _series(sample, "open-banking-gateway-retail", "availability")
    root = ET.fromstring(chart_svg(s))
    circles = root.iter(f"{NS}circle")
    states = [(c.get("class"), c.findtext(f"{NS}title")) for c in circles]
    # January to June 2026: 99.95, 99.93, 99.97, 99.91 met 99.9; 99.86 and 99.82 did not
    assert [st for st, _ in states] == ["attained"] * 4 + ["breached"] * 2
    assert states[-1][1] == "2026-06: 99.82 percent (breached)"
    # the value axis spans 99.82 .. 99.97 padded by 12 % of 0.15 on both sides
    low, high = 99.82 - 0.018, 99.97 + 0.018
    plot_h = HEIGHT - TOP - BOTTOM
    target = next(e for e in root.iter(f"{NS}line") if e.get("class") == "target")
    assert abs(float(target.get("y1", "0")) - (TOP + plot_h * (high - 99.9) / (high - low))) < 0.1
    zone = next(e for e in root.iter(f"{NS}rect") if e.get("class") == "breach-zone")
    assert abs(float(zone.get("y", "0")) - float(target.get("y1", "0"))) < 0.1  # below it


def test_95_charts_in_well_under_two_seconds(sample: SlaReport) -> None:
    start = time.process_time()
    drawn = [chart_svg(s) for s in sample.series]
    assert len(drawn) == 95
    assert time.process_time() - start < 2.0
    for svg in drawn:
        ET.fromstring(svg)  # each one well-formed XML
        assert "<script" not in svg and "href" not in svg
