from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import ENV_DSN, PostgresUnavailable, Server, start_server

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's git config, cache or home."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """A real PostgreSQL for the test run (see tests/postgres.py); skipped when unavailable,
    a failure instead with SPO_REQUIRE_POSTGRES=1 (.ci/run). Its DSN is exported as
    SPO_TEST_POSTGRES_DSN for child processes."""
    try:
        server = start_server()
    except PostgresUnavailable as e:
        if os.environ.get("SPO_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"SPO_REQUIRE_POSTGRES=1 but {e}")
        pytest.skip(str(e))
    previous = os.environ.get(ENV_DSN)
    os.environ[ENV_DSN] = server.dsn
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop(ENV_DSN, None)
        else:
            os.environ[ENV_DSN] = previous
        server.stop()
