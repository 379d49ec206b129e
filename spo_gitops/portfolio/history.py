"""Each portfolio entry's stage at each commit of its file: the lead-time fallback when a stage
has no approval record. Read through the one git module; no repository means no history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from spo_gitops.catalog.documents import load_text
from spo_gitops.catalog.references import Index
from spo_gitops.config import Project
from spo_gitops.git import GitError, join, repository
from spo_gitops.portfolio.roadmap import StageHistory

MAX_COMMITS = 200  # per entry file


def stage_history(project: Project, index: Index, services: Sequence[str]) -> StageHistory:
    """Service -> [(author date, stage)] over the commits of its entry's file, oldest first."""
    wanted = set(services)
    entries = [
        d
        for d in index.of_kind("PortfolioEntry")
        if d.valid and str(d.data["spec"]["service"]) in wanted
    ]
    out: dict[str, list[tuple[dt.date, str]]] = {}
    try:
        with repository(project.root) as repo:
            prefix = repo.relative(project.root)
            for doc in entries:
                path = join(prefix, doc.file)
                rows: list[tuple[dt.date, str]] = []
                for commit in reversed(repo.log([path], MAX_COMMITS)):
                    content = repo.read(commit["id"], path)
                    if content is None:
                        continue
                    try:
                        text = content.decode("utf-8-sig")
                    except UnicodeDecodeError:
                        continue
                    docs, _ = load_text(text, doc.file, project.limits)
                    for old in docs:
                        if old.kind == "PortfolioEntry" and old.name == doc.name and old.valid:
                            day = dt.datetime.fromisoformat(commit["date"]).date()
                            rows.append((day, str(old.data["spec"]["stage"])))
                out[str(doc.data["spec"]["service"])] = rows
    except GitError:
        return {}
    return out
