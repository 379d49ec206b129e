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


def test_outside_a_repository_or_in_a_bare_one_is_an_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="not inside a git repository"), repository(plain):
        pass
    with pytest.raises(GitError, match="not inside a git repository"), repository(tmp_path / "x"):
        pass
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    with pytest.raises(GitError, match="bare repository"), repository(bare):
        pass


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
