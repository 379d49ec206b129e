"""The state backends under test, and real child processes that use them.

Every backend runs the one shared suite in tests/unit/test_state_sqlite.py: adding a backend is
one line in BACKENDS (a factory from a fresh folder to an empty state). The PostgreSQL factory
stands for the folder by a schema of its own on the test run's server (tests/postgres.py).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from spo_gitops.state.base import StateBackend
from spo_gitops.state.postgres import PostgresState
from spo_gitops.state.sqlite import SqliteState
from tests.postgres import state_dsn

REPO = Path(__file__).resolve().parent.parent

BACKENDS: dict[str, Callable[[Path], StateBackend]] = {
    "sqlite": lambda where: SqliteState(where / ".spo" / "state.db"),
    "postgres": lambda where: PostgresState(state_dsn(where)),
}
NEEDS_SERVER = {"postgres"}  # backends whose tests request the postgres_server fixture

_PRELUDE = """
import sys
from pathlib import Path
from spo_gitops.state.base import ResourceState
from tests.state_suite import BACKENDS
state = BACKENDS[sys.argv[1]](Path(sys.argv[2]))
"""


def spawn(backend: str, where: Path, body: str) -> subprocess.Popen[str]:
    """A child process running ``body`` with ``state`` opened on the same state as the test."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", _PRELUDE + body, backend, str(where)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )


def read_line(proc: subprocess.Popen[str], timeout: float = 15.0) -> str:
    """The child's next line of output; fails the test if none comes in time."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"child {proc.pid} printed nothing within {timeout} s"
    line = proc.stdout.readline()
    assert line, f"child {proc.pid} exited with {proc.wait(timeout)} before answering"
    return line.strip()
