"""Loading a catalog in worker processes: the same documents, in the same order, with the same
findings as one process (the parent loads a share of the chunks itself)."""

from __future__ import annotations

from spo_gitops.catalog.loader import Limits
from spo_gitops.catalog.validate import load_all
from tests.conftest import REPO

FILES = sorted(p for f in ("catalog", "examples") for p in (REPO / f).rglob("*.yaml"))


def test_loading_in_worker_processes_gives_what_one_process_gives() -> None:
    # the parent loads every third chunk itself, two workers the rest; order and content as
    # loaded by one process
    items = [(str(p), p.relative_to(REPO).as_posix()) for p in FILES] * 3
    broken = sorted((REPO / "tests" / "fixtures" / "broken").glob("*.yaml"))
    items += [(str(p), p.relative_to(REPO).as_posix()) for p in broken]
    one = load_all(items, Limits(), 1)
    three = load_all(items, Limits(), 3)
    shape = [[(d.file, d.index, d.line, d.valid, d.data) for d in docs] for docs, _ in (one, three)]
    assert shape[0] == shape[1]
    assert one[1] == three[1]
    assert len(shape[0]) > 400 and one[1]
