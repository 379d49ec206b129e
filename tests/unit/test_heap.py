"""What the catalog heap policy keeps alive (spo_gitops/catalog/heap.py): a short-lived process
keeps what it validated until it exits, a bounded number of results; a long-lived one keeps
nothing."""

from __future__ import annotations

import gc
import weakref

import pytest

from spo_gitops.catalog import heap


class Result:
    pass


def test_a_long_lived_process_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_short_lived", False)
    monkeypatch.setattr(heap, "_kept", [])
    result = Result()
    alive = weakref.ref(heap.keep(result))
    del result
    gc.collect()
    assert alive() is None


def test_a_short_lived_process_keeps_a_few_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_short_lived", True)
    monkeypatch.setattr(heap, "_kept", [])
    refs = [weakref.ref(heap.keep(Result())) for _ in range(20)]
    gc.collect()
    alive = [r() is not None for r in refs]
    assert alive[-1]  # the last result outlives its command
    assert 1 <= sum(alive) <= 8  # a process that runs command after command does not grow
