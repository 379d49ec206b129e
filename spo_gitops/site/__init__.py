"""The static service catalog site: pure over the catalog, rendered with the one jinja2 factory.

``build_site`` returns every file of the site (path relative to the output folder -> text); the
caller writes them. Pages: an index with the portfolio board by stage and a search filter, one
page per service, per party and per pool. Nothing is loaded from outside the folder: styles and
the search script are files of the site, graphs are inline SVG, and a Content-Security-Policy
forbids anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from spo_gitops.catalog.references import Index
from spo_gitops.models import metrics
from spo_gitops.models.common import STAGES
from spo_gitops.policy.capacity import PoolUsage
from spo_gitops.report.graph import Graph, Node, build_graph, to_svg
from spo_gitops.sla.compute import Point, SlaReport

if TYPE_CHECKING:
    from spo_gitops.portfolio.forecast import PoolForecast
    from spo_gitops.portfolio.report import PortfolioReport
from spo_gitops.templating import environment

History = Mapping[str, list[dict[str, str]]]  # service name -> commits, newest first
ASSETS = ("site.css", "search.js")


@dataclass
class SiteInput:
    index: Index
    capacity: list[PoolUsage] = field(default_factory=list)
    report: SlaReport | None = None
    history: History = field(default_factory=dict)
    use_dot: bool | None = None  # None: Graphviz when installed
    portfolio: PortfolioReport | None = None  # the portfolio pages (dashboard, timeline, risks)
    forecast: list[PoolForecast] = field(default_factory=list)  # the capacity forecast page


def _spec(doc: Any) -> dict[str, Any]:
    return dict(doc.data.get("spec") or {})


def _meta(doc: Any) -> dict[str, Any]:
    return dict(doc.data.get("metadata") or {})


def _valid(index: Index, kind: str) -> list[Any]:
    return sorted((d for d in index.of_kind(kind) if d.valid), key=lambda d: d.name)


def _raci_table(process: dict[str, Any]) -> dict[str, Any]:
    parties: list[str] = []
    for act in process["activities"]:
        for p in act["raci"]:
            if p not in parties:
                parties.append(p)
    rows = [(a["activity"], [a["raci"].get(p, "") for p in parties]) for a in process["activities"]]
    roles = [
        ("owner", [process["owner"]] if process.get("owner") else []),
        ("managers", process.get("managers", [])),
        ("practitioners", process.get("practitioners", [])),
    ]
    return {"process": process["process"], "parties": parties, "rows": rows, "roles": roles}


class _Catalog:
    """The catalog arranged for the pages."""

    def __init__(self, data: SiteInput) -> None:
        index = data.index
        self.index = index
        self.services = _valid(index, "ServiceModel")
        self.parties = _valid(index, "Party")
        self.pools = _valid(index, "ResourcePool")
        self.entries = index.entries
        self.slas = _valid(index, "ServiceLevelAgreement")
        self.spis = _valid(index, "ServiceProviderInterface")
        self.usage = {u.pool: u for u in data.capacity}
        self.party_names = {d.name for d in self.parties}
        self.pool_names = {d.name for d in self.pools}
        self.service_names = {d.name for d in self.services}
        self.latest: dict[tuple[str, str], Point] = {}
        if data.report is not None:
            for s in data.report.series:
                if s.latest is not None:
                    self.latest[(s.objective.sla, s.objective.label)] = s.latest

    def stage(self, service: str) -> str:
        entry = self.entries.get(service)
        return str(_spec(entry)["stage"]) if entry is not None else "unlisted"

    def link(self, kind: str, name: str, root: str) -> str | None:
        known = {
            "service": self.service_names,
            "party": self.party_names,
            "supplier": self.party_names,
            "pool": self.pool_names,
        }[kind]
        folder = {"service": "services", "party": "parties", "supplier": "parties"}.get(
            kind, "pools"
        )
        return f"{root}{folder}/{name}.html" if name in known else None


def _service_page(cat: _Catalog, doc: Any, data: SiteInput, graph: Graph) -> dict[str, Any]:
    spec, name = _spec(doc), doc.name
    slas = []
    for sla in cat.slas:
        s = _spec(sla)
        if s["service"] != name:
            continue
        objectives = []
        for o in s["objectives"]:
            label = o["metric"] + (f" {o['priority']}" if o.get("priority") else "")
            direction = metrics.direction_of(o["metric"], o.get("direction"))
            bound = {"higher-is-better": "≥ ", "lower-is-better": "≤ "}.get(direction or "", "")
            latest = cat.latest.get((sla.name, label))
            objectives.append({"o": o, "label": label, "bound": bound, "latest": latest})
        slas.append({"doc": sla, "spec": s, "objectives": objectives})
    spis = []
    for spi in cat.spis:
        s = _spec(spi)
        if name in s["services"]:
            spis.append({"doc": spi, "spec": s, "tables": [_raci_table(p) for p in s["processes"]]})
    resources_ = [{"r": r, "usage": cat.usage.get(r["pool"])} for r in spec.get("resources", [])]
    dependents = sorted(d.name for d in cat.services if name in _spec(d).get("dependsOn", []))

    def links(node: Node) -> str | None:
        return cat.link(node.kind, node.name, "../")

    sub = graph.neighbourhood(f"service:{name}")
    svg = to_svg(sub, links, use_dot=data.use_dot) if sub.edges else ""
    entry = cat.entries.get(name)
    return {
        "doc": doc,
        "meta": _meta(doc),
        "spec": spec,
        "entry": _spec(entry) if entry is not None else None,
        "stage": cat.stage(name),
        "slas": slas,
        "spis": spis,
        "resources": resources_,
        "dependents": dependents,
        "graph": Markup(svg),
        "history": data.history.get(name, []),
        "roadmap": _roadmap(data, name),
        "stages": STAGES,
    }


def _roadmap(data: SiteInput, service: str) -> dict[str, Any] | None:
    """A service's stages reached and planned, and its risks (portfolio/)."""
    rep = data.portfolio
    if rep is None:
        return None
    entry = next((e for e in rep.entries if e.service == service), None)
    risks = [r for r in rep.risks if service in r.services]
    return {
        "entry": entry,
        "risks": risks,
        "slipped": {s.stage: s for s in entry.slips} if entry else {},
    }


