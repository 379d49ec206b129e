"""What a partitioned runner loads and compiles (provision/scope.py): the catalog is validated
once per content and the record shared; only what the partition needs is compiled; the result is
the full reconcile's, restricted to the partition; an error anywhere still refuses it."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.catalog import files, toolkit
from spo_gitops.config import load_project
from spo_gitops.providers import registry
from spo_gitops.provision import scope
from spo_gitops.provision.partition import parse_partition
from spo_gitops.provision.plan import Plan
from spo_gitops.provision.reconcile import CatalogInvalid, make_plan
from spo_gitops.state import open_state
from spo_gitops.testing.catalogs import write_provisioned_catalog
from tests.acceptance.test_partitions import UNAPPROVED_OK
from tests.helpers import run_spo
from tests.state_suite import REPO

SERVICES = 30
CHAIN = 4  # service i depends on service i-1 unless i % CHAIN == 0


def _shared(name: str, domain: str) -> str:
    """A service that also provisions the party both such services render identically."""
    return f"""apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: {name}, version: 1.0.0, owner: team-a, labels: {{domain: {domain}}}}}
spec:
  type: technical
  tier: 3
  outcomes: [{{name: keeps running}}]
  provisioning:
    - provider: cmdb
      type: service
      properties: {{owner: team-a, tier: 3, title: {name}}}
    - provider: cmdb
      type: party
      name: shared-desk
      properties: {{type: team, title: Shared desk}}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec: {{service: {name}, stage: live}}
