"""Reading files of a revision (spo_gitops/git.py): one file, many at once, by blob id; each
answer checked against the file as it was committed."""

from __future__ import annotations

import os
from pathlib import Path

from spo_gitops.git import repository
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
