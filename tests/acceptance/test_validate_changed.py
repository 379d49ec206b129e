"""``spo validate --changed-since REV`` on a real tmp git repository holding the reference catalog:
its findings equal those of a full run restricted to the files it touched, cold and warm."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import pytest

from spo_gitops.catalog.validate import catalog_files, validate
from spo_gitops.config import load_project
from spo_gitops.diagnostics import Diagnostic
from spo_gitops.review.changed import CACHE_DIR, CACHE_FILE, ChangedResult, validate_changed
from tests.gitrepo import commit, git, reference_repo
from tests.helpers import run_spo

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    return reference_repo(in_tmp)


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def key(d: Diagnostic) -> tuple[str, ...]:
    return tuple(str(v) for v in (d.file, d.line, d.column, d.code, d.message, d.entity, d.waived))


def same_as_full_run(root: Path) -> ChangedResult:
    """A changed-only run, asserted to find what a full run finds in the files it touched."""
    changed = validate_changed(load_project(root), "main", today=TODAY)
    full = validate(load_project(root), today=TODAY)
    touched = set(changed.files)
    expected = sorted(key(d) for d in full.findings.items if d.file in touched)
    assert sorted(key(d) for d in changed.findings.items) == expected
    return changed


def assert_same_as_full_run(root: Path) -> list[str]:
    return sorted(same_as_full_run(root).files)


def test_findings_equal_the_full_run_on_touched_files_cold_and_warm(repo: Path) -> None:
    # an SLA expires: the policy "live services have an active SLA" fails on its service
    edit(repo, "catalog/slas/mobile-banking-retail.yaml", "status: active", "status: expired")
    # a pool shrinks below what its provisioned consumers draw
    edit(repo, "catalog/pools/engineering-fte.yaml", "capacity: 260", "capacity: 20")
    # a service's SLA file is deleted
    (repo / "catalog/slas/network-branch.yaml").unlink()
    # a new, untracked file: a broken reference and a schema violation
    (repo / "catalog/services/new-thing.yaml").write_text(
        "apiVersion: spo/v1\nkind: ServiceModel\n"
        "metadata: {name: new-thing, version: 1.0.0, owner: team-digital}\n"
        "spec: {type: business, tier: 2, outcomes: [{name: x, measure: y}],"
        " dependsOn: [no-such-service]}\n",
        encoding="utf-8",
    )
    edit(repo, "catalog/services/network.yaml", "tier: ", "tier: 9  # was ")
    cold = assert_same_as_full_run(repo)
    assert (repo / CACHE_DIR / CACHE_FILE).is_file()
    assert git(repo, "status", "--porcelain", "--", CACHE_DIR) == ""  # it ignores itself
    warm = assert_same_as_full_run(repo)
    assert cold == warm
    assert "catalog/services/network.yaml" in warm  # referred to by the deleted SLA
    assert "catalog/services/mobile-banking.yaml" in warm
    # the network's agreement is gone: every service depending on the network is judged again
    # (readiness, backing), so is most of this small catalog; what nothing reaches is not
    assert len(warm) < len(catalog_files(load_project(repo)).files)
    assert "catalog/pools/workplace-licences.yaml" not in warm
    result = validate_changed(load_project(repo), "main", today=TODAY)
    assert result.cache_misses == 0 and result.cache_hits > 50
    codes = {d.code for d in result.findings.items}
    assert {"SPO302", "SPO204", "SPO504"} <= codes


def test_a_changed_policy_applies_to_everything(repo: Path) -> None:
    edit(repo, "policies/live-services.yaml", "severity: error", "severity: warning")
    assert_same_as_full_run(repo)
    assert_same_as_full_run(repo)


def test_a_changed_party_touches_what_it_owns(repo: Path) -> None:
    edit(repo, "catalog/parties/team-digital.yaml", "type: team", "type: supplier")
    touched = assert_same_as_full_run(repo)
    assert "catalog/services/internet-banking.yaml" in touched


def test_a_changed_party_beside_a_service_whose_owner_is_no_name(repo: Path) -> None:
    """An owner that is a list (a schema finding) is no Party's name: the service is not among
    those the changed Party owns, and the run reports the finding instead of failing."""
    edit(repo, "catalog/parties/team-digital.yaml", "type: team", "type: supplier")
    (repo / "catalog/services/new-thing.yaml").write_text(
        "apiVersion: spo/v1\nkind: ServiceModel\n"
        "metadata: {name: new-thing, version: 1.0.0, owner: [team-digital, team-data]}\n"
        "spec: {type: business, tier: 2, outcomes: [{name: x, measure: y}]}\n",
        encoding="utf-8",
    )
    result = same_as_full_run(repo)
    assert any(d.file == "catalog/services/new-thing.yaml" for d in result.findings.items)


def warm_run(root: Path) -> tuple[int, int]:
    """Cache (hits, misses) of a changed-only run that matched the full run."""
    result = same_as_full_run(root)
    return result.cache_hits, result.cache_misses


def test_a_stale_or_foreign_cache_is_never_trusted(repo: Path) -> None:
    edit(repo, "catalog/slas/mobile-banking-retail.yaml", "status: active", "status: expired")
    assert_same_as_full_run(repo)
    cache = repo / CACHE_DIR / CACHE_FILE
    good = cache.read_bytes()
    body = len(good) // 2
    spoilt = {
        "truncated": good[: len(good) - 100],
        "cut in its header": good[:20],
        "empty": b"",
        # one byte of the body changed, same size: the checksum no longer matches
        "corrupt": good[:body] + bytes([good[body] ^ 0x55]) + good[body + 1 :],
        # another version of the toolkit (or its schemas, limits): another fingerprint
        "foreign": good[:10] + b"0" * 64 + good[74:],
        "JSON of the earlier format": b'{"fingerprint": "x", "files": 3}',
        "not a cache": b"not json",
    }
    for what, content in spoilt.items():
        cache.write_bytes(content)
        hits, misses = warm_run(repo)  # no traceback, the same findings
        assert hits == 0 and misses > 50, what  # nothing was taken from it
        assert warm_run(repo) == (misses, 0), what  # and it was written afresh
    # the cache works again: findings equal a full run, every unchanged file from the cache
    assert warm_run(repo)[1] == 0


def test_the_cache_misses_when_a_library_is_installed_upgraded_or_removed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a document's data is and whether it is valid is decided by the libraries too (the
    YAML parsers, the schema checker, pydantic): after any install, upgrade or removal on the
    import path the cache is not replayed."""
    from spo_gitops.catalog import toolkit

    edit(repo, "catalog/slas/mobile-banking-retail.yaml", "status: active", "status: expired")
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    steps = [
        ("as installed", None),
        ("a library installed", "spo_sample_lib-1.0.dist-info"),
        ("that library upgraded", "spo_sample_lib-1.1.dist-info"),
        ("that library removed", None),
    ]
    for what, folder in steps:
        for old in site.iterdir():
            old.rmdir()
        if folder:
            (site / folder).mkdir()
        toolkit.digest.cache_clear()  # a new process would read the import path afresh
        hits, misses = warm_run(repo)
        if what != "as installed":
            assert hits == 0 and misses > 50, what
        assert warm_run(repo)[1] == 0, what  # the same libraries again: all from the cache


