"""Blueprints checked by ``spo validate``: rendered for every shape of entity their kind allows.

A blueprint written against the catalog of today breaks on the first entity that leaves out an
optional field (``spec.contacts`` of a Party, under StrictUndefined): plan fails, and validate,
which never rendered it, was clean. So validate renders each blueprint

- for provisioned entities of its kind, one per distinct shape (which keys they set), and
- for every variant of those that leaves out one optional field (a key whose removal keeps the
  document valid against its kind's schema), empties one list, or leaves out all of them at once
  (the smallest valid entity of that shape),

and reports each way it fails once, pointing at the blueprint's line, with the field whose
absence breaks it. Rendering is bounded (templating.render_bounded), so a runaway loop is a
finding too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from spo_gitops.catalog import schema
from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.references import Index
from spo_gitops.config import Project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.provision.compile import _Blueprints, is_provisioned, provisioned_services
from spo_gitops.provision.resources import Source

SAMPLES = 4  # entities of distinct shapes per kind that variants are made from
SCANNED = 500  # entities per kind looked at to find them (a large catalog repeats its shapes)
VARIANTS = 400  # variants rendered per kind at most

Path = tuple[str | int, ...]


def check_blueprints(project: Project, docs: list[Document], index: Index) -> list[Diagnostic]:
    """Findings of the blueprints, rendered for the shapes of their kinds (see module doc)."""
    blueprints = _Blueprints(project)
    if blueprints.env is None:
        return []
    services = provisioned_services(index, set(project.config.reconcile.provisioned_stages))
    out: list[Diagnostic] = []
    by_kind: dict[str, list[Document]] = {}
    for doc in sorted(docs, key=lambda d: (d.kind, d.name)):
        if doc.valid and index.get(doc.kind, doc.name) is doc and is_provisioned(doc, services):
            by_kind.setdefault(doc.kind, []).append(doc)
    for kind in sorted(by_kind):
        if blueprints._template(kind, out) is None:
            continue
        out.extend(_check_kind(blueprints, by_kind[kind], index, services))
    return out


def _check_kind(
    blueprints: _Blueprints, docs: list[Document], index: Index, services: dict[str, str]
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    reported: set[tuple[str, str | None, int | None]] = set()
    shapes: set[frozenset[Path]] = set()
    samples: list[Document] = []
    for doc in docs[:SCANNED]:
        shape = _shape(doc.data)
        if shape not in shapes:
            shapes.add(shape)
            samples.append(doc)
            if len(samples) == SAMPLES:
                break
    rendered = 0
    seen: set[str] = set()  # keys the blueprint looks up: leaving out any other changes nothing
    for doc in samples:
        for data, what in _variants(doc.kind, doc.data, seen):
            if what and _shape(data) in shapes:
                continue
            shapes.add(_shape(data))
            variant = replace(doc, data=data, _model=None)
            if what and not is_provisioned(variant, services):
                continue
            rendered += 1
            if rendered > VARIANTS:
                return out
            found: list[Diagnostic] = []
            source = Source(doc.ref, doc.file, doc.line)
            blueprints.render(variant, source, index, services, found, seen)
            for d in found:
                key = (d.code, d.file, d.line)
                if key in reported:
                    continue
                reported.add(key)
                out.append(_explained(d, doc, what))
    return out


def _explained(d: Diagnostic, doc: Document, what: str) -> Diagnostic:
    if not what:
        return d
    shown = f"for a valid {doc.kind} {what} (made from {doc.ref})"
    return d.with_(
        message=d.message.replace(f"for {doc.ref}", shown, 1),
        hint=f"a {doc.kind} {what} is valid, so the blueprint must handle it "
        "(e.g. `{% if spec.field is defined %}`, or `spec.get('field')`)",
    )


def _shape(data: Any, at: Path = ()) -> frozenset[Path]:
    """The key paths a document sets (list items collapsed to one)."""
    out: set[Path] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            out.add((*at, key))
            out |= _shape(value, (*at, key))
    elif isinstance(data, list):
        for value in data:
            out |= _shape(value, (*at, "*"))
    return frozenset(out)


def _keys(data: Any, at: Path = ()) -> Iterator[Path]:
    """Every mapping key (depth first) and list of the document, as paths."""
    if isinstance(data, dict):
        for key, value in data.items():
            if at == () and key in ("apiVersion", "kind"):
                continue
            yield (*at, key)
            yield from _keys(value, (*at, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _keys(value, (*at, i))


def _without(data: Any, path: Path, *, empty: bool = False) -> Any:
    """``data`` with the key at ``path`` left out (or its list emptied): only the containers
    on the path are copied, the rest is shared (nothing is changed in place)."""
    step, rest = path[0], path[1:]
    copied: Any = dict(data) if isinstance(data, dict) else list(data)
    if rest:
        copied[step] = _without(data[step], rest, empty=empty)
    elif empty:
        copied[step] = []
    else:
        del copied[step]
    return copied


def _valid(kind: str, data: Any) -> bool:
    return next(iter(schema.check(kind, data)), None) is None


def _pointer(path: Path) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


def _variants(
    kind: str, data: dict[str, Any], seen: set[str]
) -> Iterator[tuple[dict[str, Any], str]]:
    """The document itself (``what`` empty), then its valid variants with what they leave out:
    of the keys whose names are in ``seen`` (filled while the variants are rendered)."""
    yield data, ""
    smallest = data
    for path in list(_keys(data)):
        if path[-1] not in seen:
            continue
        value = _get(data, path)
        candidate = _without(data, path)
        if _valid(kind, candidate):
            yield candidate, f"without {_pointer(path)}"
            if _has(smallest, path):
                smaller = _without(smallest, path)
                if _valid(kind, smaller):
                    smallest = smaller
        if isinstance(value, list) and value:
            emptied = _without(data, path, empty=True)
            if _valid(kind, emptied):
                yield emptied, f"with {_pointer(path)} empty"
    if smallest is not data:
        yield smallest, "with only its required fields"


def _get(data: Any, path: Path) -> Any:
    for step in path:
        data = data[step]
    return data


def _has(data: Any, path: Path) -> bool:
    try:
        _get(data, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True
