"""Many reconcilers at once against one PostgreSQL state and a PostgreSQL cmdb, as real `spo`
processes: partitions in parallel, one partition serialised, the lock held in the database."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from spo_gitops.state.postgres import PostgresState
from tests.acceptance.test_partitions import write_catalog
from tests.postgres import PASSWORD, Server, fresh_schema
from tests.state_suite import REPO

pytestmark = pytest.mark.usefixtures("postgres_server")
RUNNERS = 4


@pytest.fixture
def dsns(postgres_server: Server, tmp_path: Path) -> dict[str, str]:
    """Environment with the state and cmdb DSNs (each in a fresh schema)."""
    state = postgres_server.url(fresh_schema(postgres_server.dsn, tmp_path / "state"))
    cmdb = postgres_server.url(fresh_schema(postgres_server.dsn, tmp_path / "cmdb"))
    return {"TEST_STATE_DSN": state, "TEST_CMDB_DSN": cmdb}


CONFIG = (
    "state: {backend: postgres, dsnEnv: TEST_STATE_DSN}\n"
    "providers:\n  cmdb: {dsnEnv: TEST_CMDB_DSN}\n"
)


def _start(root: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "spo_gitops.cli.main", *args],
        cwd=root,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        out.append((proc.returncode, stdout + stderr))
    return out


def _cmdb(dsns: dict[str, str]) -> list[tuple[str, str, str]]:
    with psycopg.connect(dsns["TEST_CMDB_DSN"]) as conn:
        return [
            (r[0], r[1], r[2])
            for r in conn.execute("SELECT type, name, id FROM ci ORDER BY type, name")
        ]


def _check_converged(dsns: dict[str, str], expected: int, *, serial: bool) -> None:
    rows = _cmdb(dsns)
    assert len(rows) == expected and len({(t, n) for t, n, _ in rows}) == expected
    state = PostgresState(dsns["TEST_STATE_DSN"])
    try:
        snap = state.snapshot()
        history = state.history(limit=100)
    finally:
        state.close()
    ids = {f"cmdb.{t}.{n}": i for t, n, i in rows}
    assert {a: r.id for a, r in snap.resources.items()} == ids  # exactly one object per address
    assert snap.serial == expected  # every write counted once: no lost update
    assert all(h.outcome == "succeeded" for h in history)
    if serial:  # one scope: the applies ran one after the other, each from where the last ended
        spans = sorted((h.serial_before, h.serial_after or 0) for h in history)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), spans


def test_four_runners_on_four_partitions_converge(tmp_path: Path, dsns: dict[str, str]) -> None:
    root = tmp_path / "project"
    root.mkdir()
    write_catalog(root, 100, extra=CONFIG)
    args = ("reconcile", "--auto-approve", "--allow-unapproved", "--lock-timeout", "60")
    procs = [_start(root, dsns, *args, "--partition", f"shard:{i}/{RUNNERS}") for i in range(4)]
    results = _finish(procs)
    assert [code for code, _ in results] == [0] * RUNNERS, [out[-3000:] for _, out in results]
    _check_converged(dsns, 200, serial=False)
    plan = _start(root, dsns, "plan", "--detailed-exitcode")
    assert _finish([plan])[0][0] == 0  # nothing left to do


def test_four_runners_on_one_partition_serialise_without_loss(
    tmp_path: Path, dsns: dict[str, str]
) -> None:
    roots = []
    for k in range(RUNNERS):  # four catalogs with their own services, one shared state
        root = tmp_path / f"team-{k}"
        root.mkdir()
        write_catalog(root, 15, prefix=f"t{k}", extra=CONFIG)
        roots.append(root)
    args = ("reconcile", "--auto-approve", "--allow-unapproved", "--lock-timeout", "60")
    results = _finish([_start(root, dsns, *args) for root in roots])
    assert [code for code, _ in results] == [0] * RUNNERS, results
    _check_converged(dsns, RUNNERS * 30, serial=True)


def test_a_runner_without_lock_timeout_fails_with_the_holders_details(
    tmp_path: Path, dsns: dict[str, str]
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    write_catalog(root, 3, extra=CONFIG)
    holder = PostgresState(dsns["TEST_STATE_DSN"])
    lock = holder.lock("reconcile", reason="a long one", scope="shard:1/2")
    try:
        args = ("reconcile", "--auto-approve", "--allow-unapproved")
        blocked = _finish([_start(root, dsns, *args, "--partition", "shard:1/2")])[0]
        assert blocked[0] == 1
        assert "state is locked" in blocked[1] and f"(pid {os.getpid()})" in blocked[1]
        assert "a long one" in blocked[1] and "partition shard:1/2" in blocked[1]
        assert PASSWORD not in blocked[1]
        other = _finish([_start(root, dsns, *args, "--partition", "shard:0/2")])[0]
        assert other[0] == 0, other[1]  # another partition goes ahead meanwhile
    finally:
        holder.release(lock)
        holder.close()
