"""The compile stage: entities in provisioned stages become desired resources.

Resources come from two places:

- an entity's own ``spec.provisioning`` entries (ServiceModel), and
- blueprints: ``blueprints/<Kind>.yaml.j2`` in the catalog repository, jinja2 templates (sandboxed,
  strict about undefined names) that render a YAML list of resources for each entity of that kind.

Several entities may produce the same resource (a business domain's portfolio, rendered by every
service of the domain): identical copies are one resource; copies that differ are SPO701.

Which entities are provisioned: a ServiceModel (and its PortfolioEntry) when its portfolio stage
is one of ``reconcile.provisionedStages`` in spo.yaml; an SLA when it is active and its service is
provisioned; an SPI when one of its services is; Parties and ResourcePools always (they are
reference data: a blueprint decides whether they produce anything). Policies never.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.loader import Limits, load_values
from spo_gitops.catalog.references import Index, find_cycles
from spo_gitops.config import Project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.provision.resources import DesiredResource, Source

if TYPE_CHECKING:
    import jinja2

    from spo_gitops.templating import SandboxedEnvironment

_FIELDS = {"provider", "type", "name", "properties", "dependsOn", "protected"}


@dataclass
class CompileResult:
    resources: list[DesiredResource] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def by_address(self) -> dict[str, DesiredResource]:
        return {r.address: r for r in self.resources}


def provisioned_services(index: Index, stages: set[str]) -> dict[str, str]:
    """Service name -> stage, for services whose portfolio stage is provisioned."""
    return index.services_in(stages)


def is_provisioned(doc: Document, services: Mapping[str, str]) -> bool:
    spec = doc.data.get("spec", {})
    kind = doc.kind
    if kind == "ServiceModel":
        return doc.name in services
    if kind == "PortfolioEntry":
        return spec.get("service") in services
    if kind == "ServiceLevelAgreement":
        return spec.get("status", "active") == "active" and spec.get("service") in services
    if kind == "ServiceProviderInterface":
        return any(s in services for s in spec.get("services", []))
    return kind in ("Party", "ResourcePool")


def compile_catalog(project: Project, docs: list[Document], index: Index) -> CompileResult:
    """Desired resources of every provisioned entity, with located diagnostics."""
    result = CompileResult()
    stages: set[str] = set(project.config.reconcile.provisioned_stages)
    services = provisioned_services(index, stages)
    blueprints = _Blueprints(project)
    seen: dict[str, DesiredResource] = {}
    for doc in sorted(docs, key=lambda d: (d.kind, d.name)):
        if not doc.valid or not is_provisioned(doc, services):
            continue
        if index.get(doc.kind, doc.name) is not doc:
            continue  # a duplicate: already reported by validate
        source = Source(doc.ref, doc.file, doc.line)
        produced = list(_from_provisioning(doc, source))
        produced.extend(blueprints.render(doc, source, index, services, result.diagnostics))
        for res in produced:
            first = seen.get(res.address)
            if first is not None:
                if first == res:  # the same resource (e.g. a domain's portfolio): one of it
                    continue
                origin = first.source.entity if first.source else "?"
                result.diagnostics.append(
                    doc.diag(
                        "SPO701",
                        f"resource {res.address} is also produced by {origin}, differently",
                        hint="resource names are unique per provider and type: set a distinct "
                        "name, or produce exactly the same properties and dependencies from both",
                    )
                )
                continue
            seen[res.address] = res
    result.resources = list(seen.values())
    result.diagnostics.extend(_check_dependencies(result.resources, index))
    return result


def _from_provisioning(doc: Document, source: Source) -> Iterator[DesiredResource]:
    for entry in doc.data.get("spec", {}).get("provisioning", []):
        yield DesiredResource(
            provider=entry["provider"],
            type=entry["type"],
            name=entry.get("name") or doc.name,
            properties=dict(entry.get("properties", {})),
            depends_on=tuple(entry.get("dependsOn", [])),
            protected=bool(entry.get("protected", False)),
            source=source,
        )


def _check_dependencies(resources: list[DesiredResource], index: Index) -> Iterator[Diagnostic]:
    known = {r.address for r in resources}
    graph: dict[str, list[str]] = {}
    for res in resources:
        graph[res.address] = [d for d in res.depends_on if d in known]
        for dep in res.depends_on:
            if dep not in known:
                yield _resource_diag(
                    res,
                    index,
                    "SPO702",
                    f"{res.address} depends on {dep}, which is not a desired resource",
                    hint="name an address provider.type.name produced by a provisioned entity",
                )
    for cycle in find_cycles(graph):
        first = next(r for r in resources if r.address == cycle[0])
        yield _resource_diag(
            first,
            index,
            "SPO703",
            "resource dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
            hint="resources cannot depend on each other in a circle",
        )


def _resource_diag(
    res: DesiredResource, index: Index, code: str, message: str, hint: str
) -> Diagnostic:
    if res.source is not None:
        kind, _, name = res.source.entity.partition(":")
        doc = index.get(kind, name)
        if doc is not None:
            return doc.diag(code, message, hint=hint)
    return Diagnostic("error", code, message, hint=hint)


class _Blueprints:
    """Per-kind jinja2 templates in the project's blueprint folder, compiled once."""

    def __init__(self, project: Project) -> None:
        self.providers = project.config.providers
        self.folder = project.blueprints
        self.display = project.display(self.folder)
        self.env: SandboxedEnvironment | None = None
        if self.folder.is_dir():  # jinja2 (~35 ms to import) only for a catalog with blueprints
            from spo_gitops.templating import environment

            self.env = environment(folders=[self.folder])
        self.templates: dict[str, jinja2.Template | None] = {}
        self.reported: set[str] = set()

    def _template(self, kind: str, out: list[Diagnostic]) -> jinja2.Template | None:
        if self.env is None:
            return None
        if kind not in self.templates:
            import jinja2

            name = f"{kind}.yaml.j2"
            template = None
            if (self.folder / name).is_file():
                try:
                    template = self.env.get_template(name)
                except jinja2.TemplateSyntaxError as e:
                    out.append(
                        Diagnostic(
                            "error",
                            "SPO704",
                            f"blueprint syntax error: {e.message}",
                            f"{self.display}/{name}",
                            e.lineno,
                            1,
                        )
                    )
            self.templates[kind] = template
        return self.templates[kind]

    def render(
        self,
        doc: Document,
        source: Source,
        index: Index,
        services: Mapping[str, str],
        out: list[Diagnostic],
        seen: set[str] | None = None,
    ) -> list[DesiredResource]:
        """The resources the kind's blueprint renders for ``doc`` (``seen``: see
        templating.render_bounded)."""
        template = self._template(doc.kind, out)
        if template is None:
            return []
        from spo_gitops.templating import render_bounded

        file = f"{self.display}/{doc.kind}.yaml.j2"
        context = _context(doc, index, services)
        try:
            text = render_bounded(template, context, seen=seen)
        except Exception as e:  # e.g. tojson of an undefined value: any failure is a finding
            line = _template_line(e, template)
            out.append(
                Diagnostic(
                    "error",
                    "SPO705",
                    f"blueprint failed for {doc.ref}: {e}",
                    file,
                    line,
                    1,
                    entity=doc.ref,
                    hint=f"the entity is at {doc.file}:{doc.line}",
                )
            )
            return []
        resources = _parse_rendered(text, file, doc, source, out)
        return [r for r in resources if self._fits_schema(r, file, doc, out)]

    def _fits_schema(
        self, res: DesiredResource, file: str, doc: Document, out: list[Diagnostic]
    ) -> bool:
        """Blueprint output against the provider's schema, as validate checks spec.provisioning:
        a plan never carries properties the provider would refuse."""
        from spo_gitops.providers.registry import check_properties

        problems = check_properties(
            res.provider, res.type, dict(res.properties), self.providers.get(res.provider, {})
        )
        for path, message in problems:
            where = "/".join(path)
            out.append(
                Diagnostic(
                    "error",
                    "SPO708" if path else "SPO707",
                    f"blueprint output {res.address} for {doc.ref}: "
                    + (f"properties/{where}: {message}" if path else message),
                    file,
                    1,
                    1,
                    entity=doc.ref,
                    hint=f"spo providers schema {res.provider} {res.type} shows what it takes",
                )
            )
        return not problems


