"""What ``spo reconcile`` applies: exactly the tree of an approved commit.

Reconcile refuses (``--allow-unapproved`` skips this, for local experiments):

- a catalog that is not in git, or whose commit is not reachable from ``approvedRef``;
- uncommitted changes to the catalog, policies, blueprints or spo.yaml;
- content at the commit nobody reviewed: catalog or policy files and blueprints that git does
  not track (ignored ones: ``git status`` does not show them), links to such files, and
  ``catalog.paths``, ``policies.paths`` or the blueprint folder outside the repository.

Every file reconcile reads from the working tree is thereby a tracked file of the commit, with
the commit's content.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from spo_gitops import git
from spo_gitops.catalog import files
from spo_gitops.config import Project
from spo_gitops.errors import SpoError

if TYPE_CHECKING:
    from spo_gitops.provision.reconcile import Desired

HINT = "pass --allow-unapproved for a local experiment"


class Unapproved(SpoError, PermissionError):
    """The commit to reconcile is not approved (or the tree is not clean)."""


def check_approved(project: Project, want: Desired) -> None:
    """Refuse a commit that is not reachable from the approved ref, a dirty tree, or content
    the commit does not hold."""
    ref = project.config.approved_ref
    if want.commit is None:
        raise Unapproved(
            "the catalog is not a git repository with commits: nothing is approved",
            hint=f"commit the catalog, or {HINT}",
        )
    if want.dirty:
        raise Unapproved(
            f"the working tree has uncommitted changes: {_shown(want.dirty)}",
            hint=f"reconcile applies committed, approved catalogs only; commit or stash, or {HINT}",
        )
    with git.repository(project.root) as repo:
        try:
            repo.resolve(ref)
        except git.GitError:
            raise Unapproved(
                f"the approved ref {ref!r} (approvedRef in spo.yaml) does not exist here",
                hint="fetch it (e.g. git fetch origin main) or set approvedRef in spo.yaml",
            ) from None
        if not repo.is_ancestor(want.commit, ref):
            raise Unapproved(
                f"commit {want.commit[:12]} is not reachable from the approved ref {ref!r}",
                hint=f"merge the change into the approved branch first, or {HINT}",
            )
        _check_inside(project, repo.root)
        unreviewed = _untracked_inputs(project, repo, want.commit)
        if unreviewed:
            raise Unapproved(
                f"files that commit {want.commit[:12]} does not hold would be applied: "
                f"{_shown(unreviewed)}",
                hint="reconcile applies exactly the approved commit's tree: commit them (and get "
                f"them reviewed), remove them or their ignore rule, or {HINT}",
            )


def _shown(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names[:5]) + (" ..." if len(names) > 5 else "")


def _folders(project: Project) -> list[str]:
    config = project.config
    return [*config.catalog.paths, *config.policies.paths, config.reconcile.blueprints]


def _check_inside(project: Project, top: Path) -> None:
    outside = [
        folder
        for folder in _folders(project)
        if not (project.root / folder).resolve().is_relative_to(top)
    ]
    if outside:
        raise Unapproved(
            f"spo.yaml reads from outside the repository: {_shown(outside)}",
            hint=f"catalog.paths, policies.paths and reconcile.blueprints must lie inside the "
            f"repository, whose commits are reviewed; move the files in, or {HINT}",
        )


def _untracked_inputs(project: Project, repo: git.Repository, commit: str) -> list[str]:
    """What reconcile would read from the working tree that is not a file of ``commit``
    (followed through links), relative to spo.yaml's folder."""
    tracked = set(repo.files(commit))
    reads = [(f.display, Path(f.path)) for f in files.worktree(project).files]
    blueprints = project.blueprints
    if blueprints.is_dir():
        for folder, _, names in os.walk(blueprints, followlinks=True):
            reads.extend((project.display(Path(folder, n)), Path(folder, n)) for n in names)
    out = []
    for display, path in reads:
        target = path.resolve()
        if (
            not target.is_relative_to(repo.root)
            or target.relative_to(repo.root).as_posix() not in tracked
        ):
            out.append(display)
    return sorted(set(out))
