"""The catalog as Backstage entities, for a Backstage instance to ingest.

- a **Group** per Party (``spec.type`` team, board, supplier or customer), with its title and
  the first contact's email as its profile;
- a **Component** per ServiceModel (``spec.type: service``): owned by its team, its lifecycle
  from the portfolio stage, part of the **System** of its business domain, depending on the
  services it depends on and the **Resource** of every pool it draws on;
- a **Resource** per ResourcePool, owned by its team;
- a **Location** (``catalog-info.yaml``) naming the files, the one URL to register.

Every entity carries annotations back to the catalog: the file it came from (relative to the
repository root) and ``Kind:name``; with ``repo_url``, also Backstage's ``source-location`` and
``view-url``, so that its page links to the YAML. Pure: documents in, files out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from spo_gitops.catalog.documents import Document

API_VERSION = "backstage.io/v1alpha1"
ANNOTATION_FILE = "spo-gitops.io/source-file"
ANNOTATION_ENTITY = "spo-gitops.io/entity"
ANNOTATION_SUPPLIERS = "spo-gitops.io/suppliers"
NAMESPACE = "default"

# portfolio stage -> Backstage's lifecycle (its well-known values)
LIFECYCLE = {
    "live": "production",
    "retiring": "deprecated",
    "retired": "deprecated",
}
EXPERIMENTAL = "experimental"  # every stage before live

FILES = {
    "Group": "groups.yaml",
    "System": "systems.yaml",
    "Component": "components.yaml",
    "Resource": "resources.yaml",
}
LOCATION_FILE = "catalog-info.yaml"


def ref(kind: str, name: str) -> str:
    return f"{kind.lower()}:{NAMESPACE}/{name}"


@dataclass
class Export:
    entities: list[dict[str, Any]] = field(default_factory=list)

    def files(self, *, extra_targets: Iterable[str] = ()) -> dict[str, str]:
        """File name -> YAML text: one file per kind, and the Location that names them (and
        ``extra_targets``, e.g. a Software Template written beside them)."""
        out: dict[str, str] = {}
        for kind, name in FILES.items():
            docs = [e for e in self.entities if e["kind"] == kind]
            if docs:
                out[name] = yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)
        location = {
            "apiVersion": API_VERSION,
            "kind": "Location",
            "metadata": {
                "name": "spo-gitops-catalog",
                "description": "The service catalog, exported by spo export backstage",
            },
            "spec": {
                "type": "file",
                "targets": [f"./{name}" for name in [*out, *extra_targets]],
            },
        }
        out[LOCATION_FILE] = yaml.safe_dump(location, sort_keys=False, allow_unicode=True)
        return out


def _metadata(doc: Document, prefix: str, repo_url: str | None) -> dict[str, Any]:
    meta = doc.data.get("metadata") or {}
    source = f"{prefix.strip('/')}/{doc.file}" if prefix else doc.file
    annotations = {ANNOTATION_FILE: source, ANNOTATION_ENTITY: f"{doc.kind}:{doc.name}"}
    if repo_url:
        url = f"{repo_url.rstrip('/')}/{source}"
        annotations["backstage.io/source-location"] = f"url:{url}"
        annotations["backstage.io/view-url"] = url
    out: dict[str, Any] = {"name": doc.name}
    if meta.get("title"):
        out["title"] = str(meta["title"])
    if meta.get("description"):
        out["description"] = " ".join(str(meta["description"]).split())
    labels = meta.get("labels")
    if isinstance(labels, Mapping) and labels:
        out["labels"] = {str(k): str(v) for k, v in labels.items()}
    out["annotations"] = annotations
    links = [
        {"url": str(link["url"]), **({"title": str(link["title"])} if link.get("title") else {})}
        for link in meta.get("links") or []
        if isinstance(link, Mapping) and link.get("url")
    ]
    if links:
        out["links"] = links
    return out


def _group(doc: Document, prefix: str, repo_url: str | None) -> dict[str, Any]:
    spec = doc.data.get("spec") or {}
    profile: dict[str, str] = {}
    title = (doc.data.get("metadata") or {}).get("title")
    if title:
        profile["displayName"] = str(title)
    emails = [c.get("email") for c in spec.get("contacts") or [] if isinstance(c, Mapping)]
    if emails and emails[0]:
        profile["email"] = str(emails[0])
    group_spec: dict[str, Any] = {"type": str(spec.get("type", "team"))}
    if profile:
        group_spec["profile"] = profile
    group_spec["children"] = []
    return {
        "apiVersion": API_VERSION,
        "kind": "Group",
        "metadata": _metadata(doc, prefix, repo_url),
        "spec": group_spec,
    }


def export(
    documents: Iterable[Document], *, prefix: str = "", repo_url: str | None = None
) -> Export:
    """Backstage entities for the valid documents of a catalog."""
    docs = [d for d in documents if d.valid]
    by_kind: dict[str, list[Document]] = {}
    for d in sorted(docs, key=lambda d: (d.kind, d.name)):
        by_kind.setdefault(d.kind, []).append(d)
    entries = {
        str((d.data.get("spec") or {}).get("service")): d.data.get("spec") or {}
        for d in by_kind.get("PortfolioEntry", [])
    }
    out = Export()
    for party in by_kind.get("Party", []):
        out.entities.append(_group(party, prefix, repo_url))
    # a System per business domain, owned by the team that owns most of its services
    domains: dict[str, Counter[str]] = {}
    for service in by_kind.get("ServiceModel", []):
        domain = entries.get(service.name, {}).get("domain")
        if domain:
            owner = str((service.data.get("metadata") or {}).get("owner"))
            domains.setdefault(str(domain), Counter())[owner] += 1
    for domain, owners in sorted(domains.items()):
        owner = sorted(owners.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        out.entities.append(
            {
                "apiVersion": API_VERSION,
                "kind": "System",
                "metadata": {
                    "name": domain,
                    "title": domain.replace("-", " ").capitalize(),
                    "annotations": {ANNOTATION_ENTITY: f"domain:{domain}"},
                },
                "spec": {"owner": ref("Group", owner)},
            }
        )
    for service in by_kind.get("ServiceModel", []):
        spec = service.data.get("spec") or {}
        meta = _metadata(service, prefix, repo_url)
        entry = entries.get(service.name, {})
        stage = str(entry.get("stage", ""))
        tags = [str(spec.get("type", "business"))]
        if spec.get("tier") is not None:
            tags.append(f"tier-{spec['tier']}")
        meta["tags"] = tags
        suppliers = [str(s) for s in spec.get("suppliers") or []]
        if suppliers:
            meta["annotations"][ANNOTATION_SUPPLIERS] = ",".join(suppliers)
        component: dict[str, Any] = {
            "type": "service",
            "lifecycle": LIFECYCLE.get(stage, EXPERIMENTAL),
            "owner": ref("Group", str((service.data.get("metadata") or {}).get("owner"))),
        }
        if entry.get("domain"):
            component["system"] = ref("System", str(entry["domain"]))
        depends = [ref("Component", str(name)) for name in spec.get("dependsOn") or []]
        depends += sorted(
            {
                ref("Resource", str(r["pool"]))
                for r in spec.get("resources") or []
                if isinstance(r, Mapping) and r.get("pool")
            }
        )
        if depends:
            component["dependsOn"] = depends
        out.entities.append(
            {"apiVersion": API_VERSION, "kind": "Component", "metadata": meta, "spec": component}
        )
    for pool in by_kind.get("ResourcePool", []):
        spec = pool.data.get("spec") or {}
        out.entities.append(
            {
                "apiVersion": API_VERSION,
                "kind": "Resource",
                "metadata": _metadata(pool, prefix, repo_url),
                "spec": {
                    "type": f"{spec.get('type', 'resource')}-pool",
                    "owner": ref("Group", str((pool.data.get("metadata") or {}).get("owner"))),
                },
            }
        )
    return out
