"""The provider conformance kit on every shipped provider, the example plugin included, each
against a real backend: SQLite, a folder, the REST server and moto on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from spo_gitops.providers import ProviderContext, provider_class
from spo_gitops.providers.aws import AwsProvider, AwsSettings
from spo_gitops.providers.cmdb import CmdbProvider, CmdbSettings
from spo_gitops.providers.files import FilesProvider, FilesSettings
from spo_gitops.providers.http import HttpProvider, HttpSettings
from spo_gitops.testing import Case, ConformanceError, check_provider, check_schemas
from tests.restserver import Server
from tests.servers import aws_env, moto_url, rest  # noqa: F401 - fixtures

SERVICE = {"title": "Internet Banking", "tier": 1, "owner": "team-digital"}


def _ctx(tmp_path: Path) -> ProviderContext:
    return ProviderContext(tmp_path, tmp_path / ".spo")


def test_cmdb_conforms(tmp_path: Path) -> None:
    provider = CmdbProvider(CmdbSettings(), _ctx(tmp_path))
    try:
        ran = check_provider(provider, [Case("service", SERVICE, {**SERVICE, "tier": 2})])
        assert len(ran) == 8
    finally:
        provider.close()


def test_files_conforms(tmp_path: Path) -> None:
    provider = FilesProvider(FilesSettings(), _ctx(tmp_path))
    check_provider(
        provider,
        [Case("file", {"content": "a\n"}, {"content": "b\n", "mode": "0600"})],
    )


def test_example_plugin_is_found_and_conforms(tmp_path: Path) -> None:
    cls = provider_class("jsonstore")  # through its own entry point
    provider = cls(cls.settings_model(), _ctx(tmp_path))
    check_provider(provider, [Case("record", {"owner": "a"}, {"owner": "b", "tier": 2})])


def _snow(server: Server, **extra: object) -> HttpProvider:
    settings = HttpSettings.model_validate(
        {
            "base_url": server.url,
            "profile": "servicenow",
            "token_env": "SNOW_TOKEN",
            "backoff": 0.01,
            "page_size": 2,
            **extra,
        }
    )
    return HttpProvider(settings, ProviderContext(Path("."), Path(".spo")))


def test_http_servicenow_conforms(rest: Server) -> None:  # noqa: F811
    provider = _snow(rest)

    @contextmanager
    def outage() -> Iterator[None]:
        rest.state.fault("*", *["500"] * 8)
        yield
        rest.state.faults.clear()

    @contextmanager
    def foreign() -> Iterator[None]:
        rest.state.fault("POST", "foreign")
        rest.state.fault("PATCH", "foreign")
        yield
        rest.state.faults.clear()

    try:
        check_provider(
            provider,
            [
                Case("service", SERVICE, {**SERVICE, "tier": 3, "domain": "retail"}),
                Case(
                    "sla",
                    {"service": "ib", "customer": "retail", "availability": 99.9},
                    {"service": "ib", "customer": "retail", "hours": "24x7"},
                ),
            ],
            inject_transient=outage,
            inject_foreign=foreign,
        )
    finally:
        provider.close()


@pytest.mark.parametrize("pagination", ["none", "page", "link", "offset"])
def test_http_generic_conforms(rest: Server, pagination: str) -> None:  # noqa: F811
    settings = HttpSettings.model_validate(
        {
            "base_url": rest.url,
            "token_env": "SNOW_TOKEN",
            "backoff": 0.01,
            "page_size": 2,
            "types": {"widget": {"path": "/v1/widgets", "pagination": pagination}},
        }
    )
    provider = HttpProvider(settings, ProviderContext(Path("."), Path(".spo")))
    for i in range(5):  # more than two pages of others
        provider.create("widget", f"other-{i}", {"size": i})
    try:
        check_provider(
            provider,
            [Case("widget", {"size": 1, "colour": "red"}, {"size": 2})],
            types={"widget": provider.collections["widget"].rtype},
        )
    finally:
        provider.close()


def test_aws_conforms(moto_url: str, aws_env: None) -> None:  # noqa: F811
    provider = AwsProvider(
        AwsSettings(endpoint_url=moto_url), ProviderContext(Path("."), Path("."))
    )
    check_provider(
        provider,
        [
            Case(
                "portfolio",
                {"providerName": "it", "tags": {"a": "1"}},
                {"providerName": "it2"},
                missing_id="port-missing",
                same_id_on_update=False,
            ),
            Case(
                "product",
                {"owner": "team-a", "portfolio": "retail"},
                {"owner": "team-b", "description": "x"},
                same_id_on_update=False,
            ),
        ],
    )
    # moto serves no Update/DeleteApplication: the rest of the kit on applications
    check_provider(
        provider,
        [Case("application", {"description": "owner a"}, {"description": "owner a"})],
        checks=("schema", "read-missing"),
    )
    one = provider.create("application", "ib", {"description": "owner a, tier 1"})
    two = provider.create("application", "ib", {"description": "owner a, tier 1"})
    assert one == two
    assert [o.id for o in provider.list("application") if o.name == "ib"] == [one.id]


def test_the_kit_catches_a_provider_that_duplicates(tmp_path: Path) -> None:
    class Duplicating(CmdbProvider):
        def create(self, type_, name, properties):  # type: ignore[no-untyped-def]
            return super().create(type_, f"{name}-{len(self.list(type_))}", properties)

    provider = Duplicating(CmdbSettings(), _ctx(tmp_path))
    try:
        with pytest.raises(ConformanceError, match=r"\[lifecycle\] service: create returned"):
            check_provider(provider, [Case("service", SERVICE, SERVICE)])
    finally:
        provider.close()


def test_the_kit_catches_a_provider_that_answers_with_another_object(tmp_path: Path) -> None:
    class Adopting(CmdbProvider):
        def update(self, type_, id_, name, properties):  # type: ignore[no-untyped-def]
            super().update(type_, id_, name, properties)
            return next(o for o in self.list(type_) if o.id != id_)  # whatever else it finds

    provider = Adopting(CmdbSettings(), _ctx(tmp_path))
    try:
        with pytest.raises(ConformanceError, match=r"\[own-answers\] service: update of"):
            check_provider(provider, [Case("service", SERVICE, SERVICE)], checks=["own-answers"])
    finally:
        provider.close()


def test_the_kit_catches_a_provider_that_trusts_a_foreign_answer(
    rest: Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The http provider with its answer check taken out: the kit's injection finds it."""
    monkeypatch.setattr(HttpProvider, "_expect", lambda self, coll, shown, got, *a: got)
    provider = _snow(rest)

    @contextmanager
    def foreign() -> Iterator[None]:
        rest.state.fault("POST", "foreign")
        yield
        rest.state.faults.clear()

    with pytest.raises(ConformanceError, match=r"\[own-answers\] service: create returned"):
        check_provider(
            provider,
            [Case("service", SERVICE, SERVICE)],
            checks=["own-answers"],
            inject_foreign=foreign,
        )


def test_schemas_of_every_shipped_provider_are_2020_12() -> None:
    for name in ("cmdb", "files", "http", "aws", "jsonstore"):
        check_schemas(provider_class(name).types)
    with pytest.raises(ConformanceError, match="not a valid JSON Schema"):
        from spo_gitops.providers import ResourceType

        check_schemas({"x": ResourceType("x", {"type": "objectx"})})
