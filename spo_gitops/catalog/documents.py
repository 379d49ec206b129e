"""Documents found under the catalog paths: discovery, envelope and schema checks, typed models."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml
from pydantic import ValidationError

from spo_gitops import API_VERSION
from spo_gitops.catalog import schema
from spo_gitops.catalog.loader import (
    Limits,
    ParsedFile,
    compose_documents,
    locate,
    parse_text,
    read_file,
)
from spo_gitops.diagnostics import Diagnostic, pointer_join
from spo_gitops.models import KIND_MODELS, Model

EntityKey = tuple[str, str]  # (kind, name): how an entity is named across the catalog

# The facts of a kind: the fields that catalog-wide work reads of every document of that kind,
# through :meth:`Document.fact` (the index's lookups: stages, entries, agreements, SPIs,
# dependents, members, party types; the cycle check; supplier concentration; pool allocations,
# usage and budgets; the risks reviewed; who owns a service). Changed-only validation keeps them
# beside each cached document, so that the catalog's other documents are decoded only when a
# check reads more of them. A field read through ``fact`` that is not listed here is still
# right, only slower.
FACTS: dict[str, dict[str, tuple[str, ...]]] = {
    "ServiceModel": {
        "metadata": ("owner",),
        "spec": ("dependsOn", "tier", "suppliers", "resources"),
    },
    "PortfolioEntry": {"spec": ("service", "stage")},
    "ServiceLevelAgreement": {"spec": ("service",)},
    "ServiceProviderInterface": {"spec": ("services",)},
    "Party": {"spec": ("type", "members")},
    "ResourcePool": {"spec": ("type", "unit", "capacity", "thresholds")},
    "Risk": {"spec": ("status", "reviews", "services")},
}


def facts_of(kind: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The :data:`FACTS` of a document: {section: {field: value}} for the fields it has."""
    out: dict[str, dict[str, Any]] = {}
    for section, keys in FACTS.get(kind, {}).items():
        part = data.get(section)
        if isinstance(part, dict):
            out[section] = {k: part[k] for k in keys if k in part}
    return out


# file, fs_path, index, line, data, valid, locate: what crosses a process boundary
DocumentRow = tuple[str, str, int, int, dict[str, Any], bool, bool]


@dataclass
class Document:
    """One YAML document of the catalog, with what is needed to point back into its source."""

    file: str  # as shown in findings
    fs_path: str
    index: int
    line: int
    data: dict[str, Any]
    node: yaml.Node | None = field(default=None, repr=False, compare=False)
    valid: bool = False  # passed envelope and schema checks: ``model`` is available
    _model: Model | None = field(default=None, repr=False, compare=False)
    # False for a document whose findings nobody reads (changed-only validation, an untouched
    # file taken from the cache): its findings then point at its first line, without re-parsing
    # the file for the place.
    locate: bool = field(default=True, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        # Nodes stay in the process that parsed them, and models are rebuilt on demand:
        # plain data crosses process boundaries several times faster than pydantic objects.
        state = dict(self.__dict__)
        state["node"] = None
        state["_model"] = None
        return state

    def row(self) -> DocumentRow:
        """The document as plain data (marshal-able when its data is), for :meth:`from_row`."""
        return (self.file, self.fs_path, self.index, self.line, self.data, self.valid, self.locate)

    @classmethod
    def from_row(cls, row: DocumentRow) -> Document:
        file, fs_path, index, line, data, valid, locate = row
        return cls(file, fs_path, index, line, data, valid=valid, locate=locate)

    @property
    def model(self) -> Model | None:
        """The typed model of a valid document (built on first use), else None."""
        if self._model is None and self.valid:
            self._model = KIND_MODELS[self.kind].model_validate(self.data)
        return self._model

    def fact(self, section: str, key: str) -> Any:
        """``data[section][key]``, None where there is none: how catalog-wide work reads a field
        of every document of a kind (:data:`FACTS`)."""
        part = self.data.get(section)
        return part.get(key) if isinstance(part, dict) else None

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        meta = self.data.get("metadata")
        return str(meta.get("name", "")) if isinstance(meta, dict) else ""

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.name}"

    def position(self, parts: Iterable[str | int] = (), *, key: bool = False) -> tuple[int, int]:
        node = self.node
        if node is None and not self.locate:
            return (self.line, 1)
        if node is None:
            nodes = _reparse(self.fs_path)
            node = nodes[self.index] if self.index < len(nodes) else None
        return locate(node, [str(p) for p in parts], key=key) or (self.line, 1)

    def diag(
        self,
        code: str,
        message: str,
        parts: Iterable[str | int] = (),
        *,
        severity: str = "error",
        hint: str | None = None,
        key: bool = False,
    ) -> Diagnostic:
        parts = list(parts)
        line, col = self.position(parts, key=key)
        return Diagnostic(
            severity,  # type: ignore[arg-type]
            code,
            message,
            self.file,
            line,
            col,
            entity=self.ref if self.name else None,
            pointer=pointer_join(parts),
            hint=hint,
        )