def _context(doc: Document, index: Index, services: Mapping[str, str]) -> dict[str, Any]:
    def lookup(kind: str, name: str) -> dict[str, Any] | None:
        found = index.get(kind, name)
        return found.data if found is not None and found.valid else None

    service_name = doc.data["spec"].get("service") if doc.kind != "ServiceModel" else doc.name
    entry = index.entry_of(service_name) if isinstance(service_name, str) else None
    portfolio = entry.data if entry is not None else None
    return {
        "entity": doc.data,
        "kind": doc.kind,
        "name": doc.name,
        "metadata": doc.data["metadata"],
        "spec": doc.data["spec"],
        "portfolio": portfolio,
        "stage": services.get(service_name or ""),
        "provisioned": dict(services),
        "lookup": lookup,
    }


def _template_line(error: Exception, template: jinja2.Template) -> int:
    """The blueprint line where rendering failed, read from the traceback jinja2 rewrites."""
    lineno = getattr(error, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    tb = error.__traceback__
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _parse_rendered(
    text: str, file: str, doc: Document, source: Source, out: list[Diagnostic]
) -> list[DesiredResource]:
    rendered = f"{file} (rendered for {doc.ref})"
    values, problems = load_values(text, rendered, Limits())
    if problems:
        for d in problems:
            out.append(d.with_(entity=doc.ref, hint="the blueprint renders invalid YAML"))
        return []
    items: Any = values[0] if values else []
    if items is None:
        items = []
    if not isinstance(items, list):
        out.append(
            Diagnostic(
                "error",
                "SPO706",
                f"blueprint for {doc.ref} must render a YAML list of resources",
                file,
                1,
                1,
                entity=doc.ref,
                hint="render '- {provider: cmdb, type: service, properties: {...}}' items",
            )
        )
        return []
    resources = []
    for i, item in enumerate(items):
        problem = _item_problem(item)
        if problem:
            out.append(
                Diagnostic(
                    "error",
                    "SPO706",
                    f"blueprint item {i} for {doc.ref}: {problem}",
                    file,
                    1,
                    1,
                    entity=doc.ref,
                    hint="each item has provider, type and optionally name, properties, "
                    "dependsOn, protected",
                )
            )
            continue
        resources.append(
            DesiredResource(
                provider=item["provider"],
                type=item["type"],
                name=item.get("name") or doc.name,
                properties=dict(item.get("properties") or {}),
                depends_on=tuple(item.get("dependsOn") or ()),
                protected=bool(item.get("protected", False)),
                source=source,
            )
        )
    return resources


def _item_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "an item is not a mapping"
    unknown = set(item) - _FIELDS
    if unknown:
        return "unknown field(s) " + ", ".join(sorted(unknown))
    for key in ("provider", "type"):
        if not isinstance(item.get(key), str) or not item[key]:
            return f"{key} is missing"
    name = item.get("name")
    if name is not None and (not isinstance(name, str) or "." in name):
        return f"name {name!r} is not a resource name"
    if not isinstance(item.get("properties", {}) or {}, dict):
        return "properties is not a mapping"
    if not isinstance(item.get("dependsOn", []) or [], list):
        return "dependsOn is not a list"
    return None
