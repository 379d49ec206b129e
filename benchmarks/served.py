"""What the benchmarks against a server in its own process share: starting it, reading its
counters and printing the settings side by side.

The server prints its URL on its first line and stops when its standard input closes
(``tests/restserver.py``, the moto middleware of ``aws_apply.py``); ``GET /_stats`` answers
its own count of calls and refusals.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def server(argv: Sequence[str], cwd: Path | None = None, *, quiet: bool = False) -> Iterator[str]:
    """The URL of the server started by ``argv``; it is stopped on leaving. ``quiet``: its
    standard error is dropped (moto logs every request there)."""
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def stats(url: str, query: str = "") -> dict[str, float]:
    """The server's counters (``query``: e.g. ``?since=`` a time, where the server takes it)."""
    with urllib.request.urlopen(f"{url}/_stats{query}", timeout=10) as resp:
        data: dict[str, float] = json.load(resp)
    return data


def print_runs(
    runs: Mapping[str, Mapping[str, float]], goals: Mapping[str, float] | None = None
) -> None:
    """One row per figure, one column per setting, and the goal when there is one."""
    names = list(next(iter(runs.values())))
    width = max(len(n) for n in names) + 2
    goal_head = f"{'goal':>10}" if goals is not None else ""
    print(f"{'':<{width}}" + "".join(f"{name:>28}" for name in runs) + goal_head)
    for key in names:
        cells = "".join(f"{r[key]:>28.3f}" for r in runs.values())
        goal = (goals or {}).get(key)
        tail = "" if goals is None else f"{'' if goal is None else f'≤ {goal:g}':>10}"
        print(f"{key:<{width}}{cells}{tail}")
