"""Which files are the catalog: the one definition, for the working tree and any git revision.

Every reader of the catalog asks this module: ``spo validate`` (full and changed-only), the
readers of ``spo diff``, ``spo bump``, ``spo new``, ``spo policy test``, reconcile and the site.
A file is a catalog file when, relative to the folder of spo.yaml (POSIX separators):

- it lies under one of ``catalog.paths`` or ``policies.paths`` (a path naming a file takes it);
- its name ends in ``.yaml`` or ``.yml`` and no part of its path starts with ``.``;
- it matches none of ``catalog.exclude`` / ``policies.exclude`` (glob patterns, relative to
  spo.yaml; ``*`` also matches ``/``);
- it is not a policy test fixture (``<policies path>/tests/...``: ``spo policy test`` reads those).

In the working tree a symlink is followed only while its target stays inside the repository
(or the project folder when it is not in git): a link that leaves it is reported (SPO112), never
read, so that a link to ``/proc/self/environ`` cannot print the runner's environment.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from spo_gitops.diagnostics import Diagnostic

if TYPE_CHECKING:
    from spo_gitops.config import Project, ProjectConfig
    from spo_gitops.git import Repository

YAML_SUFFIXES = (".yaml", ".yml")
POLICY_TESTS = "tests"


@dataclass(frozen=True)
class CatalogFile:
    """One file of the catalog: where to read it and how findings name it."""

    path: str  # a file system path (working tree) or a path inside the repository (revision)
    display: str  # relative to spo.yaml's folder, POSIX style


def roots(config: ProjectConfig) -> list[str]:
    """The catalog and policy paths of spo.yaml, normalised (POSIX, relative to spo.yaml)."""
    return list(_rules(config).roots)


def _norm(path: str) -> str:
    return PurePosixPath(path.replace(os.sep, "/")).as_posix().removeprefix("./") or "."


def _under(rel: str, root: str) -> bool:
    return root == "." or rel == root or rel.startswith(f"{root}/")


def is_yaml_name(rel: str) -> bool:
    """A YAML file name with no hidden part in its path."""
    return rel.endswith(YAML_SUFFIXES) and not any(p.startswith(".") for p in rel.split("/"))


@dataclass(frozen=True)
class _Rules:
    """spo.yaml's catalog settings, normalised once (10,000 files are asked about)."""

    roots: tuple[str, ...]
    patterns: tuple[str, ...]
    tests: tuple[str, ...]  # the policy test folders
    # the patterns as one expression (None: no patterns), the test folders as prefixes
    match: Callable[[str], object] | None = None
    test_prefixes: tuple[str, ...] = ()


_RULES: dict[int, tuple[ProjectConfig, _Rules]] = {}


def _rules(config: ProjectConfig) -> _Rules:
    hit = _RULES.get(id(config))
    if hit is not None and hit[0] is config:
        return hit[1]
    patterns = tuple(
        p.removeprefix("./") for p in (*config.catalog.exclude, *config.policies.exclude)
    )
    tests = tuple(_join(_norm(p), POLICY_TESTS) for p in config.policies.paths)
    rules = _Rules(
        tuple(_norm(p) for p in (*config.catalog.paths, *config.policies.paths)),
        patterns,
        tests,
        # fnmatchcase(rel, pat) for any pat, in one match
        re.compile("|".join(fnmatch.translate(p) for p in patterns)).match if patterns else None,
        tuple(f"{t}/" for t in tests),
    )
    if len(_RULES) > 64:
        _RULES.clear()
    _RULES[id(config)] = (config, rules)
    return rules


def excluded(rel: str, config: ProjectConfig) -> bool:
    """True when ``rel`` matches an exclude pattern or is a policy test fixture."""
    rules = _rules(config)
    if rules.match is not None and rules.match(rel):
        return True
    return rel in rules.tests or rel.startswith(rules.test_prefixes)


def _join(root: str, name: str) -> str:
    return name if root == "." else f"{root}/{name}"


def wanted(rel: str, config: ProjectConfig) -> bool:
    """The rule itself: is the file at ``rel`` (relative to spo.yaml, POSIX) a catalog file?"""
    if "\\" in rel or "//" in rel or rel.startswith("./") or "/./" in rel or os.sep != "/":
        rel = _norm(rel)
    if rel.startswith("../") or rel == "..":
        return False
    rules = _rules(config)
    if not is_yaml_name(rel) and rel not in rules.roots:
        return False
    return any(_under(rel, r) for r in rules.roots) and not excluded(rel, config)


def fence(project: Project) -> Path:
    """The folder catalog files must stay inside: the git repository's root, else the project's."""
    return boundary(project.root)


