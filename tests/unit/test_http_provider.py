"""The http provider against a real REST server on 127.0.0.1 with injected faults: each fault
ends in a retry or a clear error, never a wrong state, and the token is never shown."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from spo_gitops.providers import ProviderContext, ProviderError, TransientProviderError
from spo_gitops.providers.http import HttpProvider, HttpSettings
from tests.restserver import LATE_SECONDS, SLOW_SECONDS, Server, serving
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


# --- an answer that is another record is never adopted -----------------------------------------

UNMANAGED = {"name": "payroll", "short_description": "Payroll", "owned_by": "team-hr"}


def _unmanaged(server: Server) -> str:
    server.state.tables.setdefault(TABLE, {})["u1"] = {**UNMANAGED, "sys_id": "u1"}
    return "u1"


def test_a_create_answered_with_another_record_fails(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    _unmanaged(rest)
    rest.state.fault("POST", "foreign")
    with pytest.raises(ProviderError, match=r"answered with another object \('payroll'") as info:
        provider.create("service", "ib", SERVICE)
    assert not isinstance(info.value, TransientProviderError)
    assert rest.state.tables[TABLE]["u1"] == {**UNMANAGED, "sys_id": "u1"}


def test_an_update_answered_with_another_record_fails(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    _unmanaged(rest)
    made = provider.create("service", "ib", SERVICE)
    rest.state.fault("PATCH", "foreign")
    with pytest.raises(ProviderError, match=r"instead of 'ib' \(id '"):
        provider.update("service", made.id, "ib", {**SERVICE, "tier": 2})


def test_a_read_answered_with_another_record_fails(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest)
    _unmanaged(rest)
    made = provider.create("service", "ib", SERVICE)
    rest.state.fault("GET", "foreign")
    with pytest.raises(ProviderError, match="the answer is another record"):
        provider.read("service", made.id)


def test_apply_records_nothing_from_a_foreign_answer(rest: Server, tmp_path: Path) -> None:  # noqa: F811
    from spo_gitops.provision.apply import Executor, RetryPolicy
    from spo_gitops.provision.plan import plan
    from spo_gitops.provision.resources import DesiredResource
    from spo_gitops.state.sqlite import SqliteState

    provider = _provider(rest)
    _unmanaged(rest)
    rest.state.fault("POST", "foreign")
    desired = [DesiredResource("http", "service", "ib", SERVICE)]
    state = SqliteState(tmp_path / "state.db")
    the_plan = plan(desired, state.snapshot(), None, types=lambda p, t: None, commit=None)
    lock = state.lock("apply")
    try:
        apply_id = state.journal_begin(lock, plan="p", commit="", who="test")
        results = Executor(
            the_plan,
            {r.address: r for r in desired},
            state,
            lock,
            {"http": provider},
            sensitive=lambda p, t: frozenset(),
            retry=RetryPolicy(attempts=2, initial=0.001, maximum=0.01),
        ).run(apply_id, set())
    finally:
        state.release(lock)
    assert [r.outcome for r in results] == ["failed"]
    assert "payroll" in results[0].detail
    assert state.snapshot().resources == {}
    # the next run adopts the record that POST did make, never the unmanaged one
    assert provider.create("service", "ib", SERVICE).id != "u1"
    assert rest.state.tables[TABLE]["u1"] == {**UNMANAGED, "sys_id": "u1"}


# --- a slow create is not duplicated ------------------------------------------------------------


def test_a_create_completed_after_the_timeout_is_looked_up_not_posted_again(
    rest: Server,  # noqa: F811
) -> None:
    provider = _provider(rest, ambiguous_wait=LATE_SECONDS + 0.5)
    rest.state.fault("POST", "late")  # the server creates it LATE_SECONDS after the request
    made = provider.create("service", "ib", SERVICE)
    time.sleep(0.2)
    assert rest.state.count(TABLE) == 1
    assert provider.list("service") == [made]
    assert [m for m, p, _ in rest.state.requests if p.endswith(TABLE)].count("POST") == 1


def test_without_the_wait_the_late_create_would_duplicate(rest: Server) -> None:  # noqa: F811
    """The oracle for the test above: a lookup that does not wait finds nothing and POSTs a
    second record, as the provider did before it waited."""
    provider = _provider(rest, ambiguous_wait=0)
    rest.state.fault("POST", "late")
    provider.create("service", "ib", SERVICE)
    time.sleep(LATE_SECONDS)
    assert rest.state.count(TABLE) == 2


def _plain(server: Server, **type_settings: object) -> HttpProvider:
    types = {"w": {"path": "/v1/w", "pagination": "offset", **type_settings}}
    return _provider(server, profile="generic", types=types)


def test_an_idempotency_key_makes_a_late_post_safe_to_repeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SNOW_TOKEN", TOKEN)
    with serving(TOKEN, idempotency=True) as server:
        types = {
            "w": {"path": "/v1/w", "pagination": "offset", "idempotency_header": "Idempotency-Key"}
        }
        # the first POST takes effect after LATE_SECONDS (1 s), past the client's timeout; the
        # retry is answered when it does, ~0.3 s after it was sent: well inside the timeout
        # (at the default 0.5 s the answer came 0.49 s after the retry, and a loaded machine
        # made it time out too and post a third time)
        provider = _provider(server, profile="generic", types=types, timeout=0.7)
        server.state.fault("POST", "late")
        made = provider.create("w", "a", {"size": 1})
        assert server.state.count("w") == 1
        assert provider.list("w") == [made]
        posts = [m for m, p, _ in server.state.requests if m == "POST"]
        assert len(posts) == 2  # the retry carried the same key: answered, not created


def test_unique_names_create_in_one_call_and_adopt_on_conflict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SNOW_TOKEN", TOKEN)
    with serving(TOKEN, unique_names=True) as server:
        provider = _plain(server, unique_names=True)
        made = provider.create("w", "a", {"size": 1})
        assert [m for m, _, _ in server.state.requests] == ["POST"]
        again = provider.create("w", "a", {"size": 2})  # a rerun after a crash: 409, adopted
        assert again.id == made.id and again.properties == {"size": 2}
        assert server.state.count("w") == 1
        server.state.fault("POST", "drop")  # the answer is lost: POSTed again, 409, adopted
        other = provider.create("w", "b", {"size": 3})
        assert server.state.count("w") == 2
        assert provider.read("w", other.id) == other


def test_a_truncated_answer_is_a_retryable_connection_error(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest, retries=1)
    made = provider.create("service", "ib", SERVICE)
    rest.state.fault("GET", "truncate")
    with pytest.raises(TransientProviderError) as info:
        provider.read("service", made.id)
    assert re.search(
        r"GET /api/now/table/cmdb_ci_service/\w+: the answer was cut off after "
        r"\d+ of \d+ bytes",
        info.value.message,
    )
    rest.state.fault("GET", "truncate")
    assert _provider(rest).read("service", made.id) == made  # retried within the provider


def test_a_truncated_create_answer_leaves_one_record(rest: Server) -> None:  # noqa: F811
    provider = _provider(rest, ambiguous_wait=0.2)
    rest.state.fault("POST", "truncate")
    made = provider.create("service", "ib", SERVICE)
    assert rest.state.count(TABLE) == 1
    assert provider.list("service") == [made]


# --- refresh in few calls, concurrency that adapts ------------------------------------------------


def test_read_many_uses_the_batch_query_and_confirms_what_it_did_not_see(
    rest: Server,  # noqa: F811
) -> None:
    provider = _provider(rest, page_size=10)
    ids = [provider.create("service", f"s{i}", SERVICE).id for i in range(25)]
    del rest.state.tables[TABLE][ids[3]]  # deleted by hand
    rest.state.requests.clear()
    got = provider.read_many("service", [*ids, "nope"])
    assert got[ids[3]] is None and got["nope"] is None
    assert {got[i].name for i in ids if i != ids[3]} == {f"s{i}" for i in range(25) if i != 3}
    gets = [p for m, p, _ in rest.state.requests if m == "GET"]
    assert gets.count(f"/api/now/table/{TABLE}") == 3  # 26 ids, 9 a call
    assert sorted(p.rsplit("/", 1)[1] for p in gets if p != f"/api/now/table/{TABLE}") == sorted(
        [ids[3], "nope"]
    )


def test_read_many_lists_pages_without_a_batch_query(rest: Server) -> None:  # noqa: F811
    provider = _plain(rest)
    ids = [provider.create("w", f"n{i:02}", {"size": i}).id for i in range(30)]
    rest.state.requests.clear()
    got = provider.read_many("w", ids)
    assert [got[i].name for i in ids] == [f"n{i:02}" for i in range(30)]  # type: ignore[union-attr]
    assert len(rest.state.requests) == 1  # one page of 100


def test_retry_after_pauses_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten threads, a server answering in 50 ms and allowing 100 calls a second (ten threads
    would make 200): the shared pause and the adaptive limit keep refusals to a tenth of the
    calls while every create succeeds, once."""
    monkeypatch.setenv("SNOW_TOKEN", TOKEN)
    with serving(TOKEN, rate=100, burst=5, latency=0.05, unique_names=True) as server:
        provider = _plain(server, unique_names=True)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(10) as pool:
            made = list(pool.map(lambda i: provider.create("w", f"r{i}", {"size": i}), range(150)))
        assert len({o.id for o in made}) == 150 == server.state.count("w")
        refused = server.state.statuses.count(429)
        assert refused <= 15, refused
