"""The http provider against a real REST server on 127.0.0.1 with injected faults: each fault
ends in a retry or a clear error, never a wrong state, and the token is never shown."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from spo_gitops.providers import ProviderContext, ProviderError, TransientProviderError
from spo_gitops.providers.http import HttpProvider, HttpSettings
from tests.restserver import SLOW_SECONDS, Server
from tests.servers import TOKEN, rest  # noqa: F401 - fixture

SERVICE = {"title": "Internet Banking", "tier": 1, "owner": "team-digital"}
TABLE = "cmdb_ci_service"


def _provider(server: Server, **extra: object) -> HttpProvider:
    settings = HttpSettings.model_validate(
        {
            "base_url": server.url,
            "profile": "servicenow",
            "token_env": "SNOW_TOKEN",
            "backoff": 0.01,
            "retries": 3,
            "timeout": 0.5,
            **extra,
        }
    )
    return HttpProvider(settings, ProviderContext(Path("."), Path(".spo")))


def test_servicenow_records_envelopes_and_ids(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    made = provider.create("service", "ib", SERVICE)
    row = rest.state.tables[TABLE][made.id]
    assert row["sys_id"] == made.id
    assert row["short_description"] == "Internet Banking"
    assert row["owned_by"] == "team-digital"
    assert ("GET", f"/api/now/table/{TABLE}", f"Bearer {TOKEN}") in rest.state.requests


def test_string_values_are_read_back_in_the_schema_type(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    made = provider.create("service", "ib", SERVICE)
    rest.state.tables[TABLE][made.id]["busines_criticality"] = "1"  # ServiceNow answers strings
    read = provider.read("service", made.id)
    assert read is not None
    assert read.properties == SERVICE


@pytest.mark.parametrize("fault", ["500", "429", "drop", "slow"])
def test_transient_faults_are_retried(rest: Server, fault: str) -> None:  # noqa: F811
    provider = _provider(rest)
    rest.state.fault("*", fault)
    start = time.monotonic()
    made = provider.create("service", "ib", SERVICE)
    assert rest.state.count(TABLE) == 1
    rest.state.fault("GET", fault)
    assert provider.read("service", made.id) == made
    assert time.monotonic() - start < 10


def test_429_retry_after_is_honoured(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest, backoff=0)
    rest.state.fault("GET", "429")
    start = time.monotonic()
    assert provider.list("service") == []
    assert time.monotonic() - start >= 0.2  # the server's Retry-After: 0.2


def test_a_lost_post_answer_is_found_by_name_not_posted_twice(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    rest.state.fault("POST", "slow")  # created, but the answer comes after the timeout
    made = provider.create("service", "ib", SERVICE)
    time.sleep(SLOW_SECONDS)
    assert rest.state.count(TABLE) == 1
    assert provider.list("service") == [made]


def test_persistent_5xx_is_a_transient_error_after_bounded_attempts(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    rest.state.fault("*", *["500"] * 10)
    with pytest.raises(TransientProviderError, match=r"HTTP 500 \(gave up after 3 attempts\)"):
        provider.list("service")
    assert len(rest.state.requests) == 3


@pytest.mark.parametrize("fault", ["malformed", "garbage"])
def test_unexpected_answers_are_clear_errors(rest: Server, fault: str) -> None:  # noqa: F811
    provider = _provider(rest)
    rest.state.fault("POST", fault)
    with pytest.raises(ProviderError, match=r"not valid JSON|unexpected answer") as info:
        provider.create("service", "ib", SERVICE)
    assert not isinstance(info.value, TransientProviderError)
    assert "POST /api/now/table/cmdb_ci_service" in info.value.message
    # the record did get created: the next create adopts it, no duplicate
    again = provider.create("service", "ib", SERVICE)
    assert rest.state.count(TABLE) == 1
    assert provider.list("service") == [again]


def test_the_token_never_shows(
    rest: Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SNOW_TOKEN", TOKEN + "-wrong")
    provider = _provider(rest)
    with pytest.raises(ProviderError) as info:
        provider.create("service", "ib", SERVICE)
    assert "access refused (token from $SNOW_TOKEN)" in info.value.message
    assert TOKEN not in str(info.value) + repr(info.value) + caplog.text


def test_a_missing_token_variable_is_refused(
    rest: Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SNOW_TOKEN")
    with pytest.raises(ProviderError, match=r"SNOW_TOKEN .* is not set"):
        _provider(rest)


def test_unconfigured_types_and_invalid_properties(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    with pytest.raises(ProviderError, match="no resource type 'incident' configured"):
        provider.list("incident")
    with pytest.raises(ProviderError, match=r"http\.service\.ib: /tier"):
        provider.create("service", "ib", {**SERVICE, "tier": 9})
    assert rest.state.count(TABLE) == 0


def test_link_pagination_follows_next_links(rest: Server) -> None:  # noqa: F811
    types = {"w": {"path": "/v1/w", "pagination": "link", "envelope": "", "id_field": "id"}}
    provider = _provider(rest, types=types, page_size=1)
    rest.state.tables["w"] = {str(i): {"id": str(i), "name": f"n{i}"} for i in range(3)}
    assert [o.name for o in provider.list("w")] == ["n0", "n1", "n2"]
    assert sum(1 for r in rest.state.requests if r[1] == "/v1/w") == 3
