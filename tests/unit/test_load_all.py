"""Loading a catalog in worker processes: the same documents, in the same order, with the same
findings as one process (the parent loads a share of the files itself), and when a worker fails."""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.catalog import validate
from spo_gitops.catalog.documents import Document
from spo_gitops.catalog.loader import Limits
from spo_gitops.catalog.validate import load_all
from spo_gitops.diagnostics import Diagnostic
from tests.conftest import REPO

FILES = sorted(p for f in ("catalog", "examples") for p in (REPO / f).rglob("*.yaml"))


def test_loading_in_worker_processes_gives_what_one_process_gives() -> None:
    # the parent loads every third file itself, two forked workers the rest; order and content
    # as loaded by one process
    items = [(str(p), p.relative_to(REPO).as_posix()) for p in FILES] * 3
    broken = sorted((REPO / "tests" / "fixtures" / "broken").glob("*.yaml"))
    items += [(str(p), p.relative_to(REPO).as_posix()) for p in broken]
    one = load_all(items, Limits(), 1)
    three = load_all(items, Limits(), 3)
    shape = [[(d.file, d.index, d.line, d.valid, d.data) for d in docs] for docs, _ in (one, three)]
    assert shape[0] == shape[1]
    assert one[1] == three[1]
    assert len(shape[0]) > 400 and one[1]


def _items() -> list[tuple[str, str]]:
    return [(str(p), p.relative_to(REPO).as_posix()) for p in FILES]


def _shape(loaded: tuple[list[Document], list[Diagnostic]]) -> object:
    docs, found = loaded
    return [(d.file, d.index, d.line, d.valid, d.data) for d in docs], found


def test_a_worker_that_dies_costs_time_not_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    items = _items()
    one = load_all(items, Limits(), 1)
    parent = os.getpid()
    real = validate._load_one

    def dying(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            os._exit(3)  # a worker killed half-way (out of memory, say)
        return real(*args, **kwargs)

    monkeypatch.setattr(validate, "_load_one", dying)
    assert _shape(load_all(items, Limits(), 3)) == _shape(one)


def test_a_worker_that_sends_garbage_is_not_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    items = _items()
    one = load_all(items, Limits(), 1)
    parent = os.getpid()
    real = pickle.dumps

    def truncated(*args: Any, **kwargs: Any) -> bytes:
        data = real(*args, **kwargs)
        return data[: len(data) // 2] if os.getpid() != parent else data

    monkeypatch.setattr(pickle, "dumps", truncated)
    assert _shape(load_all(items, Limits(), 2)) == _shape(one)


def test_an_interrupted_load_leaves_no_worker_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    real = validate._load_one

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() == parent:
            raise KeyboardInterrupt
        time.sleep(0.5)  # the workers are slow: the parent takes a chunk of its own, whatever
        return real(*args, **kwargs)  # the machine's load (it is killed meanwhile)

    monkeypatch.setattr(validate, "_load_one", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_all(_items() * 3, Limits(), 3)
    with pytest.raises(ChildProcessError):  # every worker was reaped
        os.waitpid(-1, os.WNOHANG)


class Tagged(str):
    """Data that pickle takes and marshal does not."""


def test_documents_whose_data_marshal_refuses_come_back_pickled() -> None:
    # a share is sent through marshal when its data is plain, else pickled: both read back the
    # same documents and findings
    items = _items()[:20]
    loaded = validate._load_files(items, range(len(items)), Limits(), None)

    assert validate._packed(loaded)[:1] == b"M"
    odd = [(docs, found, digest) for docs, found, digest in loaded]
    odd[0][0][0].data["metadata"]["name"] = Tagged(odd[0][0][0].data["metadata"]["name"])
    packed = validate._packed(odd)
    assert packed[:1] == b"P"
    for payload in (validate._packed(loaded), packed):
        back = validate._unpacked(payload)
        assert [[d.row() for d in docs] for docs, _, _ in back] == [
            [d.row() for d in docs] for docs, _, _ in loaded
        ]
        assert [f for _, f, _ in back] == [f for _, f, _ in loaded]
        # the SHA-256 of each file's bytes, as read
        assert [d for _, _, d in back] == [
            hashlib.sha256(Path(fs_path).read_bytes()).digest() for fs_path, _ in items
        ]
    with pytest.raises(ValueError):
        validate._unpacked(b"X" + packed[1:])


def test_a_worker_that_sends_the_wrong_files_is_not_believed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = _items()
    one = load_all(items, Limits(), 1)
    parent = os.getpid()
    real = validate._packed

    def short(loaded: Any) -> bytes:  # a chunk with one file left out
        return real(loaded[:-1] if os.getpid() != parent else loaded)

    monkeypatch.setattr(validate, "_packed", short)
    assert _shape(load_all(items, Limits(), 2)) == _shape(one)


def test_progress_counts_up_to_every_file_with_more_workers_than_chunks() -> None:
    items = _items()[:70]  # two chunks, four processes
    seen: list[tuple[int, int]] = []
    loaded = load_all(items, Limits(), 4, progress=lambda n, total: seen.append((n, total)))
    assert _shape(loaded) == _shape(load_all(items, Limits(), 1))
    assert seen[-1] == (70, 70)
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)
    assert {total for _, total in seen} == {70}
