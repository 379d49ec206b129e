"""Charts of each objective over time against its target, written as SVG directly.

The same picture as the matplotlib chart (:mod:`spo_gitops.sla.charts`, kept for PNG files):
the measured value per period as a line, breached periods as red dots, the target as a dashed
line and the side of it that breaches shaded. Building the text takes well under a millisecond a
chart, so a report of a hundred objectives draws in a fraction of a second. No scripts or
external resources; every text is escaped; the output is the same for the same series.
"""

from __future__ import annotations

import math
from html import escape

from spo_gitops.sla.compute import Series

WIDTH, HEIGHT = 576, 250
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 30, 34
_GOOD, _BAD, _TARGET, _GRID = "#1f6f43", "#b42318", "#555555", "#dddddd"


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten."""
    span = high - low
    if span <= 0:
        return [low]
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks: list[float] = []
    v = first
    while v <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(round(v, 10))
        v += step
    return ticks


def chart_svg(series: Series) -> str:
    """The chart as an inline ``<svg>`` element."""
    o = series.objective
    points = series.points
    values = [p.measured for p in points]
    low, high = min([*values, o.target]), max([*values, o.target])
    pad = (high - low) * 0.12 or abs(high) * 0.01 or 1.0
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / n if n else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (high - v) / (high - low)

    title = f"{o.sla}: {o.label}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="sla-chart" '
        'font-family="sans-serif" font-size="10">',
        f"<title>{escape(title)} over time against its target</title>",
        f'<text x="{LEFT}" y="16" font-size="11">{escape(title)}</text>',
    ]
    yt = y(o.target)
    if o.direction == "higher-is-better":
        out.append(
            f'<rect class="breach-zone" x="{LEFT}" y="{yt:.1f}" width="{plot_w}" '
            f'height="{TOP + plot_h - yt:.1f}" fill="{_BAD}" fill-opacity="0.06"/>'
        )
    else:
        out.append(
            f'<rect class="breach-zone" x="{LEFT}" y="{TOP}" width="{plot_w}" '
            f'height="{yt - TOP:.1f}" fill="{_BAD}" fill-opacity="0.06"/>'
        )
    for tick in nice_ticks(low, high):
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{_GRID}" stroke-width="0.8"/>'
            f'<text x="{LEFT - 6}" y="{ty + 3.5:.1f}" text-anchor="end">{_num(tick)}</text>'
        )
    out.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">{escape(o.unit)}</text>'
    )
    out.append(
        f'<line class="target" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yt:.1f}" y2="{yt:.1f}" '
        f'stroke="{_TARGET}" stroke-width="1.2" stroke-dasharray="5 3"/>'
    )
    if points:
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        out.append(
            f'<polyline class="measured" points="{path}" fill="none" stroke="{_GOOD}" '
            'stroke-width="1.8"/>'
        )
    for i, p in enumerate(points):
        colour, r = (_GOOD, 3) if p.attained else (_BAD, 4.5)
        state = "attained" if p.attained else "breached"
        tip = f"{p.period.label}: {_num(p.measured)} {o.unit} ({state})"
        out.append(
            f'<circle class="{state}" cx="{x(i):.1f}" cy="{y(p.measured):.1f}" r="{r}" '
            f'fill="{colour}"><title>{escape(tip)}</title></circle>'
            f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(p.period.label)}</text>"
        )
    legend_x = LEFT + plot_w
    out.append(
        f'<text x="{legend_x}" y="16" text-anchor="end">'
        f'<tspan fill="{_GOOD}">— measured</tspan> '
        f'<tspan fill="{_BAD}">● breached</tspan> '
        f'<tspan fill="{_TARGET}">-- target {escape(_num(o.target))} {escape(o.unit)}</tspan>'
        "</text>"
    )
    out.append("</svg>")
    return "".join(out)