def amount(value: float) -> str:
    """Figures as people read them: 1,600,000 and 188.5, never 1.6e+06."""
    value = float(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0")


def _asset(name: str) -> str:
    return (resources.files("spo_gitops") / "templates" / "docs" / "assets" / name).read_text(
        encoding="utf-8"
    )


def _portfolio_pages(data: SiteInput, render: Callable[..., str]) -> dict[str, str]:
    from spo_gitops.portfolio.charts import forecast_svg
    from spo_gitops.portfolio.render import template_helpers
    from spo_gitops.portfolio.report import timeline
    from spo_gitops.portfolio.risks import heat_map

    rep = data.portfolio
    assert rep is not None
    helpers = template_helpers()
    labels, rows = timeline(rep)
    current = labels[4] if len(labels) > 4 else labels[0]
    charts = {p.pool: Markup(forecast_svg(p)) for p in data.forecast}
    return {
        "portfolio.html": render("portfolio.html.j2", "", rep=rep, **helpers),
        "timeline.html": render(
            "timeline.html.j2", "", rep=rep, quarters=labels, timeline=rows, current=current
        ),
        "forecast.html": render(
            "forecast.html.j2", "", pools=data.forecast, charts=charts, date=rep.date
        ),
        "risks.html": render(
            "risks.html.j2", "", risks=rep.risks, cells=heat_map(rep.risks), date=rep.date
        ),
    }


def build_site(data: SiteInput, progress: Callable[[str], None] | None = None) -> dict[str, str]:
    """Every file of the site: relative path -> content."""
    env = environment("docs", html=True)
    env.filters["amount"] = amount
    env.filters["dictsum"] = lambda d: sum(d.values())  # portfolio pages: a stage's services
    cat = _Catalog(data)
    graph = build_graph(data.index)
    files: dict[str, str] = {f"assets/{a}": _asset(a) for a in ASSETS}

    def render(template: str, root: str, **kw: Any) -> str:
        return env.get_template(template).render(
            root=root,
            link=lambda k, n: cat.link(k, n, root),
            metrics=data.report,
            portfolio_pages=data.portfolio is not None,
            **kw,
        )

    stages = [*STAGES, "unlisted"]
    board = {s: [d for d in cat.services if cat.stage(d.name) == s] for s in stages}
    if not board["unlisted"]:
        del board["unlisted"]
    files["index.html"] = render(
        "index.html.j2",
        "",
        board=board,
        meta=_meta,
        spec=_spec,
        entries=cat.entries,
        parties=cat.parties,
        pools=cat.pools,
    )
    if data.portfolio is not None:
        files.update(_portfolio_pages(data, render))
    for doc in cat.services:
        if progress:
            progress(doc.name)
        page = _service_page(cat, doc, data, graph)
        files[f"services/{doc.name}.html"] = render("service.html.j2", "../", **page)
    for doc in cat.parties:
        owned = [d.name for d in cat.services if _meta(d).get("owner") == doc.name]
        supplied = [d.name for d in cat.services if doc.name in _spec(d).get("suppliers", [])]
        slas = [d for d in cat.slas if doc.name in (_spec(d)["customer"], _spec(d).get("provider"))]
        spis = [
            d
            for d in cat.spis
            if doc.name == _spec(d)["provider"] or doc.name in _spec(d)["consumers"]
        ]
        # the decisions of a board (or team): its own approvals and its members'
        approvals = [
            {"service": service, **a}
            for service, entry in sorted(cat.entries.items())
            for a in _spec(entry).get("approvals", [])
            if cat.index.is_member(str(a["approver"]), doc.name)
        ]
        files[f"parties/{doc.name}.html"] = render(
            "party.html.j2",
            "../",
            doc=doc,
            meta=_meta(doc),
            spec=_spec(doc),
            owned=owned,
            supplied=supplied,
            slas=slas,
            spis=spis,
            approvals=approvals,
            sla_spec=_spec,
        )
    for doc in cat.pools:
        files[f"pools/{doc.name}.html"] = render(
            "pool.html.j2",
            "../",
            doc=doc,
            meta=_meta(doc),
            spec=_spec(doc),
            usage=cat.usage.get(doc.name),
        )
    return files