def test_a_cache_file_someone_else_could_write_is_not_read(repo: Path) -> None:
    edit(repo, "catalog/slas/mobile-banking-retail.yaml", "status: active", "status: expired")
    assert_same_as_full_run(repo)
    cache = repo / CACHE_DIR / CACHE_FILE
    hits, misses = warm_run(repo)
    assert misses == 0 and hits > 50
    cache.chmod(0o666)  # writable by anyone: never read
    assert warm_run(repo) == (0, hits)
    assert cache.stat().st_mode & 0o022 == 0  # rewritten, as this user's own
    assert warm_run(repo) == (hits, 0)
    if os.geteuid() == 0:  # only root can give a file to another user
        os.chown(cache, 12345, 12345)
        assert warm_run(repo) == (0, hits)
    link = repo / CACHE_DIR / "elsewhere"
    cache.rename(link)
    cache.symlink_to("/dev/zero")  # not a regular file: never read
    assert warm_run(repo) == (0, hits)
    assert not cache.is_symlink() and cache.is_file()  # replaced, not written through
    assert warm_run(repo) == (hits, 0)
    cache.unlink()
    os.mkfifo(cache)  # writing into it would wait for a reader for ever
    assert warm_run(repo) == (0, hits)
    assert cache.is_file()


def test_an_edit_that_keeps_size_and_mtime_is_seen(repo: Path) -> None:
    """What changed is git's to tell, by content: a same-size edit with the old mtime put back
    still counts, and a file touched without a change of content is not changed."""
    assert_same_as_full_run(repo)  # fills the cache
    sla = repo / "catalog/slas/mobile-banking-retail.yaml"
    before = sla.stat()
    text = sla.read_text(encoding="utf-8")
    assert "service: mobile-banking\n" in text
    # git tells a change by size, mtime, inode and ctime (whole seconds in its index), then by
    # content: the edit comes in a later second than the checkout, as any real edit does
    time.sleep(1.05 - time.time() % 1)
    sla.write_text(text.replace("service: mobile-banking\n", "service: mobile-bankinh\n", 1))
    os.utime(sla, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert sla.stat().st_size == before.st_size
    result = validate_changed(load_project(repo), "main", today=TODAY)
    assert result.changed == ["catalog/slas/mobile-banking-retail.yaml"]
    assert any(
        d.code == "SPO302" and d.file == "catalog/slas/mobile-banking-retail.yaml"
        for d in result.findings.items
    )
    assert_same_as_full_run(repo)
    sla.write_text(text, encoding="utf-8")  # back as it was, with a new mtime
    os.utime(sla, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    other = repo / "catalog/pools/engineering-fte.yaml"
    os.utime(other)  # touched, not changed
    result = validate_changed(load_project(repo), "main", today=TODAY)
    assert result.changed == [] and result.findings.items == []
    assert result.cache_misses == 0


def test_an_unchanged_file_with_findings_of_its_own_is_reported_when_touched(repo: Path) -> None:
    """A touched file taken from the cache has its own findings reported, warm as cold: an
    agreement that ends before it starts, and a provisioning entry its provider rejects (which
    depends on the providers installed and their settings, not on the file alone)."""
    edit(repo, "catalog/slas/payments-hub-corporate.yaml", "end: 2027-12-31", "end: 2025-12-31")
    edit(
        repo,
        "catalog/services/payments-hub.yaml",
        "path: runbooks/",
        "colour: red\n        path: runbooks/",
    )
    commit(repo, "broken on main")
    assert_same_as_full_run(repo)  # nothing changed: fills the cache
    edit(repo, "catalog/portfolio/payments-hub.yaml", "sponsor:", "sponsor:  ")
    for run in ("cold", "warm", "warm again"):
        if run == "cold":
            shutil.rmtree(repo / CACHE_DIR)
        result = same_as_full_run(repo)
        found = {(d.file, d.code) for d in result.findings.items}
        assert ("catalog/slas/payments-hub-corporate.yaml", "SPO405") in found, run
        assert ("catalog/services/payments-hub.yaml", "SPO708") in found, run


def test_discovery_skips_hidden_files_other_suffixes_and_policy_tests(repo: Path) -> None:
    (repo / "catalog/.hidden").mkdir()
    (repo / "catalog/.hidden/x.yaml").write_text("a: 1\n")
    (repo / "catalog/services/.dot.yaml").write_text("a: 1\n")
    (repo / "catalog/services/notes.txt").write_text("a: 1\n")
    (repo / "catalog/services/extra.yml").write_text("a: 1\n")
    project = load_project(repo)
    names = [f.display for f in catalog_files(project).files]
    assert "catalog/services/extra.yml" in names
    assert not [n for n in names if "/." in n or n.endswith(".txt") or "/tests/" in n]


def test_cli_reports_the_scope_and_exit_code(repo: Path) -> None:
    r = run_spo("validate", "--changed-since", "main")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "0 file(s) changed since main; validated 0 touched file(s)" in r.stderr
    edit(repo, "catalog/slas/network-branch.yaml", "service: network", "service: no-such")
    r = run_spo("validate", "--changed-since", "main", "--format", "json")
    assert r.exit_code == 1
    assert "SPO302" in r.stdout
    assert "1 file(s) changed since main" in r.stderr
    assert run_spo("validate", "--changed-since", "nope").exit_code == 1
    assert run_spo("validate", "--changed-since", "main", "catalog").exit_code == 64


def test_a_changed_spo_yaml_validates_everything(repo: Path) -> None:
    edit(repo, "spo.yaml", "approvedRef: main", "approvedRef: main  # edited")
    result = validate_changed(load_project(repo), "main", today=TODAY)
    assert result.full
    assert len(result.files) == len(catalog_files(load_project(repo)).files)


def _names_in(node: object) -> set[str]:
    """Every string a YAML document holds, keys and values."""
    if isinstance(node, dict):
        return {str(k) for k in node} | {n for v in node.values() for n in _names_in(v)}
    if isinstance(node, list):
        return {n for v in node for n in _names_in(v)}
    return {node} if isinstance(node, str) else set()


def test_a_warm_run_decodes_only_the_neighbourhood_of_the_change(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog's other documents stay undecoded in the cache: catalog-wide checks read their
    facts. Only the files touched, the files that name an entity of a touched file (what a
    policy on a touched entity looks up: a service's SLAs and SPIs) and the policies (each is
    compiled) may be decoded, whatever a full run's checks read of every document."""
    import yaml

    from spo_gitops.review import changed

    edit(repo, "catalog/pools/workplace-licences.yaml", "capacity: ", "capacity: 1")
    validate_changed(load_project(repo), "main", today=TODAY)  # fills the cache
    decoded: set[str] = set()
    real = changed.CachedDocument.data.fget
    assert real is not None

    def data(doc: changed.CachedDocument) -> dict[str, object]:
        if doc.valid:
            decoded.add(doc.file)
        return real(doc)

    monkeypatch.setattr(
        changed.CachedDocument, "data", property(data, changed.CachedDocument.data.fset)
    )
    warm = same_as_full_run(repo)
    assert warm.cache_misses == 0
    # the neighbourhood, worked out from the files' text alone
    names_of: dict[str, set[str]] = {}
    defined: dict[str, set[str]] = {}
    for path in sorted((repo / "catalog").rglob("*.yaml")):
        rel = path.relative_to(repo).as_posix()
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        names_of[rel] = {n for d in docs for n in _names_in(d)}
        defined[rel] = {d["metadata"]["name"] for d in docs}
    touched = set(warm.files)
    entities = {n for rel in touched if rel in defined for n in defined[rel]}
    neighbours = {rel for rel, names in names_of.items() if names & entities}
    assert decoded, "the touched documents are read"
    policies = {p.relative_to(repo).as_posix() for p in (repo / "policies").glob("*.yaml")}
    assert decoded <= touched | neighbours | policies, sorted(decoded - touched - neighbours)
    services = [rel for rel in names_of if rel.startswith("catalog/services/")]
    assert len(decoded) < len(names_of) / 2
    assert not set(services) <= decoded
