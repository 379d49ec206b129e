"""Garbage collection around bulk loading: one policy for every place that builds the catalog.

Loading a catalog builds about a million small acyclic objects (dicts, lists, strings). Python's
cyclic garbage collector would rescan the growing heap again and again while they are built (a
third of the load time) and can find nothing to free; once they are built, every full collection
walks them all again (~0.3 s for 10,000 documents). So collection is paused while a catalog is
built, and a command-line process — which validates, plans or applies once and exits — also
freezes what it built (``gc.freeze``), keeping it out of every later collection. A long-lived
process (a test run, a server embedding the library) does not freeze: frozen objects that later
become cyclic garbage would never be freed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_KEPT_AT_MOST = 8  # results kept by a process that runs main() again and again (tests)
_short_lived = False
_kept: list[object] = []


def short_lived() -> None:
    """Say that this process exits after one command (the ``spo`` entry point does)."""
    global _short_lived
    _short_lived = True


@contextmanager
def bulk() -> Iterator[None]:
    """Pause collection while the block builds data; nested blocks are one pause."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if _short_lived:
                gc.freeze()
            gc.enable()


def keep(result: T) -> T:
    """``result`` (a validated catalog, say), kept alive until a short-lived process exits: the
    ``spo`` executable leaves with ``os._exit``, and freeing the catalog object by object when
    the command drops it costs ~0.06 s for 10,000 documents. A long-lived process keeps
    nothing."""
    if _short_lived:
        if len(_kept) >= _KEPT_AT_MOST:
            _kept.clear()
        _kept.append(result)
    return result
