"""The capacity forecast drawn as inline SVG: committed and pipeline demand stacked per quarter,
the capacity as a line. No scripts, no external resources; all text escaped."""

from __future__ import annotations

from html import escape

from spo_gitops.portfolio.forecast import PoolForecast

WIDTH, HEIGHT, PAD = 640, 220, 36


def forecast_svg(p: PoolForecast) -> str:
    top = max([p.capacity, *(r.total for r in p.rows)]) * 1.1 or 1.0
    n = max(len(p.rows), 1)
    slot = (WIDTH - 2 * PAD) / n
    bar = slot * 0.6

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="forecast-chart">',
        f"<title>{escape(p.pool)}: demand per quarter against capacity</title>",
    ]
    for i, r in enumerate(p.rows):
        x = PAD + i * slot + (slot - bar) / 2
        yc, yt = y(r.committed), y(r.total)
        parts.append(
            f'<rect class="committed" x="{x:.1f}" y="{yc:.1f}" width="{bar:.1f}" '
            f'height="{HEIGHT - PAD - yc:.1f}" fill="#0b5cad"/>'
        )
        if r.pipeline:
            parts.append(
                f'<rect class="pipeline" x="{x:.1f}" y="{yt:.1f}" width="{bar:.1f}" '
                f'height="{yc - yt:.1f}" fill="#f0a500"/>'
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'text-anchor="middle">{escape(r.quarter)}</text>'
        )
    yc = y(p.capacity)
    parts.append(
        f'<line class="capacity" x1="{PAD}" x2="{WIDTH - PAD}" y1="{yc:.1f}" y2="{yc:.1f}" '
        'stroke="#b42318" stroke-width="2" stroke-dasharray="6 3"/>'
    )
    parts.append(
        f'<text x="{WIDTH - PAD}" y="{yc - 4:.1f}" font-size="10" text-anchor="end" '
        f'fill="#b42318">capacity</text>'
    )
    parts.append(
        f'<text x="{PAD}" y="14" font-size="10"><tspan fill="#0b5cad">■ committed</tspan> '
        '<tspan fill="#f0a500">■ pipeline</tspan></text>'
    )
    parts.append("</svg>")
    return "".join(parts)