def boundary(root: Path) -> Path:
    """The git repository's root around the project folder ``root``, else ``root`` itself."""
    start = root.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


@dataclass
class Discovered:
    files: list[CatalogFile]
    diagnostics: list[Diagnostic]


def worktree(project: Project) -> Discovered:
    """The catalog's files in the working tree, in a stable order (sorted per root folder)."""
    config = project.config
    root = project.root
    boundary = fence(project)
    found: dict[str, CatalogFile] = {}
    problems: list[Diagnostic] = []
    prefix = f"{root}{os.sep}"
    for rel_root in roots(config):
        base = root if rel_root == "." else root / rel_root
        for rel in _walk(base, rel_root, boundary, problems):
            # under a root, a YAML name, not hidden: only the exclusions are left to ask
            if rel not in found and (rel == rel_root or not excluded(rel, config)):
                found[rel] = CatalogFile(prefix + rel.replace("/", os.sep), rel)
    return Discovered(list(found.values()), problems)


def _walk(base: Path, rel_root: str, boundary: Path, problems: list[Diagnostic]) -> list[str]:
    """Relative (to spo.yaml) POSIX paths of the YAML files under ``base``."""
    if base.is_symlink() or (base.exists() and not base.is_dir()):
        return [rel_root] if _inside(base, boundary, rel_root, problems) and base.is_file() else []
    if not base.is_dir():
        return []
    if not _inside(base, boundary, rel_root, problems):
        return []
    names: list[str] = []
    stack = [(str(base), "" if rel_root == "." else f"{rel_root}/")]
    while stack:  # os.scandir: whether an entry is a link comes with the listing, no stat
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            rel = prefix + name
            link = entry.is_symlink()
            if link and not _inside(Path(entry.path), boundary, rel, problems):
                continue
            if not link and entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, f"{rel}/"))  # links to folders are not followed
            elif name.endswith(YAML_SUFFIXES):
                names.append(rel)
    return sorted(names)


def _inside(path: Path, boundary: Path, rel: str, problems: list[Diagnostic]) -> bool:
    try:
        target = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a symlink loop
        target = None
    if target is not None and target.is_relative_to(boundary):
        return True
    problems.append(
        Diagnostic(
            "error",
            "SPO112",
            "symbolic link leads outside the repository; it is not read",
            rel,
            hint="catalog files must live inside the repository: copy the file in, "
            "or remove the link",
        )
    )
    return False


def revision_files(
    repo: Repository, commit: str, prefix: str, config: ProjectConfig
) -> list[CatalogFile]:
    """The catalog's files at ``commit`` under the project folder ``prefix`` of the repository.

    Symbolic links stored in git are not followed (git keeps their target, not the file)."""
    inside = [r for r in roots(config) if not r.startswith("..")]
    under = [str(PurePosixPath(prefix, r)) if prefix else r for r in inside]
    out: list[CatalogFile] = []
    seen: set[str] = set()
    for path in repo.files(commit, under or ["."]):
        display = path[len(prefix) + 1 :] if prefix else path
        if display in seen or not wanted(display, config):
            continue
        seen.add(display)
        out.append(CatalogFile(path, display))
    return out


def named(project: Project, paths: Sequence[Path]) -> Discovered:
    """Files named on the command line (folders expanded), each checked against the fence."""
    boundary = fence(project)
    problems: list[Diagnostic] = []
    found: dict[str, CatalogFile] = {}
    for path in paths:
        full = path if path.is_absolute() else Path.cwd() / path
        rel_root = project.display(full)
        for rel in _walk(full, rel_root, boundary, problems):
            fs = str(project.root / rel) if not Path(rel).is_absolute() else rel
            found.setdefault(rel, CatalogFile(fs, rel))
    return Discovered(list(found.values()), problems)


def policy_files(project: Project) -> list[CatalogFile]:
    """The catalog's files under ``policies.paths`` (where Policy documents live)."""
    inside = [_norm(p) for p in project.config.policies.paths]
    return [f for f in worktree(project).files if any(_under(f.display, r) for r in inside)]


def policy_tests_dir(project: Project) -> Path:
    """Where ``spo policy test`` finds its cases: ``tests/`` in the first policies path."""
    return project.root / project.config.policies.paths[0] / POLICY_TESTS


def fixture_files(folder: Path) -> list[Path]:
    """The YAML files of a policy test case (hidden ones skipped), sorted."""
    out: list[Path] = []
    for dirpath, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(Path(dirpath, n) for n in sorted(names) if is_yaml_name(n))
    return out
