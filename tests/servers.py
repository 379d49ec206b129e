"""Real servers on 127.0.0.1 for the external providers' tests: moto (AWS) and the REST server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.restserver import Server, serving


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto in server mode (real HTTP on 127.0.0.1, a free port), one per test module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _host, port = server.get_host_and_port()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, as the AWS SDK reads them from the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)


TOKEN = "s3cr3t-t0ken-never-shown"


@pytest.fixture
def rest(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("SNOW_TOKEN", TOKEN)
    with serving(TOKEN) as server:
        yield server
