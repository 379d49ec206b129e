"""A real, throwaway PostgreSQL server for the tests: ``initdb`` into a temporary folder and
``pg_ctl`` on a free port of 127.0.0.1 (its unix socket in the same folder), stopped and removed
after the test run. The binaries are looked up in ``/usr/lib/postgresql/*/bin`` (Debian) and on
PATH; without them the tests that need a server are skipped, unless SPO_REQUIRE_POSTGRES=1
(``.ci/run``) makes that a failure.

initdb refuses to run as root: as root, the server runs as the ``postgres`` user that Debian's
package creates (through ``runuser``), in a folder owned by it. Durability is off (fsync,
synchronous_commit): the data is thrown away anyway, and the tests run faster.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

USER = "spo"
PASSWORD = "s3cret-pw-ddd"  # scram over TCP: the tests check it never shows in messages
ENV_DSN = "SPO_TEST_POSTGRES_DSN"  # set for the test run, so that child processes find it too
START_TIMEOUT = 30  # seconds


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries, or no user to run them as."""


def find_bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable(
        "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/initdb or initdb on PATH); "
        "install them (Debian: apt-get install postgresql) or run .ci/run"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    bindir: Path
    root: Path
    port: int
    run_as: str | None  # user the server runs as (when we are root)

    @property
    def dsn(self) -> str:
        return (
            f"host=127.0.0.1 port={self.port} user={USER} password={PASSWORD} dbname=postgres "
            "connect_timeout=10"
        )

    def url(self, schema: str | None = None) -> str:
        base = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"
        return base + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
            )

    def start(self) -> None:
        data, socket_dir = self.root / "data", self.root / "sock"
        socket_dir.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            for path in (self.root, socket_dir, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        log = self.root / "server.log"
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "30", "start"
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # pg_ctl -w waited already; this only guards against a slow TCP listener
            try:
                psycopg.connect(self.dsn).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> Server:
    """A running server; raises PostgresUnavailable when it cannot be had here."""
    bindir = find_bindir()
    run_as: str | None = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            run_as = name
            break
        if run_as is None or shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root without a 'postgres' user and runuser")
    root = Path(tempfile.mkdtemp(prefix="spo-pg-"))
    os.chmod(root, 0o755)
    server = Server(bindir, root, _free_port(), run_as)
    try:
        server.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


# --- per-test isolation: one schema per test folder ------------------------------------------


def schema_for(where: Path) -> str:
    return "t_" + hashlib.sha256(str(where).encode()).hexdigest()[:20]


def fresh_schema(dsn: str, where: Path) -> str:
    """Create (once) the schema that the test folder ``where`` stands for; returns its name."""
    name = schema_for(where)
    with (
        psycopg.connect(dsn, autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.UniqueViolation),  # a concurrent CREATE
    ):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
    return name


def state_dsn(where: Path) -> str:
    """A DSN of the test run's server whose tables go into the schema of ``where``."""
    dsn = os.environ.get(ENV_DSN)
    if not dsn:
        raise PostgresUnavailable(f"{ENV_DSN} is not set: no test server is running")
    return f"{dsn} options='-csearch_path={fresh_schema(dsn, where)}'"
