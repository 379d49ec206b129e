"""A real Prometheus for the tests, on 127.0.0.1, with data backfilled by promtool.

Debian's ``prometheus`` package brings both ``prometheus`` and ``promtool``. Tests that need them
are skipped when they are missing, and fail instead with SPO_REQUIRE_PROMETHEUS=1 (.ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

READY_TIMEOUT = 90.0  # seconds (a loaded CI machine is slow to start it)


def require_tools() -> tuple[str, str]:
    """The paths of prometheus and promtool, or skip (fail under SPO_REQUIRE_PROMETHEUS=1)."""
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus and promtool:
        return prometheus, promtool
    reason = "prometheus/promtool not installed (Debian: apt-get install prometheus)"
    if os.environ.get("SPO_REQUIRE_PROMETHEUS") == "1":
        pytest.fail(f"SPO_REQUIRE_PROMETHEUS=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(openmetrics: str, work: Path) -> Iterator[str]:
    """Backfill ``openmetrics`` (OpenMetrics text ending in ``# EOF``) into a fresh TSDB with
    ``promtool tsdb create-blocks-from openmetrics`` and serve it; yields the base URL."""
    prometheus, promtool = require_tools()
    backfill = [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=8760h"]
    data = work / "tsdb"
    data.mkdir(parents=True)
    source = work / "series.om"
    source.write_text(openmetrics)
    # one block for the whole range: the default 2-hour blocks make thousands of them
    subprocess.run(
        [*backfill, str(source), str(data)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    config = work / "prometheus.yml"
    config.write_text("global: {}\n")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(work / "prometheus.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "prometheus did not become ready: " + (work / "prometheus.log").read_text()
                )
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
