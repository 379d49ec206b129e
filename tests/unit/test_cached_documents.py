"""Documents taken from the changed-only cache (review/changed.py): their facts, kind and name
without decoding their data, and the same answers as the documents they were cached from."""

from __future__ import annotations

import datetime as dt
import marshal

import pytest

from spo_gitops.catalog.documents import FACTS, Document
from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.errors import CatalogLoadError
from spo_gitops.review.changed import CachedDocument, Stored, _entries
from tests.conftest import REPO


@pytest.fixture(scope="module")
def reference() -> list[Document]:
    return validate(load_project(REPO), today=dt.date(2026, 12, 1)).documents


def cached(doc: Document) -> CachedDocument:
    entries, raw = _entries([doc])
    # through marshal, as the cache file holds it
    entry = marshal.loads(marshal.dumps(entries[0]))
    return CachedDocument(doc.file, doc.fs_path, 0, entry, Stored(raw, 1))


def test_facts_kind_and_name_come_without_decoding(reference: list[Document]) -> None:
    kinds_seen = set()
    for doc in reference:
        copy = cached(doc)
        assert (copy.kind, copy.name, copy.valid) == (doc.kind, doc.name, doc.valid)
        for section, keys in FACTS.get(doc.kind, {}).items():
            for key in keys:
                assert copy.fact(section, key) == doc.fact(section, key), (doc.ref, key)
        assert copy._data is None, doc.ref  # nothing decoded so far
        if FACTS.get(doc.kind):
            kinds_seen.add(doc.kind)
    # the reference catalog holds every kind that has facts
    assert kinds_seen == set(FACTS)


def test_a_field_that_is_no_fact_and_the_data_decode_to_the_original(
    reference: list[Document],
) -> None:
    for doc in reference:
        copy = cached(doc)
        assert copy.fact("metadata", "version") == doc.fact("metadata", "version")
        assert copy.data == doc.data
        # once decoded, facts are read from the data
        for section, keys in FACTS.get(doc.kind, {}).items():
            for key in keys:
                assert copy.fact(section, key) == doc.fact(section, key)


def test_a_fact_a_document_lacks_is_none(reference: list[Document]) -> None:
    service = next(d for d in reference if d.kind == "ServiceModel" and d.valid)
    data = {**service.data, "spec": {k: v for k, v in service.data["spec"].items()}}
    data["spec"].pop("dependsOn", None)
    doc = Document(service.file, service.fs_path, 0, 1, data, valid=True)
    assert doc.fact("spec", "dependsOn") is None
    assert cached(doc).fact("spec", "dependsOn") is None


def test_an_invalid_document_keeps_kind_and_name_only(reference: list[Document]) -> None:
    doc = Document("x.yaml", "x.yaml", 0, 3, {"kind": "Party", "metadata": {"name": "p"}, "x": 1})
    copy = cached(doc)
    assert not copy.valid
    assert copy.data == {"kind": "Party", "metadata": {"name": "p"}}
    assert copy.fact("spec", "type") is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",  # cut short
        b"\x00garbage",
        marshal.dumps([{"a": 1}, {"b": 2}]),  # two documents' data for one entry
        marshal.dumps(["not a mapping"]),
        marshal.dumps({"a": 1}),
    ],
)
def test_data_that_does_not_match_its_entries_is_refused_with_a_hint(raw: bytes) -> None:
    with pytest.raises(CatalogLoadError) as caught:
        Stored(raw, 1).data(0)
    assert caught.value.hint is not None and ".spo/index.bin" in caught.value.hint
