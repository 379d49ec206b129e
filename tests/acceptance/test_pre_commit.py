"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit against a catalog repository.

The hook repository is a committed snapshot of this working tree (the package and the hooks
file), so what is tested is what a catalog team gets at that rev: pre-commit clones it and
pip-installs it into its own environment, then runs the hooks in the catalog repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spo_gitops.git import no_git_env
from tests.gitrepo import commit, git, make_repo

REPO = Path(__file__).resolve().parents[2]
_PIP_CONFIG = Path(os.path.expanduser("~/.config/pip/pip.conf"))  # the real home's (the index)
HOOKS = ("spo-validate", "spo-codeowners", "spo-schema-drift")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(
        REPO / "spo_gitops", root / "spo_gitops", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "add", "-A")
    git(
        root,
        *("-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"),
        *("commit", "-q", "-m", "snapshot"),
    )
    return root, git(root, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")  # one hook environment for the module


def pre_commit(catalog: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = no_git_env()
    env["PRE_COMMIT_HOME"] = str(home)
    env["PRE_COMMIT_COLOR"] = "never"
    if _PIP_CONFIG.is_file() and "PIP_CONFIG_FILE" not in env:
        env["PIP_CONFIG_FILE"] = str(_PIP_CONFIG)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *args],
        cwd=catalog,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


@pytest.fixture
def catalog(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    """A committed catalog with its CODEOWNERS and schemas, and the hooks configured."""
    (tmp_path / "catalog-repo").mkdir()
    root = make_repo(tmp_path / "catalog-repo")
    spo = [sys.executable, "-m", "spo_gitops.cli.main"]
    for argv in (["codeowners"], ["schema", "export"]):
        subprocess.run([*spo, *argv], cwd=root, check=True, capture_output=True, env=no_git_env())
    path, rev = hook_repo
    hooks = "".join(f"      - id: {h}\n" for h in HOOKS)
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {path}\n    rev: {rev}\n    hooks:\n{hooks}", encoding="utf-8"
    )
    commit(root, "hooks")
    return root


def test_a_clean_catalog_passes_every_hook(catalog: Path, pre_commit_home: Path) -> None:
    done = pre_commit(catalog, pre_commit_home, "--all-files")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    for name in ("spo validate", "spo codeowners --check", "spo schema export --check"):
        line = next(ln for ln in done.stdout.splitlines() if ln.startswith(name))
        assert line.endswith("Passed"), line


def test_a_broken_file_and_a_stale_codeowners_fail(catalog: Path, pre_commit_home: Path) -> None:
    banking = catalog / "catalog/services/banking.yaml"
    # a dependency on a service that does not exist, and a new owner: CODEOWNERS is stale
    banking.write_text(
        banking.read_text(encoding="utf-8")
        .replace("dependsOn: [payments]", "dependsOn: [payments, no-such-service]")
        .replace("owner: team-a", "owner: team-b"),
        encoding="utf-8",
    )
    git(catalog, "add", "catalog/services/banking.yaml")
    done = pre_commit(catalog, pre_commit_home)  # the staged files, as on `git commit`
    assert done.returncode == 1, done.stdout[-4000:]
    out = done.stdout
    status = {
        name: next(ln for ln in out.splitlines() if ln.startswith(name)).rsplit(".", 1)[-1]
        for name in ("spo validate", "spo codeowners --check", "spo schema export --check")
    }
    assert status == {
        "spo validate": "Failed",
        "spo codeowners --check": "Failed",
        "spo schema export --check": "Passed",
    }, out
    assert "catalog/services/banking.yaml:" in out
    assert "no-such-service" in out
    assert "Traceback" not in out
