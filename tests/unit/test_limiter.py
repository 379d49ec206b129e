"""The adaptive limit on calls in flight shared by a provider's threads: additive increase,
multiplicative decrease, a Retry-After that pauses every thread; numbers worked out by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.providers import ProviderContext, TransientProviderError
from spo_gitops.providers.limiter import AdaptiveLimiter
from tests.servers import aws_env, moto_url  # noqa: F401 - fixtures
from tests.threaded import running


def test_answers_in_time_add_about_one_call_per_round_trip() -> None:
    limiter = AdaptiveLimiter(32, initial=4)
    limiter.succeeded(0.05)
    assert limiter.limit == pytest.approx(4.25)  # 4 + 1/4
    for _ in range(4):
        limiter.succeeded(0.05)
    # 4.25 -> 4.4853 -> 4.7082 -> 4.9206 -> 5.1238, each + 1/limit
    assert limiter.limit == pytest.approx(5.124, abs=0.001)


def test_a_slow_answer_adds_nothing() -> None:
    limiter = AdaptiveLimiter(32, initial=4)
    limiter.succeeded(0.05)
    limiter.succeeded(0.5)  # ten times the fastest: a queue is building
    assert limiter.limit == pytest.approx(4.25)


def test_a_refusal_cuts_once_per_round_trip_and_slows_the_probe_near_it() -> None:
    limiter = AdaptiveLimiter(32, initial=10)
    limiter.succeeded(0.05)  # 10.1
    limiter.throttled(None, 0.05)
    assert limiter.limit == pytest.approx(7.07)  # 10.1 * 0.7
    limiter.throttled(None, 0.05)  # the same overload, within a round trip
    assert limiter.limit == pytest.approx(7.07)
    while limiter.limit < 0.9 * 10.1:
        limiter.succeeded(0.05)
    before = limiter.limit
    limiter.succeeded(0.05)
    assert limiter.limit - before == pytest.approx(0.05 / before)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_answer_far_faster_than_the_rest_stops_counting_after_its_window() -> None:
    clock = _Clock()
    limiter = AdaptiveLimiter(32, initial=4, clock=clock)
    limiter.succeeded(0.004)  # a fluke (a cached error, say): 4 + 1/4
    assert limiter.limit == pytest.approx(4.25)
    for clock.now in (1.0, 9.0, 11.0, 19.0):  # the fluke's window, then the one after it
        limiter.succeeded(0.05)  # slower than 2 x 0.004 + 0.005: adds nothing while it counts
    assert limiter.limit == pytest.approx(4.25)
    clock.now = 21.0  # the fluke's window is two windows back: the fastest is now 0.05
    limiter.succeeded(0.05)
    assert limiter.limit == pytest.approx(4.25 + 1 / 4.25)


def test_a_slow_answer_after_a_new_window_adds_nothing() -> None:
    """The window before still counts: a queue building just after a window starts is seen."""
    clock = _Clock()
    limiter = AdaptiveLimiter(32, initial=4, clock=clock)
    limiter.succeeded(0.05)
    clock.now = 10.5
    limiter.succeeded(0.5)
    assert limiter.limit == pytest.approx(4.25)
    clock.now = 50.0  # idle for two windows: both are forgotten, the next answer sets the pace
    limiter.succeeded(0.5)
    assert limiter.limit == pytest.approx(4.25 + 1 / 4.25)


def test_the_limit_stays_between_its_bounds() -> None:
    limiter = AdaptiveLimiter(3, initial=2)
    for _ in range(50):
        limiter.succeeded(0.01)
    assert limiter.limit == 3
    for _ in range(20):
        limiter.throttled(None, 0.0)
        time.sleep(0.011)  # past the round trip: each refusal cuts
    assert limiter.limit == 1


def test_no_more_calls_in_flight_than_the_limit() -> None:
    limiter = AdaptiveLimiter(2, initial=2)
    inside, peak, guard = 0, 0, threading.Lock()

    def call() -> None:
        nonlocal inside, peak
        with limiter.slot():
            with guard:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.02)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert peak == 2 == limiter.stats.peak
    assert limiter.stats.calls == 6


def test_retry_after_pauses_every_thread() -> None:
    limiter = AdaptiveLimiter(8, initial=8)
    limiter.throttled(0.3, 0.01)  # one thread was told to come back in 0.3 s
    waited: list[float] = []

    def other() -> None:
        start = time.monotonic()
        with limiter.slot():
            waited.append(time.monotonic() - start)

    threads = [threading.Thread(target=other) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(waited) == 3 and min(waited) >= 0.25


def test_a_fixed_limit_does_not_adapt() -> None:
    limiter = AdaptiveLimiter(10, initial=3, adaptive=False)
    assert limiter.limit == 10
    limiter.throttled(None, 0.05)
    limiter.succeeded(0.05)
    assert limiter.limit == 10


def test_aws_throttling_cuts_the_limit(moto_url: str, aws_env: None) -> None:  # noqa: F811
    """moto does not throttle: the fault is injected at the client, the rest is real."""
    import botocore.exceptions

    from spo_gitops.providers.aws import AwsProvider, AwsSettings

    provider = AwsProvider(
        AwsSettings(endpoint_url=moto_url, parallelism=10), ProviderContext(Path("."), Path("."))
    )
    client = provider._client("servicecatalog")
    real = client.list_portfolios
    calls = {"n": 0}

    def throttled(**kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "ListPortfolios",
            )
        return real(**kwargs)

    client.list_portfolios = throttled
    start = provider.limiter.limit
    with pytest.raises(TransientProviderError, match="ThrottlingException"):
        provider.list("portfolio")
    assert provider.limiter.stats.throttled == 1
    assert provider.limiter.limit == pytest.approx(start * 0.7)
    # the next call goes through (what the shared moto server holds depends on other tests)
    before = calls["n"]
    assert isinstance(provider.list("portfolio"), list)
    assert calls["n"] > before


@pytest.fixture
def slow_moto() -> Iterator[str]:
    """moto behind a real HTTP server on 127.0.0.1 that answers every call 50 ms late."""
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)

    def late(environ: Any, start_response: Any) -> Any:
        time.sleep(0.05)
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, late, threaded=True)
    with running(server):
        yield f"http://127.0.0.1:{server.server_port}"


def test_aws_answers_in_time_raise_the_limit(slow_moto: str, aws_env: None) -> None:  # noqa: F811
    """Each thread builds its own client: building one is no answer of the API, so it must not
    be taken for the fastest answer (it was, in a few ms, and every real answer then looked
    slow: the limit never rose)."""
    from spo_gitops.providers.aws import AwsProvider, AwsSettings

    provider = AwsProvider(
        AwsSettings(endpoint_url=slow_moto, parallelism=32), ProviderContext(Path("."), Path("."))
    )
    provider.list("portfolio")  # the first client loads botocore's data; the next are quick
    start = provider.limiter.limit
    with ThreadPoolExecutor(8) as pool:
        listed = list(pool.map(lambda _: provider.list("portfolio"), range(40)))
    assert all(isinstance(found, list) for found in listed)
    # 40 answers in time, each adding 1/limit: about four more calls in flight
    assert provider.limiter.limit > start + 2
