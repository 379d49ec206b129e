"""Charts of each objective over time against its target, drawn with matplotlib.

Figures are built without pyplot (no global state, safe in threads) on the Agg/SVG canvases;
SVG output is made reproducible (fixed id salt, no date) so that rebuilt reports diff cleanly.
"""

from __future__ import annotations

import io
from typing import Literal

from spo_gitops.extras import guard
from spo_gitops.sla.compute import Series

ChartFormat = Literal["svg", "png"]
_GOOD, _BAD, _TARGET = "#1f6f43", "#b42318", "#555555"


def chart(series: Series, fmt: ChartFormat = "svg", *, dpi: int = 96) -> bytes:
    """The objective's measured values per period, its target, and breaches marked in red."""
    with guard("drawing SLA charts"):
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

    o = series.objective
    labels = [p.period.label for p in series.points]
    values = [p.measured for p in series.points]
    x = list(range(len(labels)))
    salt = f"{o.sla}/{o.label}"
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt, "font.size": 9}):
        fig = Figure(figsize=(6.0, 2.6), dpi=dpi)
        ax = fig.add_subplot()
        ax.plot(x, values, color=_GOOD, linewidth=1.8, marker="o", markersize=4, label="measured")
        bad = [(i, p.measured) for i, p in enumerate(series.points) if not p.attained]
        if bad:
            ax.scatter(
                [i for i, _ in bad],
                [v for _, v in bad],
                color=_BAD,
                zorder=3,
                s=36,
                label="breached",
            )
        ax.axhline(
            o.target,
            color=_TARGET,
            linestyle="--",
            linewidth=1.2,
            label=f"target {o.target:g} {o.unit}",
        )
        low, high = ax.get_ylim()
        if o.direction == "higher-is-better":
            ax.axhspan(low, o.target, color=_BAD, alpha=0.06)
        else:
            ax.axhspan(o.target, high, color=_BAD, alpha=0.06)
        ax.set_ylim(low, high)
        ax.set_xticks(x, labels)
        ax.set_ylabel(o.unit)
        ax.set_title(f"{o.sla}: {o.label}", fontsize=9, loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="best", fontsize=7, frameon=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buf, format=fmt, metadata=metadata)
    return buf.getvalue()


def chart_svg(series: Series) -> str:
    """The chart as an SVG element to inline in HTML (no XML prolog or DOCTYPE)."""
    text = chart(series, "svg").decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def chart_name(series: Series, fmt: ChartFormat) -> str:
    """A file name for the chart: ``<sla>--<metric>[-<priority>].<fmt>``."""
    o = series.objective
    suffix = f"-{o.priority.lower()}" if o.priority else ""
    return f"{o.sla}--{o.metric}{suffix}.{fmt}"
