"""Reading files of a revision (spo_gitops/git.py): one file, many at once, by blob id; each
answer checked against the file as it was committed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spo_gitops.git import GitError, init_with_commit, repository
from tests.gitrepo import commit, git, init_repo, write

FILES = {
    "catalog/a.yaml": "a: 1\n",
    "catalog/with space.yaml": "b: 2\n",
    "catalog/sub/c.yaml": "c: 3\n" * 1000,
    "catalog/empty.yaml": "",
    "catalog/unicode-é.yaml": "name: Café\n",
}


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    root.mkdir()
    init_repo(root)
    write(root, FILES)
    os.symlink("a.yaml", root / "catalog" / "link.yaml")
    commit(root, "files")
    write(root, {"catalog/a.yaml": "a: changed\n"})  # the working tree differs from HEAD
    return root


def test_read_and_read_many_give_the_committed_contents(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    asked = [*FILES, "catalog/link.yaml", "catalog/missing.yaml", "catalog/sub", "bad\nname"]
    expected = {p: c.encode() for p, c in FILES.items()}
    expected |= {"catalog/link.yaml": b"a.yaml"}  # a symlink's blob is its target
    expected |= dict.fromkeys(["catalog/missing.yaml", "catalog/sub", "bad\nname"])
    with repository(root) as repo:
        assert {p: repo.read("HEAD", p) for p in asked} == expected
        assert repo.read_many("HEAD", asked) == expected
        assert repo.read_many("no-such-rev", ["catalog/a.yaml"]) == {"catalog/a.yaml": None}
        blob = git(root, "rev-parse", "HEAD:catalog/a.yaml").strip()
        assert repo.read_blob(blob) == b"a: 1\n"
        tree = git(root, "rev-parse", "HEAD:catalog").strip()
        assert repo.read_blob(tree) is None  # not a blob
        assert repo.read_blob("0" * 40) is None
        assert repo.read_blob("HEAD:catalog/a.yaml") is None  # an id, not a name


def test_a_cat_file_process_that_died_is_started_again_and_closed_at_the_end(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path)
    with repository(root) as repo:
        assert repo.read("HEAD", "catalog/a.yaml") == b"a: 1\n"
        batch = repo._batch
        assert batch is not None and batch.poll() is None
        batch.kill()  # killed between two reads (out of memory, say)
        batch.wait()
        assert repo.read("HEAD", "catalog/with space.yaml") == b"b: 2\n"
        running = repo._batch
        assert running is not None and running is not batch
    assert running.poll() is not None  # leaving the repository ends its process
    assert repo._batch is None


def test_the_repository_is_found_from_a_folder_inside_it_and_never_from_outside(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path)
    with repository(root / "catalog" / "sub") as repo:
        assert repo.root == root.resolve()
        assert repo.relative(root / "catalog") == "catalog"
    outside = tmp_path / "plain"
    outside.mkdir()
    for where in (outside, tmp_path / "missing"):
        with pytest.raises(GitError, match="not inside a git repository"), repository(where):
            pass
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    with pytest.raises(GitError, match="bare repository"), repository(bare):
        pass


def test_inherited_git_variables_do_not_redirect_the_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    init_repo(other)
    write(other, {"catalog/a.yaml": "a: other\n"})
    commit(other, "other")
    # what a hook of the other repository would export
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    with repository(root) as repo:
        assert repo.root == root.resolve()
        assert repo.read("HEAD", "catalog/a.yaml") == b"a: 1\n"
        assert repo.read_many("HEAD", ["catalog/a.yaml"]) == {"catalog/a.yaml": b"a: 1\n"}
        assert repo.changed_files("HEAD") == ["catalog/a.yaml"]


def test_a_repository_is_found_from_any_folder_inside_it(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    with repository(root / "catalog" / "sub") as repo:
        assert repo.root == root.resolve()
        assert repo.resolve("HEAD") == git(root, "rev-parse", "HEAD").strip()
        # what git prints, as git prints it (no trailing line break)
        assert repo.changed_files("HEAD") == ["catalog/a.yaml"]
        assert repo._git("log", "-1", "--format=%s") == "files"
        with pytest.raises(GitError, match=r"git cat-file failed: .*no-such-rev"):
            repo._git("cat-file", "-t", "no-such-rev")


def test_init_with_commit_makes_main_with_everything(tmp_path: Path) -> None:
    files = {"spo.yaml": "apiVersion: spo/v1\n", "catalog/a.yaml": "a: 1\n"}
    anonymous = tmp_path / "anonymous"
    write(anonymous, files)
    assert init_with_commit(anonymous, "first") is None  # no identity: staged, not committed
    assert git(anonymous, "ls-files").split() == sorted(files)
    assert git(anonymous, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    home = Path(os.environ["HOME"])
    (home / ".gitconfig").write_text("[user]\n\tname = T\n\temail = t@example.com\n")
    root = tmp_path / "new"
    write(root, files)
    commit_id = init_with_commit(root, "first")
    assert commit_id is not None
    assert git(root, "rev-parse", "main").strip() == commit_id
    assert git(root, "ls-tree", "-r", "--name-only", "main").split() == sorted(files)
