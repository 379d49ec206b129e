"""Progress on a terminal: `spo plan` and `spo reconcile` show what they are doing on stderr once
the command has run for over a second (validating the catalog, planning, applying), and nothing
when stderr is not a terminal, with -q, or for a command that ends sooner. Run in a real
pseudo-terminal; every read is bounded in time."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from spo_gitops.testing.catalogs import write_provisioned_catalog
from tests.conftest import REPO

DEADLINE = 240  # seconds a command may take here
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run spo with stderr on a pseudo-terminal: exit code, stdout, what the terminal showed
    (escape sequences removed)."""
    main, secondary = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120", "TERM": "xterm"}
    # a file, not a pipe: a long plan fills a pipe that is not read meanwhile
    stdout = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "spo_gitops.cli.main", *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=secondary,
    )
    os.close(secondary)
    shown = bytearray()
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the terminal closed: the process has exited
                    break
                if not chunk:
                    break
                shown += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        stdout.seek(0)
        out = stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
        stdout.close()
    return code, out.decode(), ANSI.sub(b"", bytes(shown)).decode(errors="replace")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog whose validation alone takes well over a second: 10,000 services, each with an
    SLA (5,000 of each took 0.9 s on the 2-core development machine, too close to the second
    for the progress to show every time)."""
    root = tmp_path_factory.mktemp("big")
    write_provisioned_catalog(root, 10000)
    return root


def test_a_long_plan_shows_its_progress_on_a_terminal(big: Path) -> None:
    code, out, shown = in_terminal(["plan"], big)
    assert code == 0, shown[-2000:]
    assert "to create" in out  # the plan itself is on stdout, not on the terminal's stderr
    assert "validating" in shown  # the catalog's files being loaded (a second in, still going)
    assert "validating" not in out and "planning" not in out


def test_no_progress_with_quiet_off_a_terminal_or_for_a_short_step(
    big: Path, tmp_path: Path
) -> None:
    code, _, shown = in_terminal(["-q", "plan"], big)
    assert code == 0
    assert "validating" not in shown and "planning" not in shown
    done = subprocess.run(
        [sys.executable, "-m", "spo_gitops.cli.main", "plan"],
        cwd=big,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 0
    assert "validating" not in done.stderr and "planning" not in done.stderr
    small = tmp_path / "small"
    small.mkdir()
    write_provisioned_catalog(small, 3)
    code, _, shown = in_terminal(["plan"], small)
    assert code == 0, shown[-2000:]
    assert "validating" not in shown and "planning" not in shown  # done within the second
