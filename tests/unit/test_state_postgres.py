"""What is particular to the PostgreSQL state backend (the contract itself is the shared suite in
test_state_sqlite.py): migrations under concurrent first use, the password never shown, and where
the DSN comes from."""

from __future__ import annotations

import subprocess
import sys
import traceback
from pathlib import Path

import psycopg
import pytest

from spo_gitops.config import Project, ProjectConfig
from spo_gitops.errors import SpoError
from spo_gitops.state import open_state, state_dsn
from spo_gitops.state.postgres import MIGRATIONS, PostgresState, redact_dsn
from tests.postgres import PASSWORD, Server, fresh_schema
from tests.state_suite import REPO

pytestmark = pytest.mark.usefixtures("postgres_server")


def _project(tmp_path: Path, state: dict[str, object]) -> Project:
    return Project(tmp_path, ProjectConfig.model_validate({"state": state}), None)


def test_concurrent_first_use_migrates_exactly_once(
    postgres_server: Server, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres_server.dsn, tmp_path)
    dsn = f"{postgres_server.dsn} options='-csearch_path={schema}'"
    body = (
        "import sys\nfrom spo_gitops.state.postgres import PostgresState\n"
        "print(PostgresState(sys.argv[1]).snapshot().lineage)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", body, dsn], stdout=subprocess.PIPE, text=True, cwd=REPO
        )
        for _ in range(6)
    ]
    lineages = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert [proc.returncode for proc in procs] == [0] * 6
    assert len(lineages) == 1 and len(lineages.pop()) == 36  # one state, created once
    with psycopg.connect(dsn) as conn:
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    assert versions == [(i + 1,) for i in range(len(MIGRATIONS))]


def test_a_newer_schema_is_refused(postgres_server: Server, tmp_path: Path) -> None:
    schema = fresh_schema(postgres_server.dsn, tmp_path)
    dsn = f"{postgres_server.dsn} options='-csearch_path={schema}'"
    first = PostgresState(dsn)
    first.snapshot()
    first.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future')")
    with pytest.raises(SpoError, match="newer than this spo"):
        PostgresState(dsn).snapshot()


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://spo:hunter2@db:5432/state", "postgresql://spo:***@db:5432/state"),
        (
            "postgresql://spo@db/state?password=hunter2&x=1",
            "postgresql://spo@db/state?password=***&x=1",
        ),
        ("host=db user=spo password=hunter2 dbname=s", "host=db user=spo password=*** dbname=s"),
        ("host=db password = 'hun ter2' dbname=s", "host=db password = *** dbname=s"),
        ("postgresql://db/state", "postgresql://db/state"),
    ],
)
def test_redact_dsn(dsn: str, shown: str) -> None:
    assert redact_dsn(dsn) == shown


def _everything(e: BaseException) -> str:
    return "".join(traceback.format_exception(e)) + str(getattr(e, "hint", ""))


def test_the_password_is_never_shown_in_errors(
    postgres_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = postgres_server.url().replace(PASSWORD, "wrong-pw-4711")
    with pytest.raises(SpoError) as e:
        PostgresState(wrong).snapshot()
    assert "password authentication failed" in e.value.message
    assert "wrong-pw-4711" not in _everything(e.value)
    assert "spo:***@127.0.0.1" in e.value.message

    unknown_db = postgres_server.url().replace("/postgres", "/nope")
    with pytest.raises(SpoError) as e:
        PostgresState(unknown_db).snapshot()
    assert "nope" in e.value.message and PASSWORD not in _everything(e.value)

    broken = f"host=127.0.0.1 port={postgres_server.port} password={PASSWORD} bogus=1"
    with pytest.raises(SpoError) as e:
        PostgresState(broken).snapshot()
    assert PASSWORD not in _everything(e.value)
    assert PASSWORD not in caplog.text


def test_open_state_reads_the_dsn_from_spo_yaml_or_the_environment(
    postgres_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_server.url(fresh_schema(postgres_server.dsn, tmp_path))
    monkeypatch.delenv("SPO_STATE_DSN", raising=False)
    in_yaml = _project(tmp_path, {"backend": "postgres", "dsn": url})
    state = open_state(in_yaml)
    try:
        assert isinstance(state, PostgresState) and state.snapshot().serial == 0
        assert PASSWORD not in state.display
    finally:
        state.close()
    monkeypatch.setenv("SPO_STATE_DSN", "postgresql://from-env/db")
    assert state_dsn(in_yaml) == "postgresql://from-env/db"  # the variable wins
    named = _project(tmp_path, {"backend": "postgres", "dsnEnv": "MY_DSN"})
    with pytest.raises(SpoError, match="MY_DSN, which is not set"):
        state_dsn(named)
    monkeypatch.setenv("MY_DSN", url)
    assert state_dsn(named) == url
    monkeypatch.delenv("SPO_STATE_DSN")
    with pytest.raises(SpoError, match="no connection string"):
        state_dsn(_project(tmp_path, {"backend": "postgres"}))


def _journal_one_create(state: PostgresState, plan: str, address: str) -> None:
    """An apply of ``plan`` under the global lock, journaling the start of one create."""
    lock = state.lock("apply")
    apply_id = state.journal_begin(lock, plan=plan, commit="c0ffee", who="ci@runner")
    state.journal_action(apply_id, address, "create", "started")
    state.journal_end(apply_id, "succeeded")
    state.release(lock)


def test_a_state_of_the_first_schema_is_migrated_with_its_journal(
    postgres_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database written by the first schema (a foreign key from the journal to its apply)
    upgrades in place: the applies and steps it holds are kept, and the steps of a new apply
    are written beside them."""
    from spo_gitops.state import postgres

    schema = fresh_schema(postgres_server.dsn, tmp_path)
    dsn = f"{postgres_server.dsn} options='-csearch_path={schema}'"
    monkeypatch.setattr(postgres, "MIGRATIONS", MIGRATIONS[:1])
    old = PostgresState(dsn)
    _journal_one_create(old, "p1", "cmdb.host.web")
    old.close()
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (1,)
    monkeypatch.setattr(postgres, "MIGRATIONS", MIGRATIONS)

    state = PostgresState(dsn)
    _journal_one_create(state, "p2", "cmdb.host.db")
    history = state.history()
    state.close()
    assert [(r.plan, [(a.address, a.phase) for a in r.actions]) for r in history] == [
        ("p2", [("cmdb.host.db", "started")]),
        ("p1", [("cmdb.host.web", "started")]),
    ]
    with psycopg.connect(dsn) as conn:
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    assert versions == [(i + 1,) for i in range(len(MIGRATIONS))]