@lru_cache(maxsize=256)
def _reparse(fs_path: str) -> list[yaml.Node | None]:
    try:
        with open(fs_path, encoding="utf-8-sig") as fh:
            return compose_documents(fh.read())
    except (OSError, UnicodeDecodeError):
        return []


_FRIENDLY_PATTERNS = {
    "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$": (
        "is not a valid name",
        "names are lowercase DNS labels: a-z, 0-9 and '-', not starting or ending with '-'",
    ),
}


def _schema_diagnostic(doc: Document, err: schema.SchemaError) -> Diagnostic:
    code, message, hint = "SPO204", err.message, None
    if err.path == ("metadata", "version") and (
        "does not match" in message or "is not of type" in message
    ):
        code = "SPO406"
        message = f"version {doc.data['metadata'].get('version')!r} is not a semantic version"
        hint = "use MAJOR.MINOR.PATCH, e.g. 1.4.0 (YAML reads an unquoted 1.0 as a number)"
    elif 'is not a "date"' in message:
        code = "SPO407"
        hint = "write dates as YYYY-MM-DD, a real calendar day"
    else:
        for pattern, (text, pattern_hint) in _FRIENDLY_PATTERNS.items():
            if message.endswith(f'does not match "{pattern}"'):
                message = message.split(" does not match")[0] + " " + text
                hint = pattern_hint
    where = pointer_join(err.path) or "/"
    return doc.diag(code, f"{where}: {message}", err.path, key=err.at_key, hint=hint)


def check_envelope(doc: Document) -> Diagnostic | None:
    data = doc.data
    missing = [k for k in ("apiVersion", "kind") if k not in data]
    if missing:
        return doc.diag(
            "SPO201",
            f"document has no {' or '.join(missing)}",
            hint=f"start every document with 'apiVersion: {API_VERSION}' and 'kind: <Kind>'",
        )
    if data["apiVersion"] != API_VERSION:
        return doc.diag(
            "SPO202",
            f"unknown apiVersion {data['apiVersion']!r}",
            ["apiVersion"],
            hint=f"supported: {API_VERSION}",
        )
    kind = data["kind"]
    if kind not in KIND_MODELS:
        close = difflib.get_close_matches(str(kind), list(KIND_MODELS), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return doc.diag(
            "SPO203",
            f"unknown kind {kind!r}",
            ["kind"],
            hint=hint + "kinds: " + ", ".join(schema.known_kinds()),
        )
    return None


def check_document(doc: Document) -> list[Diagnostic]:
    """Envelope, schema and typed model of one document; marks it valid when all pass."""
    envelope = check_envelope(doc)
    if envelope is not None:
        return [envelope]
    found = [_schema_diagnostic(doc, e) for e in schema.check(doc.kind, doc.data)]
    if found:
        return found
    try:
        doc._model = KIND_MODELS[doc.kind].model_validate(doc.data)
        doc.valid = True
    except ValidationError as e:  # the schema and the model disagree: still the user's input
        for err in e.errors():
            parts = [str(p) for p in err["loc"]]
            found.append(doc.diag("SPO204", f"{pointer_join(parts)}: {err['msg']}", parts))
    return found


def load_file(
    fs_path: str, display: str, limits: Limits
) -> tuple[list[Document], list[Diagnostic]]:
    """Read and parse one file, and check each of its documents on its own (a file in the plain
    subset without a node graph: positions are recovered from ``fs_path`` when asked for)."""
    docs, diagnostics, _digest = load_file_digest(fs_path, display, limits)
    return docs, diagnostics


def load_file_digest(
    fs_path: str, display: str, limits: Limits
) -> tuple[list[Document], list[Diagnostic], bytes | None]:
    """:func:`load_file`, and the SHA-256 of the bytes it parsed (None: not read whole)."""
    parsed, _text = read_file(fs_path, display, limits, plain=True)
    docs, diagnostics = documents_of(parsed, fs_path)
    return docs, diagnostics, parsed.digest


def load_text(
    text: str, display: str, limits: Limits, fs_path: str | None = None
) -> tuple[list[Document], list[Diagnostic]]:
    """Documents from already-decoded text (a file read from a git revision, say): the one way
    text becomes documents, with the same checks as :func:`load_file`."""
    return documents_of(parse_text(text, display, limits), fs_path or display)


def documents_of(parsed: ParsedFile, fs_path: str) -> tuple[list[Document], list[Diagnostic]]:
    diagnostics = list(parsed.diagnostics)
    docs = []
    for raw in parsed.documents:
        if raw.broken or not isinstance(raw.data, dict):
            continue
        doc = Document(parsed.path, fs_path, raw.index, raw.line, raw.data, raw.node)
        diagnostics.extend(check_document(doc))
        docs.append(doc)
    return docs, diagnostics