"""


def write_catalog(root: Path) -> None:
    """30 labelled services in dependency chains, each with a cmdb service, an SLA and a page
    (files provider), plus two services of different domains rendering one shared party: the
    first of them in (kind, name) order, aaa-lend, is where that party comes from."""
    write_provisioned_catalog(
        root,
        SERVICES,
        labels=True,
        chain=CHAIN,
        extras=("sla", "page"),
        config=UNAPPROVED_OK,
    )
    (root / "catalog" / "aaa-lend.yaml").write_text(_shared("aaa-lend", "lending"))
    (root / "catalog" / "zzz-pay.yaml").write_text(_shared("zzz-pay", "payments"))


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    write_catalog(root)
    monkeypatch.chdir(root)
    return root


Row = tuple[str, str, str | None, tuple[str, ...], str | None]


def _rows(plan: Plan) -> list[Row]:
    return sorted(
        (a.address, a.action, a.after_hash, tuple(a.depends_on), a.entity) for a in plan.actions
    )


def _plan(root: Path, key: str | None) -> list[Row]:
    plan, _ = make_plan(load_project(root), partition=parse_partition(key) if key else None)
    return _rows(plan)


def _shard(address: str, count: int) -> int:  # the rule restated: sha256 of the address mod N
    return int(hashlib.sha256(address.encode()).hexdigest()[:16], 16) % count


def _domain(entity: str | None) -> str:  # the generator's rule: every third service is payments
    name = (entity or "").split(":", 1)[1]
    if name in ("aaa-lend", "zzz-pay"):
        return "lending" if name == "aaa-lend" else "payments"
    return "payments" if int(name.rsplit("-", 1)[1]) % 3 == 0 else "lending"


def test_partitioned_plans_are_the_full_plan_restricted(project_dir: Path) -> None:
    full = _plan(project_dir, None)  # unpartitioned: the whole catalog validated and compiled
    assert len(full) == 3 * SERVICES + 3  # + 2 services and one shared party
    for count in (2, 3):
        shards = [_plan(project_dir, f"shard:{i}/{count}") for i in range(count)]
        for i, rows in enumerate(shards):
            assert rows == [r for r in full if _shard(r[0], count) == i]
        assert sorted(r for rows in shards for r in rows) == full
    for domain in ("payments", "lending"):
        assert _plan(project_dir, f"label:domain={domain}") == [
            r for r in full if _domain(r[4]) == domain
        ]
    party = next(r for r in full if r[0] == "cmdb.party.shared-desk")
    assert party[4] == "ServiceModel:aaa-lend"  # the first producer, in every partition
    assert "cmdb.party.shared-desk" not in {
        r[0] for r in _plan(project_dir, "label:domain=payments")
    }
    assert _plan(project_dir, "provider:files") == [r for r in full if r[0].startswith("files.")]
    assert _plan(project_dir, "provider:files") and _plan(project_dir, "provider:cmdb")


def test_a_partition_compiles_only_what_it_needs(project_dir: Path) -> None:
    project = load_project(project_dir)
    result, _ = scope.validated_catalog(project)
    docs = scope.needed(
        project, result.documents, result.index, parse_partition("label:domain=payments")
    )
    # by hand: the payments services (i % 3 == 0) and, down their chains, what they depend on;
    # zzz-pay, and aaa-lend for the party they both render
    expected = {"zzz-pay", "aaa-lend"}
    for i in range(0, SERVICES, 3):
        j = i
        while True:
            expected.add(f"svc-{j:04d}")
            if j % CHAIN == 0:
                break
            j -= 1
    assert sorted(d.name for d in docs) == sorted(expected)
    assert {d.kind for d in docs} == {"ServiceModel"}  # entries, parties: read, not compiled
    assert len(expected) < SERVICES  # it is a part


def test_with_blueprints_every_provisioned_entity_is_compiled(project_dir: Path) -> None:
    (project_dir / "blueprints").mkdir()
    (project_dir / "blueprints" / "Party.yaml.j2").write_text(
        "- provider: cmdb\n  type: party\n  properties: {type: {{ spec.type }}}\n"
    )
    full = _plan(project_dir, None)
    assert "cmdb.party.team-a" in {r[0] for r in full}  # what the blueprint renders
    shards = [_plan(project_dir, f"shard:{i}/2") for i in range(2)]
    assert sorted(r for rows in shards for r in rows) == full
    project = load_project(project_dir)
    result, _ = scope.validated_catalog(project)
    docs = scope.needed(project, result.documents, result.index, parse_partition("shard:0/2"))
    assert len(docs) == 2 * (SERVICES + 2) + 2  # the services, their entries, the two parties


def test_the_record_is_keyed_by_everything_validation_reads(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(project_dir)
    first, from_record = scope.validated_catalog(project)
    assert not from_record and (project_dir / ".spo" / "validated.bin").is_file()

    def no_validation(*_: object, **__: object) -> None:
        raise AssertionError("validated again")

    monkeypatch.setattr(scope, "validate", no_validation)
    again, from_record = scope.validated_catalog(project)
    assert from_record
    assert [(d.file, d.index, d.line, d.data) for d in again.documents] == [
        (d.file, d.index, d.line, d.data) for d in first.documents
    ]

    changes: list[Callable[[], object]] = [
        lambda: (project_dir / "catalog" / "svc-0007.yaml").write_text(
            (project_dir / "catalog" / "svc-0007.yaml").read_text() + "# a comment\n"
        ),
        lambda: (project_dir / "catalog" / "new.yaml").write_text("apiVersion: spo/v1\n"),
        lambda: (project_dir / "spo.yaml").write_text(
            (project_dir / "spo.yaml").read_text() + "# a comment\n"
        ),
        lambda: monkeypatch.setenv("SPO_VALIDATION_DATE", "2031-01-01"),
    ]
    for change in changes:
        change()
        with pytest.raises(AssertionError, match="validated again"):
            scope.validated_catalog(load_project(project_dir))


def _edit_after_validating(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Callable[..., Any]]:
    """Make the next validation edit a catalog file once it has read it: (the file, its content
    as validated, the real validation, to put back)."""
    target = project_dir / "catalog" / "svc-0007.yaml"
    before = target.read_text()
    real = scope.validate

    def edited_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        target.write_text(before + "# edited meanwhile\n")
        return result

    monkeypatch.setattr(scope, "validate", edited_meanwhile)
    return target, before, real


def test_a_file_changed_while_it_is_validated_is_recorded_as_validated(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is keyed by the bytes the validation read, file by file: an edit made while
    the catalog is validated (after the file was read) leaves a record of the content
    validated, which a runner reading the edited file does not take."""
    target, before, real = _edit_after_validating(project_dir, monkeypatch)
    project = load_project(project_dir)
    first, from_record = scope.validated_catalog(project)
    assert not from_record and first.ok
    monkeypatch.setattr(scope, "validate", real)
    # the file as edited is not what was recorded: validated again (and recorded as edited)
    assert not scope.validated_catalog(load_project(project_dir))[1]
    assert scope.validated_catalog(load_project(project_dir))[1]
    # back to the content validated first: the record of it was not the edited one
    target.write_text(before)
    assert not scope.validated_catalog(load_project(project_dir))[1]


