"""The provider registry and the built-in providers, on real SQLite files and real folders."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.config import Project, ProjectConfig
from spo_gitops.providers import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    TransientProviderError,
    available,
    check_properties,
    configure,
    provider_class,
    resource_type,
)
from spo_gitops.providers.cmdb import CmdbProvider, CmdbSettings
from spo_gitops.providers.files import FilesProvider, FilesSettings
from tests.postgres import fresh_schema

SERVICE = {"title": "Internet Banking", "tier": 1, "owner": "team-digital", "stage": "live"}


def _project(root: Path, providers: dict[str, dict[str, Any]] | None = None) -> Project:
    config = ProjectConfig.model_validate({"providers": providers or {}})
    return Project(root, config, None)


@pytest.fixture(params=["sqlite", "postgres"])
def cmdb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CmdbProvider]:
    """The cmdb on a SQLite file, and on a schema of its own on the test PostgreSQL."""
    settings = CmdbSettings()
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        settings = CmdbSettings(url=server.url(fresh_schema(server.dsn, tmp_path)))
    provider = CmdbProvider(settings, ProviderContext(tmp_path, tmp_path / ".spo"))
    yield provider
    provider.close()


@pytest.fixture
def files(tmp_path: Path) -> FilesProvider:
    return FilesProvider(FilesSettings(), ProviderContext(tmp_path, tmp_path / ".spo"))


# --- registry -------------------------------------------------------------------------------------


def test_builtin_providers_are_found_through_entry_points() -> None:
    eps = available()
    assert eps["cmdb"].value == "spo_gitops.providers.cmdb:CmdbProvider"
    assert eps["files"].value == "spo_gitops.providers.files:FilesProvider"
    assert provider_class("cmdb") is CmdbProvider
    assert provider_class("files") is FilesProvider


def test_unknown_provider_names_the_available_ones() -> None:
    available_ = r"available: aws, cmdb, files, http, jsonstore"
    with pytest.raises(ProviderError, match=rf"unknown provider 'nope'; {available_}"):
        provider_class("nope")


def test_configure_uses_settings_relative_to_the_project(tmp_path: Path) -> None:
    project = _project(tmp_path, {"cmdb": {"path": "data/registry.db"}})
    providers = configure(project, ["cmdb", "files", "cmdb"])
    try:
        assert set(providers) == {"cmdb", "files"}
        cmdb = providers["cmdb"]
        assert isinstance(cmdb, CmdbProvider)
        assert cmdb.path == tmp_path / "data" / "registry.db"
        assert cmdb.path.is_file()
        files = providers["files"]
        assert isinstance(files, FilesProvider)
        assert files.root == tmp_path / ".spo" / "artifacts"
        assert files.context == ProviderContext(tmp_path, tmp_path / ".spo")
    finally:
        for provider in providers.values():
            provider.close()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"pathx": "a.db"}, r"providers\.cmdb\.pathx: Extra inputs are not permitted"),
        ({"path": 3}, r"providers\.cmdb\.path: Input should be a valid string"),
        ({"url": "mysql://x"}, r"providers\.cmdb\.url: String should match pattern"),
    ],
)
def test_settings_errors_name_the_provider_and_the_setting(
    tmp_path: Path, settings: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ProviderError, match=expected) as info:
        configure(_project(tmp_path, {"cmdb": settings}), ["cmdb"])
    assert "invalid settings for provider 'cmdb' in spo.yaml" in info.value.message
    assert info.value.hint is not None
    assert "path, url" in info.value.hint
    assert info.value.__cause__ is None  # pydantic's error is not chained into a traceback


def test_an_unreachable_postgresql_url_is_a_clear_error_without_the_password(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, {"cmdb": {"url": "postgresql://u:pw-1234@127.0.0.1:9/cmdb"}})
    with pytest.raises(ProviderError, match=r"cmdb: open: .*postgresql://u:\*\*\*@") as e:
        configure(project, ["cmdb"])
    assert "pw-1234" not in str(e.value) and e.value.__cause__ is None


def test_sqlite_url_is_used(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.db"
    project = _project(tmp_path, {"cmdb": {"url": f"sqlite:///{target}"}})
    provider = configure(project, ["cmdb"])["cmdb"]
    try:
        assert isinstance(provider, CmdbProvider)
        assert provider.path == target
    finally:
        provider.close()


def test_resource_type_lookup() -> None:
    assert resource_type("cmdb", "service").schema["additionalProperties"] is False
    assert resource_type("files", "file").replace_on == frozenset({"path"})
    with pytest.raises(ProviderError, match=r"no resource type 'nope'; its types: allocation"):
        resource_type("cmdb", "nope")


def test_every_type_has_a_closed_described_schema() -> None:
    for name in ("cmdb", "files"):
        for rtype in provider_class(name).types.values():
            assert rtype.schema["type"] == "object"
            assert rtype.schema["additionalProperties"] is False
            for prop in rtype.schema["properties"].values():
                assert prop.get("description"), (name, rtype.name)


def test_check_properties_reports_paths_and_messages() -> None:
    assert check_properties("cmdb", "service", SERVICE) == []
    errors = dict(check_properties("cmdb", "service", {"tier": "1", "owner": "x", "colour": 1}))
    assert errors[("colour",)] == "unknown property 'colour'"
    assert "not of type" in errors[("tier",)]
    sla = {
        "service": "internet-banking",
        "customer": "retail",
        "objectives": [{"metric": "availability", "target": "high", "unit": "percent"}],
    }
    assert [p for p, _ in check_properties("cmdb", "sla", sla)] == [("objectives", "0", "target")]
    missing = check_properties("cmdb", "allocation", {"pool": "ops"})
    assert any("required" in message for _, message in missing)


def test_check_properties_reports_unknown_provider_and_type() -> None:
    assert check_properties("nope", "x", {}) == [
        ((), "unknown provider 'nope'; available: aws, cmdb, files, http, jsonstore"),
    ]
    [(path, message)] = check_properties("cmdb", "nope", {})
    assert path == ()
    assert "no resource type 'nope'" in message


@pytest.mark.parametrize("path", ["../x", "/etc/x", "a/../../x", "a//b", "./a", "a\\b", ""])
def test_files_schema_refuses_unsafe_paths(path: str) -> None:
    [(where, message)] = check_properties("files", "file", {"path": path, "content": ""})
    assert where == ("path",)
    assert "is not allowed" in message or "shorter" in message


# --- the contract, for each provider ---------------------------------------------------------


def _cases(tmp_path: Path) -> list[tuple[Provider, str, dict[str, Any], dict[str, Any]]]:
    context = ProviderContext(tmp_path, tmp_path / ".spo")
    return [
        (
            CmdbProvider(CmdbSettings(), context),
            "service",
            SERVICE,
            {**SERVICE, "tier": 2, "supportHours": "24x7"},
        ),
        (
            FilesProvider(FilesSettings(), context),
            "file",
            {"path": "services/ib.md", "content": "# Internet Banking\n"},
            {"path": "services/ib.md", "content": "# Internet Banking\ntier 2\n", "mode": "0600"},
        ),
    ]


def test_lifecycle_create_read_update_read_delete(tmp_path: Path) -> None:
    for provider, type_, first, second in _cases(tmp_path):
        created = provider.create(type_, "internet-banking", first)
        assert created.properties == first
        read = provider.read(type_, created.id)
        assert read is not None
        assert read.properties == first
        updated = provider.update(type_, created.id, "internet-banking", second)
        assert updated.id == created.id
        read = provider.read(type_, created.id)
        assert read is not None
        assert read.properties == second
        provider.delete(type_, created.id)
        assert provider.read(type_, created.id) is None
        provider.delete(type_, created.id)  # already gone: fine
        provider.close()


def test_create_twice_adopts_the_existing_object(tmp_path: Path) -> None:
    for provider, type_, first, second in _cases(tmp_path):
        one = provider.create(type_, "internet-banking", first)
        two = provider.create(type_, "internet-banking", second)
        assert two.id == one.id
        assert [o.properties for o in provider.list(type_)] == [second]
        provider.close()


def test_missing_objects(tmp_path: Path) -> None:
    for provider, type_, first, _ in _cases(tmp_path):
        assert provider.read(type_, "missing") is None
        assert provider.read_many(type_, ["missing"]) == {"missing": None}
        provider.delete(type_, "missing")
        with pytest.raises(ProviderError, match="not found"):
            provider.update(type_, "missing", "internet-banking", first)
        provider.close()


def test_unknown_type_is_refused(tmp_path: Path) -> None:
    for provider, _, first, _ in _cases(tmp_path):
        with pytest.raises(ProviderError, match="no resource type 'widget'"):
            provider.create("widget", "x", first)
        provider.close()


# --- cmdb ----------------------------------------------------------------------------------------


def test_cmdb_read_many_in_batches(cmdb: CmdbProvider) -> None:
    ids = [
        cmdb.create("service", f"svc-{i}", {"tier": 1 + i % 4, "owner": "team-a"}).id
        for i in range(2000)
    ]
    got = cmdb.read_many("service", [*ids, "missing", ids[0]])
    assert len(got) == 2001
    assert got["missing"] is None
    observed = got[ids[1234]]
    assert observed is not None
    assert observed.name == "svc-1234"
    assert observed.properties == {"tier": 3, "owner": "team-a"}
    assert len(cmdb.list("service")) == 2000
    assert cmdb.read_many("sla", ids[:3]) == dict.fromkeys(ids[:3])  # types do not mix


def test_cmdb_parallel_creates_from_ten_threads(cmdb: CmdbProvider) -> None:
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(100):
                cmdb.create("service", f"t{t}-s{i}", {"tier": 2, "owner": "team-a"})
                cmdb.create("service", f"shared-{i}", {"tier": 2, "owner": "team-a"})  # races
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cmdb._conn().execute("SELECT count(*), count(DISTINCT id) FROM ci").fetchone() == (
        1100,
        1100,
    )


def test_cmdb_refuses_invalid_properties(cmdb: CmdbProvider) -> None:
    with pytest.raises(ProviderError, match=r"cmdb\.service\.x: /tier: 9 is greater"):
        cmdb.create("service", "x", {"tier": 9, "owner": "team-a"})
    assert cmdb.list("service") == []


def test_cmdb_rename_to_a_taken_name_is_an_error(cmdb: CmdbProvider) -> None:
    a = cmdb.create("service", "a", SERVICE)
    cmdb.create("service", "b", SERVICE)
    with pytest.raises(ProviderError, match="already named 'b'"):
        cmdb.update("service", a.id, "b", SERVICE)
    renamed = cmdb.update("service", a.id, "c", SERVICE)
    assert [o.name for o in cmdb.list("service")] == ["b", "c"]
    assert renamed.id == a.id


def test_cmdb_locked_database_is_transient(tmp_path: Path) -> None:
    settings = CmdbSettings()
    provider = CmdbProvider(settings, ProviderContext(tmp_path, tmp_path / ".spo"))
    quick = CmdbProvider(settings, ProviderContext(tmp_path, tmp_path / ".spo"))
    quick._conn().execute("PRAGMA busy_timeout = 50")  # not 10 s: the test waits for it
    blocker = sqlite3.connect(provider.path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(TransientProviderError, match="locked"):
            quick.create("service", "x", SERVICE)
    finally:
        quick.close()
        blocker.execute("ROLLBACK")
        blocker.close()
        provider.close()


def test_cmdb_after_close_is_refused(cmdb: CmdbProvider) -> None:
    cmdb.close()
    with pytest.raises(ProviderError, match="closed"):
        cmdb.list("service")


# --- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["../x", "/etc/x", "a/../../x", "a//b", "a\\b"])
def test_files_refuses_paths_outside_the_directory(
    files: FilesProvider, tmp_path: Path, path: str
) -> None:
    with pytest.raises(ProviderError, match="refusing path"):
        files.create("file", "x", {"path": path, "content": "no"})
    with pytest.raises(ProviderError, match="refusing path"):
        files.read("file", path)
    assert not (tmp_path / "x").exists()


def test_files_refuses_a_symbolic_link_out(files: FilesProvider, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    files.root.mkdir(parents=True)
    (files.root / "link").symlink_to(outside)
    with pytest.raises(ProviderError, match="leads outside"):
        files.create("file", "x", {"path": "link/x", "content": "no"})
    assert list(outside.iterdir()) == []


def test_files_name_is_the_default_path(files: FilesProvider) -> None:
    observed = files.create("file", "readme", {"content": "hi\n"})
    assert observed.id == "readme"
    assert (files.root / "readme").read_text() == "hi\n"


def test_files_atomic_write_leaves_no_temp_files(files: FilesProvider) -> None:
    for i in range(20):
        files.create("file", "doc", {"path": "a/b/doc.txt", "content": f"version {i}\n"})
    names = sorted(p.name for p in files.root.rglob("*"))
    assert names == ["a", "b", "doc.txt"]
    assert (files.root / "a/b/doc.txt").read_text() == "version 19\n"


def test_files_mode_and_edit_by_hand_show_as_drift(files: FilesProvider) -> None:
    props = {"path": "secret.env", "content": "TOKEN=x\n", "mode": "0600"}
    created = files.create("file", "secret", props)
    target = files.root / "secret.env"
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert files.read("file", created.id) == created
    target.write_text("TOKEN=edited\n")
    drifted = files.read("file", created.id)
    assert drifted is not None
    assert drifted.properties["content"] == "TOKEN=edited\n"
    target.chmod(0o644)
    drifted = files.read("file", created.id)
    assert drifted is not None
    assert "mode" not in drifted.properties


def test_files_delete_removes_empty_parents_only(files: FilesProvider) -> None:
    a = files.create("file", "a", {"path": "x/y/a.txt", "content": "a"})
    b = files.create("file", "b", {"path": "x/b.txt", "content": "b"})
    files.delete("file", a.id)
    assert not (files.root / "x" / "y").exists()
    assert (files.root / "x" / "b.txt").is_file()
    files.delete("file", b.id)
    assert files.root.is_dir()
    assert list(files.root.iterdir()) == []


def test_files_update_moves_the_file(files: FilesProvider) -> None:
    old = files.create("file", "doc", {"path": "old/doc.md", "content": "x"})
    new = files.update("file", old.id, "doc", {"path": "new/doc.md", "content": "y"})
    assert new.id == "new/doc.md"
    assert files.read("file", old.id) is None
    assert not (files.root / "old").exists()


def test_files_list_walks_the_directory(files: FilesProvider) -> None:
    assert files.list("file") == []
    for path in ("b.txt", "a/c.txt", "a/b/d.txt"):
        files.create("file", "x", {"path": path, "content": path})
    (files.root / ".d.txt.abc.spo-tmp").write_text("left by a crash")
    assert [o.id for o in files.list("file")] == ["b.txt", "a/c.txt", "a/b/d.txt"]
    assert files.read_many("file", ["b.txt", "zz"])["zz"] is None


def test_files_parallel_writes(files: FilesProvider) -> None:
    def work(t: int) -> None:
        for i in range(30):
            files.create("file", "x", {"path": f"d{i % 3}/t{t}-{i}.txt", "content": str(i)})
            if i % 2:
                files.delete("file", f"d{i % 3}/t{t}-{i}.txt")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(files.list("file")) == 150
    assert not [p for p in files.root.rglob("*") if p.name.endswith(".spo-tmp")]


_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from spo_gitops.providers import ProviderContext
from spo_gitops.providers.files import FilesProvider, FilesSettings

def stall(fd):
    print("writing", flush=True)
    time.sleep(60)  # killed here, between write and rename

os.fsync = stall
root = Path(sys.argv[1])
FilesProvider(FilesSettings(), ProviderContext(root, root / ".spo")).create(
    "file", "docs/big.txt", {"content": "half"}
)
"""


