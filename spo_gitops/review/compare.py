"""``spo diff``: the semantic diff between two revisions with the rules that judge it."""

from __future__ import annotations

from spo_gitops.config import Project
from spo_gitops.git import repository
from spo_gitops.review import impact, lifecycle, versioning
from spo_gitops.review.diff import CatalogDiff, diff_snapshots, read_revision, read_working_tree


def compare(project: Project, base: str, head: str | None = None) -> CatalogDiff:
    """The diff from ``base`` to ``head`` (default: the working tree), with the versioning and
    lifecycle findings and the impact of each change."""
    with repository(project.root) as repo:
        before = read_revision(project, repo, base)
        after = read_working_tree(project) if head is None else read_revision(project, repo, head)
    result = CatalogDiff(before, after, diff_snapshots(before, after))
    result.findings.extend(versioning.check(result))
    result.findings.extend(lifecycle.check(result, project.config.lifecycle))
    result.findings.items = result.findings.sorted()
    result.impact = impact.analyse(result)
    return result