def test_the_record_holds_the_content_validated_even_when_a_file_changed_after(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner that validated while a file was edited after being read still records what it
    validated (under the key of that content): a runner on that content takes it."""
    target, before, _real = _edit_after_validating(project_dir, monkeypatch)
    assert not scope.validated_catalog(load_project(project_dir))[1]
    monkeypatch.setattr(scope, "validate", lambda *_a, **_k: pytest.fail("validated again"))
    target.write_text(before)  # the content that was validated
    again, from_record = scope.validated_catalog(load_project(project_dir))
    assert from_record and again.index.get("ServiceModel", "svc-0007") is not None


def test_without_a_record_the_catalog_is_read_once(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no record to compare with, the runner validates at once and keys its record by the
    bytes it validated: the files are not read a second (or third) time to hash them."""
    real = scope._content_digest
    monkeypatch.setattr(scope, "_content_digest", lambda f: pytest.fail(f"{f.display} re-read"))
    assert not scope.validated_catalog(load_project(project_dir))[1]
    monkeypatch.setattr(scope, "_content_digest", real)
    assert scope.validated_catalog(load_project(project_dir))[1]  # and the record is good


def test_the_record_is_not_replayed_by_other_libraries(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another version of a library first on the import path (here the YAML 1.2 parser of the
    plain path), as an upgrade makes a new process find it: the runner validates again."""
    project = load_project(project_dir)
    assert not scope.validated_catalog(project)[1]
    assert scope.validated_catalog(project)[1]  # the record, while nothing changed
    site = tmp_path / "site"
    (site / "yaml_rs-9.9.9.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    toolkit.digest.cache_clear()  # a new process reads the import path afresh
    assert not scope.validated_catalog(project)[1]
    assert scope.validated_catalog(project)[1]  # recorded again, for these libraries


def test_an_error_in_an_unrelated_file_refuses_every_partition(project_dir: Path) -> None:
    project = load_project(project_dir)
    scope.validated_catalog(project)  # a record of the valid catalog exists
    lending = project_dir / "catalog" / "svc-0001.yaml"  # a lending service, in no shard's way
    broken = {
        "syntax": lending.read_text().replace("tier: 3\n", "tier: [3\n", 1),
        "reference": lending.read_text().replace("owner: team-a", "owner: team-x", 1),
    }
    for what, text in broken.items():
        lending.write_text(text)
        for key in ("label:domain=payments", "shard:0/2", "shard:1/2"):
            with pytest.raises(CatalogInvalid) as refused:
                make_plan(load_project(project_dir), partition=parse_partition(key))
            files = {d.file for d in refused.value.diagnostics if d.severity == "error"}
            assert files == {"catalog/svc-0001.yaml"}, what
    # the record is still that of the valid catalog: a runner never takes the broken files' data
    project = load_project(project_dir)
    key = scope.catalog_key(project, scope.files.worktree(project))
    assert scope._read_record(project, key) is None
    record = (project_dir / ".spo" / "validated.bin").read_bytes()
    assert b"team-x" not in record and b"team-a" in record


class _Tagged(str):
    """Data that is not plain: marshal refuses it."""


def test_the_record_gives_back_what_was_validated_or_is_not_written(project_dir: Path) -> None:
    project = load_project(project_dir)
    result, _ = scope.validated_catalog(project)
    record = project_dir / ".spo" / "validated.bin"
    record.unlink()
    (project_dir / ".spo" / "validated.json").write_text("{}")  # an earlier version's record
    doc = result.documents[0]
    doc.data = {**doc.data, "spec": {1: "an integer key", "n": 2**70, "x": 0.1}}
    assert scope._write_record(project, "key", result.documents)
    assert not (project_dir / ".spo" / "validated.json").exists()
    back = scope._read_record(project, "key")
    assert back is not None and back[0][4]["spec"] == {1: "an integer key", "n": 2**70, "x": 0.1}
    assert scope._read_record(project, "another key") is None
    record.write_bytes(record.read_bytes()[:-1])  # cut short
    assert scope._read_record(project, "key") is None
    record.unlink()
    doc.data = {**doc.data, "spec": {"name": _Tagged("x")}}
    assert not scope._write_record(project, "key", result.documents)
    assert not record.exists()


def test_a_record_someone_else_could_have_written_is_not_read(project_dir: Path) -> None:
    project = load_project(project_dir)
    scope.validated_catalog(project)
    key = scope.catalog_key(project, files.worktree(project))
    record = project_dir / ".spo" / "validated.bin"
    assert scope._read_record(project, key) is not None
    record.chmod(0o666)  # writable by others: it may have been planted
    assert scope._read_record(project, key) is None
    record.chmod(0o644)
    assert scope._read_record(project, key) is not None
    record.unlink()
    os.mkfifo(record)  # a FIFO in its place is not waited on
    assert scope._read_record(project, key) is None


def test_a_runner_waits_for_the_record_of_the_runner_validating(project_dir: Path) -> None:
    """While one runner validates (holding .spo/validated.lock), another waits, then takes the
    documents from the record instead of validating: shown by a record whose data differs from
    the files (written here while holding the lock), which only a reader of the record sees."""
    project = load_project(project_dir)
    result, _ = scope.validated_catalog(project)
    toolkit.digest.cache_clear()  # the toolkit as the runner below will find it
    key = scope.catalog_key(project, files.worktree(project))
    (project_dir / ".spo" / "validated.bin").unlink()
    target = next(d for d in result.documents if d.name == "svc-0003" and d.kind == "ServiceModel")
    target.data["metadata"]["title"] = "from the record"
    code = (
        "from pathlib import Path\n"
        "from spo_gitops.config import load_project\n"
        "from spo_gitops.provision.scope import validated_catalog\n"
        "result, from_record = validated_catalog(load_project(Path.cwd()))\n"
        "doc = result.index.get('ServiceModel', 'svc-0003')\n"
        "print(from_record, doc.data['metadata'].get('title'))\n"
    )
    fd = os.open(project_dir / ".spo" / "validated.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # this test is the runner that validates
        runner = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=project_dir,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert scope._write_record(project, key, result.documents)
    finally:
        os.close(fd)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert out.strip() == "True from the record"


def _converged(root: Path) -> tuple[dict[str, Any], dict[tuple[str, str], Any], int]:
    """State (address -> what was applied) and the cmdb's objects, ids left out; the serial."""
    project = load_project(root)
    state = open_state(project)
    try:
        snap = state.snapshot()
    finally:
        state.close()
    resources = {
        a: (r.hash, r.properties, tuple(r.depends_on), r.entity) for a, r in snap.resources.items()
    }
    cmdb = registry.configure(project, ["cmdb"])["cmdb"]
    try:
        objects = {
            (t, o.name): o.properties for t in ("service", "sla", "party") for o in cmdb.list(t)
        }
    finally:
        cmdb.close()
    return resources, objects, snap.serial


def test_partitioned_runs_together_equal_one_full_run(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = tmp_path / "alone"
    shutil.copytree(project_dir, alone)
    monkeypatch.chdir(alone)
    assert run_spo("reconcile", "--auto-approve", "--allow-unapproved").exit_code == 0
    expected = _converged(alone)

    monkeypatch.chdir(project_dir)
    saved = run_spo("plan", "--partition", "shard:0/3", "-o", "a.plan.json")
    assert saved.exit_code == 0, saved.stderr
    applied = run_spo("apply", "a.plan.json", "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    for i in (1, 2):
        done = run_spo(
            "reconcile", "--partition", f"shard:{i}/3", "--auto-approve", "--allow-unapproved"
        )
        assert done.exit_code == 0, done.stderr
    got = _converged(project_dir)
    assert got[0] == expected[0]  # the same state, resource by resource
    assert got[1] == expected[1] and len(got[1]) == 2 * SERVICES + 3  # one object per address
    assert got[2] == expected[2] == len(expected[0])  # one serial per write
    assert run_spo("plan", "--detailed-exitcode").exit_code == 0
