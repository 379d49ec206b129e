"""The dependency graph of services, their suppliers and the resource pools they draw on.

``build_graph(index)`` is pure; it renders as Graphviz dot, Mermaid, or SVG. SVG comes from
Graphviz's ``dot`` when it is installed, else from a small layered layout drawn here, so that
no output ever needs a network or a browser-side library.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Literal

from spo_gitops.catalog.references import Index
from spo_gitops.errors import SpoError

NodeKind = Literal["service", "supplier", "pool"]
EdgeKind = Literal["depends", "supplier", "pool"]
Links = Callable[["Node"], str | None]


class GraphError(SpoError, RuntimeError):
    """Graphviz failed on a graph it was given."""


@dataclass(frozen=True)
class Node:
    kind: NodeKind
    name: str
    stage: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Edge:
    source: str  # node id
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def neighbourhood(self, node_id: str) -> Graph:
        """The node, what it points at and what points at it."""
        keep = {node_id}
        edges = [e for e in self.edges if node_id in (e.source, e.target)]
        for e in edges:
            keep.update((e.source, e.target))
        return Graph({k: v for k, v in self.nodes.items() if k in keep}, edges)


def build_graph(index: Index) -> Graph:
    g = Graph()
    stages = index.stages
    services = sorted((d for d in index.of_kind("ServiceModel") if d.valid), key=lambda d: d.name)
    for doc in services:
        g.nodes[f"service:{doc.name}"] = Node("service", doc.name, stages.get(doc.name))
    for doc in services:
        spec, src = doc.data["spec"], f"service:{doc.name}"
        for dep in spec.get("dependsOn", []):
            g.nodes.setdefault(f"service:{dep}", Node("service", dep))
            g.edges.append(Edge(src, f"service:{dep}", "depends"))
        for sup in spec.get("suppliers", []):
            g.nodes.setdefault(f"supplier:{sup}", Node("supplier", sup))
            g.edges.append(Edge(src, f"supplier:{sup}", "supplier"))
        for res in spec.get("resources", []):
            pool = f"pool:{res['pool']}"
            g.nodes.setdefault(pool, Node("pool", res["pool"]))
            g.edges.append(Edge(src, pool, "pool", f"{res['quantity']:g}"))
    return g


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_STYLE = {
    "service": 'shape=box style="rounded,filled" fillcolor="#dbeafe" color="#1d4ed8"',
    "supplier": 'shape=box style="filled" fillcolor="#fef3c7" color="#b45309"',
    "pool": 'shape=cylinder style="filled" fillcolor="#dcfce7" color="#15803d"',
}
_EDGE_STYLE = {
    "depends": 'color="#1d4ed8"',
    "supplier": 'color="#b45309" style=dashed',
    "pool": 'color="#15803d" style=dotted',
}


def to_dot(graph: Graph, links: Links | None = None) -> str:
    lines = [
        "digraph services {",
        '  rankdir=LR; node [fontname="Helvetica" fontsize=10]; edge [fontsize=8];',
    ]
    for node in graph.nodes.values():
        url = links(node) if links else None
        extra = f" URL={_q(url)} target=_top" if url else ""
        lines.append(
            f"  {_q(node.id)} [label={_q(node.name)} tooltip={_q(node.id)} "
            f"{_DOT_STYLE[node.kind]}{extra}];"
        )
    for e in graph.edges:
        label = f" label={_q(e.label)}" if e.label else ""
        lines.append(f"  {_q(e.source)} -> {_q(e.target)} [{_EDGE_STYLE[e.kind]}{label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph: Graph) -> str:
    ids = {nid: f"n{i}" for i, nid in enumerate(graph.nodes)}
    shape = {"service": ("(", ")"), "supplier": ("[", "]"), "pool": ("[(", ")]")}
    lines = ["flowchart LR"]
    for nid, node in graph.nodes.items():
        left, right = shape[node.kind]
        lines.append(f'  {ids[nid]}{left}"{node.name}"{right}')
    arrow = {"depends": "-->", "supplier": "-.->", "pool": "==>"}
    for e in graph.edges:
        label = f"|{e.label}|" if e.label else ""
        lines.append(f"  {ids[e.source]} {arrow[e.kind]}{label} {ids[e.target]}")
    for kind, style in (
        ("service", "fill:#dbeafe,stroke:#1d4ed8"),
        ("supplier", "fill:#fef3c7,stroke:#b45309"),
        ("pool", "fill:#dcfce7,stroke:#15803d"),
    ):
        members = [ids[n] for n, node in graph.nodes.items() if node.kind == kind]
        if members:
            lines.append(f"  classDef {kind} {style}")
            lines.append(f"  class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


def have_dot() -> bool:
    return shutil.which("dot") is not None


def to_svg(graph: Graph, links: Links | None = None, *, use_dot: bool | None = None) -> str:
    """An SVG element (no XML prolog): Graphviz when available (or asked for), else our own."""
    if use_dot is None:
        use_dot = have_dot()
    if not use_dot:
        return layered_svg(graph, links)
    try:
        done = subprocess.run(
            ["dot", "-Tsvg"],
            input=to_dot(graph, links),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GraphError(f"graphviz dot failed: {e}") from e
    if done.returncode != 0:
        raise GraphError(f"graphviz dot failed: {done.stderr.strip()}")
    svg = done.stdout
    return svg[svg.find("<svg") :]


_W, _H, _GAP_X, _GAP_Y, _PAD = 170, 26, 70, 14, 10
_FILL = {"service": "#dbeafe", "supplier": "#fef3c7", "pool": "#dcfce7"}
_STROKE = {"service": "#1d4ed8", "supplier": "#b45309", "pool": "#15803d"}
_EDGE_COLOR = {"depends": "#1d4ed8", "supplier": "#b45309", "pool": "#15803d"}


def _columns(graph: Graph) -> dict[str, int]:
    deps: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        if e.kind == "depends":
            deps[e.source].append(e.target)
    level: dict[str, int] = {}

    def depth(n: str, trail: frozenset[str]) -> int:
        if n in level:
            return level[n]
        below = [depth(d, trail | {n}) for d in deps[n] if d not in trail]
        level[n] = 1 + max(below) if below else 0
        return level[n]

    services = [n for n, node in graph.nodes.items() if node.kind == "service"]
    for n in services:
        depth(n, frozenset())
    top = max(level.values(), default=0)
    column = {n: top - level[n] for n in services}
    for n, node in graph.nodes.items():
        if node.kind != "service":
            column[n] = top + 1
    return column


def layered_svg(graph: Graph, links: Links | None = None) -> str:
    """Our own layout: consumers left, dependencies right, suppliers and pools last."""
    column = _columns(graph)
    rows: dict[int, list[str]] = {}
    for n in sorted(graph.nodes, key=lambda n: (graph.nodes[n].kind, n)):
        rows.setdefault(column[n], []).append(n)
    pos: dict[str, tuple[int, int]] = {}
    for c, members in rows.items():
        for r, n in enumerate(members):
            pos[n] = (_PAD + c * (_W + _GAP_X), _PAD + r * (_H + _GAP_Y))
    width = _PAD * 2 + (max(rows, default=0) + 1) * (_W + _GAP_X) - _GAP_X
    height = _PAD * 2 + max((len(m) for m in rows.values()), default=1) * (_H + _GAP_Y) - _GAP_Y
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="dependency graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#666"/></marker></defs>',
    ]
    for e in graph.edges:
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        sx, sy, tx, ty = x1 + _W, y1 + _H / 2, x2, y2 + _H / 2
        mid = (sx + tx) / 2
        dash = {
            "depends": "",
            "supplier": ' stroke-dasharray="5,3"',
            "pool": ' stroke-dasharray="2,2"',
        }
        out.append(
            f'<path d="M{sx},{sy} C{mid},{sy} {mid},{ty} {tx},{ty}" fill="none" '
            f'stroke="{_EDGE_COLOR[e.kind]}"{dash[e.kind]} marker-end="url(#arrow)"/>'
        )
    for nid, node in graph.nodes.items():
        x, y = pos[nid]
        shape = (
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="{_FILL[node.kind]}" '
            f'stroke="{_STROKE[node.kind]}"/><text x="{x + _W / 2}" y="{y + _H / 2 + 4}" '
            f'text-anchor="middle" font-family="sans-serif" font-size="11">'
            f"{escape(node.name)}</text><title>{escape(node.id)}</title>"
        )
        url = links(node) if links else None
        if url:
            shape = f'<a href="{escape(url)}">{shape}</a>'
        out.append(f'<g class="node {node.kind}">{shape}</g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_document(graph: Graph) -> str:
    """A standalone SVG file: the XML prolog, then :func:`to_svg`."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + to_svg(graph)


def render(graph: Graph, fmt: Literal["dot", "mermaid", "svg"]) -> str:
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "mermaid":
        return to_mermaid(graph)
    return to_svg(graph)