def test_temporary_files_of_a_killed_write_are_removed_on_the_next_run(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        if writer.stdout is not None:
            writer.stdout.close()
    folder = tmp_path / ".spo" / "artifacts" / "docs"
    left = [p.name for p in folder.iterdir()]
    assert len(left) == 1 and left[0].startswith(".big.txt.") and left[0].endswith(".spo-tmp")
    # a write in progress in a live process (this one) is left alone
    live = folder / f".other.txt.abc123.{os.getpid()}.spo-tmp"
    live.write_text("in progress")
    provider = FilesProvider(FilesSettings(), ProviderContext(tmp_path, tmp_path / ".spo"))
    assert provider.removed_debris == [f"docs/{left[0]}"]
    assert [p.name for p in folder.iterdir()] == [live.name]
    assert provider.list("file") == []


def test_a_providers_parallelism_setting_bounds_its_actions_in_apply(tmp_path: Path) -> None:
    from spo_gitops.provision.apply import Executor
    from spo_gitops.provision.plan import plan
    from spo_gitops.provision.reconcile import type_lookup
    from spo_gitops.provision.resources import DesiredResource
    from spo_gitops.state.sqlite import SqliteState

    class Counting(CmdbProvider):
        def __init__(self, settings: CmdbSettings, root: Path) -> None:
            super().__init__(settings, ProviderContext(root, root / ".spo"))
            self.running = self.peak = 0
            self.guard = threading.Lock()
            self.gate = threading.Barrier(2, timeout=0.2)  # two at once meet here, or time out

        def create(self, type_: str, name: str, properties: Any) -> Observed:
            with self.guard:
                self.running += 1
                self.peak = max(self.peak, self.running)
            try:
                with contextlib.suppress(threading.BrokenBarrierError):
                    self.gate.wait()
                return super().create(type_, name, properties)
            finally:
                with self.guard:
                    self.running -= 1

    def apply(provider: Counting, root: Path) -> None:
        desired = [
            DesiredResource("cmdb", "service", f"s{i}", {"owner": "team-a", "tier": 2})
            for i in range(8)
        ]
        state = SqliteState(root / "state.db")
        the_plan = plan(desired, state.snapshot(), None, types=type_lookup(), commit=None)
        lock = state.lock("apply")
        try:
            apply_id = state.journal_begin(lock, plan="p", commit="", who="test")
            results = Executor(
                the_plan,
                {r.address: r for r in desired},
                state,
                lock,
                {"cmdb": provider},
                sensitive=lambda p, t: frozenset(),
                parallelism=8,
            ).run(apply_id, set())
        finally:
            state.release(lock)
        assert [r.outcome for r in results] == ["succeeded"] * 8

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = Counting(CmdbSettings.model_validate({"parallelism": 1}), tmp_path / "a")
    apply(one, tmp_path / "a")
    assert one.peak == 1
    free = Counting(CmdbSettings(), tmp_path / "b")
    apply(free, tmp_path / "b")
    assert free.peak >= 2
