"""Partitioned reconcile on PostgreSQL: N resources (default 10,000) reconciled from an empty state
by one `spo reconcile` vs by R at once (default 2), each on its shard (`--partition shard:i/R`),
against one PostgreSQL state and a PostgreSQL cmdb. Each run starts from fresh schemas and
without the validation record (.spo/validated.bin): the runners validate the catalog between
them, as they would on a new commit. Wall time is from the start of the first process to the end
of the last, validation and compile included. The configurations alternate run by run
(1, R, 1, R, ...), so that each ratio compares runs made under the same load.

Beside the wall time: the CPU time of the runners, of the throwaway PostgreSQL server (its
processes, read from /proc; not shown with --dsn) and of the whole machine (anything else
running on it included), so that a run slowed by other work shows as such.

Every run is checked: exactly one cmdb object per address, the same objects (type, name,
properties) as the first single-runner run, and a state whose serial counts one write per
resource.

Without --dsn, a throwaway server is started as the tests do (tests/postgres.py: initdb + pg_ctl
on 127.0.0.1, fsync off). Run from the repository root:
    python benchmarks/partitions.py [-n 10000] [--runners 2] [--repeat 1] [--dsn DSN]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from installed import as_installed  # noqa: E402
from reconcile import write_catalog  # noqa: E402  (benchmarks/reconcile.py)

SPO = [sys.executable, "-m", "spo_gitops.cli.main"]
CONFIG = (
    "state: {backend: postgres, dsnEnv: BENCH_STATE_DSN}\n"
    "providers:\n  cmdb: {dsnEnv: BENCH_CMDB_DSN}\n"
    # the generated portfolio entries carry no approval trail; this measures provisioning
    "lifecycle: {approvalRequired: []}\n"
)
Objects = set[tuple[str, str, str]]


def _schema_url(dsn: str) -> str:
    """A fresh schema on the server; returns a DSN whose tables go there."""
    name = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{name}"


def _machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (all cores; /proc/stat): the runners, the
    PostgreSQL server and anything else running."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _server_cpu(data: Path | None) -> float | None:
    """CPU seconds of the throwaway server started here: the postmaster, the backends it has
    reaped (their time is added to its children's) and those still running; None for a server
    given with --dsn."""
    if data is None:
        return None
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it exited meanwhile
            continue
        if int(entry.name) == postmaster:
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        elif int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _runner_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# runners -> (runner CPU s, machine CPU s, server CPU s or None) per run
CPU: dict[int, list[tuple[float, float, float | None]]] = {}


def run(root: Path, dsn: str, runners: int, data: Path | None) -> tuple[float, Objects, int, int]:
    """One reconcile from empty: wall time, the cmdb's objects, the state's serial and size."""
    (root / ".spo" / "validated.bin").unlink(missing_ok=True)
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
    # each runner writes to files of its own, as a CI job writes its log: a pipe that is not
    # read while another runner is waited for fills up and stops its writer (a plan of 5,000
    # actions is more than a pipe holds), which would run the runners one after the other
    with contextlib.ExitStack() as files:
        logs = [
            (
                files.enter_context(tempfile.TemporaryFile()),
                files.enter_context(tempfile.TemporaryFile()),
            )
            for _ in commands
        ]
        server_cpu = _server_cpu(data)
        start, runner_cpu, machine_cpu = time.perf_counter(), _runner_cpu(), _machine_cpu()
        procs = [
            subprocess.Popen(c, cwd=root, env=env, stdout=out, stderr=err)
            for c, (out, err) in zip(commands, logs, strict=True)
        ]
        codes = [proc.wait() for proc in procs]
        elapsed = time.perf_counter() - start
        for code, (out, err) in zip(codes, logs, strict=True):
            if code != 0:
                out.seek(0)
                err.seek(0)
                tails = out.read()[-2000:], err.read()[-2000:]
                sys.exit(f"spo reconcile failed ({code}):\n{tails[0]!r}\n{tails[1]!r}")
        machine_cpu = _machine_cpu() - machine_cpu
        time.sleep(0.2)  # the backends of the runners' connections exit after them
        after = _server_cpu(data)
    server = None if after is None or server_cpu is None else after - server_cpu
    CPU.setdefault(runners, []).append((_runner_cpu() - runner_cpu, machine_cpu, server))
    with psycopg.connect(env["BENCH_CMDB_DSN"]) as conn:
        rows = conn.execute("SELECT type, name, properties FROM ci").fetchall()
    with psycopg.connect(env["BENCH_STATE_DSN"]) as conn:
        serial = conn.execute("SELECT serial FROM meta").fetchone()
        count = conn.execute("SELECT count(*) FROM resources").fetchone()
    objects = {(str(t), str(n), str(p)) for t, n, p in rows}
    if len(objects) != len(rows):
        sys.exit("two cmdb objects for one address")
    return elapsed, objects, int(serial[0]) if serial else 0, int(count[0]) if count else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--resources", type=int, default=10_000)
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--dsn", help="postgresql:// URL of an existing server (default: start a throwaway one)"
    )
    args = parser.parse_args()
    as_installed()
    server = None
    dsn = args.dsn
    if dsn is None:
        from tests.postgres import start_server

        server = start_server()
        dsn = server.url()
    data = server.root / "data" if server is not None else None
    times: dict[int, list[float]] = {1: [], args.runners: []}
    ratios: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="spo-partitions-") as tmp:
            root = Path(tmp)
            write_catalog(root, args.resources)
            with (root / "spo.yaml").open("a") as f:
                f.write(CONFIG)
            reference: Objects | None = None
            for _ in range(args.repeat):
                for runners in (1, args.runners):
                    elapsed, objects, serial, count = run(root, dsn, runners, data)
                    reference = reference if reference is not None else objects
                    if len(objects) != args.resources or objects != reference:
                        sys.exit(f"{runners} runner(s): not the objects of a single run")
                    if serial != args.resources or count != args.resources:
                        sys.exit(f"{runners} runner(s): serial {serial}, {count} resources")
                    times[runners].append(elapsed)
                    print(f"{runners} runner(s): {elapsed:.2f} s", file=sys.stderr, flush=True)
                ratios.append(times[1][-1] / times[args.runners][-1])
    finally:
        if server is not None:
            server.stop()
    head = f"{'runners':>7}  {'resources':>9}  {'wall (best) s':>13}  {'resources/s':>11}"
    print(
        head + f"  {'runner CPU s':>12}  {'server CPU s':>12}  {'machine CPU s':>13}"
        f"  {'cores busy':>10}"
    )
    for runners, measured in times.items():
        best = min(measured)
        runner, machine, served = CPU[runners][measured.index(best)]
        shown = "" if served is None else f"{served:.2f}"
        print(
            f"{runners:>7}  {args.resources:>9,}  {best:>13.2f}  {args.resources / best:>11,.0f}"
            f"  {runner:>12.2f}  {shown:>12}  {machine:>13.2f}  {machine / best:>10.2f}"
        )
    print(
        f"cores on this machine: {os.cpu_count()} (server CPU: the throwaway PostgreSQL server's"
        " processes; machine CPU: runners, the server and anything else running; cores busy ="
        " machine CPU / wall)"
    )
    for runners, runs in CPU.items():
        print(
            f"{runners} runner(s), run by run: "
            + ", ".join(
                f"{wall:.2f} s wall, {r:.2f} s runner CPU"
                + ("" if served is None else f", {served:.2f} s server CPU")
                + f", {m:.2f} s machine CPU"
                for wall, (r, m, served) in zip(times[runners], runs, strict=True)
            )
        )
    shown = ", ".join(f"{r:.2f}x" for r in ratios)
    print(f"speed-up of {args.runners} runners over 1, run by run: {shown}")
    print(f"best against best: {min(times[1]) / min(times[args.runners]):.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
