"""State backends: what is managed, the serial and lineage, the lock and the journal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spo_gitops.config import Project
    from spo_gitops.state.base import StateBackend


def state_path(project: Project) -> Path:
    """Where the SQLite state file of ``project`` lives."""
    return project.root / project.config.state.path


def open_state(project: Project) -> StateBackend:
    """The state backend configured in spo.yaml (the file is created on first use)."""
    from spo_gitops.state.sqlite import SqliteState

    return SqliteState(state_path(project))
