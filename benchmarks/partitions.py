"""Partitioned reconcile on PostgreSQL: N resources (default 10,000) reconciled from an empty state
by one `spo reconcile` vs by 4 at once, each on its shard (`--partition shard:i/4`), against one
PostgreSQL state and a PostgreSQL cmdb. Each run starts from fresh schemas; wall time is from the
start of the first process to the end of the last (catalog validation and compile included).

Without --dsn, a throwaway server is started as the tests do (tests/postgres.py: initdb + pg_ctl
on 127.0.0.1, fsync off). Run from the repository root:
    python benchmarks/partitions.py [-n 10000] [--runners 4] [--repeat 1] [--dsn DSN]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from reconcile import write_catalog  # noqa: E402  (benchmarks/reconcile.py)

SPO = [sys.executable, "-m", "spo_gitops.cli.main"]
CONFIG = (
    "state: {backend: postgres, dsnEnv: BENCH_STATE_DSN}\n"
    "providers:\n  cmdb: {dsnEnv: BENCH_CMDB_DSN}\n"
)


def _schema_url(dsn: str) -> str:
    """A fresh schema on the server; returns a DSN whose tables go there."""
    name = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{name}"


def run(root: Path, dsn: str, runners: int) -> tuple[float, int]:
    env = {
        **os.environ,
        "BENCH_STATE_DSN": _schema_url(dsn),
        "BENCH_CMDB_DSN": _schema_url(dsn),
        "PYTHONPATH": str(ROOT),
    }
    base = [*SPO, "reconcile", "--auto-approve", "--allow-unapproved", "--lock-timeout", "900"]
    commands = (
        [base]
        if runners == 1
        else [[*base, "--partition", f"shard:{i}/{runners}"] for i in range(runners)]
    )
    start = time.perf_counter()
    procs = [
        subprocess.Popen(c, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for c in commands
    ]
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"spo reconcile failed ({proc.returncode}):\n{out[-2000:]!r}\n{err[-2000:]!r}")
    elapsed = time.perf_counter() - start
    with psycopg.connect(env["BENCH_CMDB_DSN"]) as conn:
        row = conn.execute("SELECT count(*) FROM ci").fetchone()
    return elapsed, int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--resources", type=int, default=10_000)
    parser.add_argument("--runners", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--dsn", help="postgresql:// URL of an existing server (default: start a throwaway one)"
    )
    args = parser.parse_args()
    server = None
    dsn = args.dsn
    if dsn is None:
        from tests.postgres import start_server

        server = start_server()
        dsn = server.url()
    try:
        with tempfile.TemporaryDirectory(prefix="spo-partitions-") as tmp:
            root = Path(tmp)
            write_catalog(root, args.resources)
            with (root / "spo.yaml").open("a") as f:
                f.write(CONFIG)
            rows = []
            for runners in (1, args.runners):
                times = []
                for _ in range(args.repeat):
                    elapsed, objects = run(root, dsn, runners)
                    if objects != args.resources:
                        sys.exit(f"expected {args.resources} cmdb objects, found {objects}")
                    times.append(elapsed)
                rows.append((runners, min(times)))
    finally:
        if server is not None:
            server.stop()
    single = rows[0][1]
    print(f"{'runners':>7}  {'resources':>9}  {'wall (best) s':>13}  {'resources/s':>11}  speed-up")
    for runners, best in rows:
        print(
            f"{runners:>7}  {args.resources:>9,}  {best:>13.2f}  {args.resources / best:>11,.0f}  "
            f"{single / best:.2f}x"
        )


if __name__ == "__main__":
    main()
