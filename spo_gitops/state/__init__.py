"""State backends: what is managed, the serial and lineage, the lock and the journal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from spo_gitops.errors import SpoError

if TYPE_CHECKING:
    from spo_gitops.config import Project
    from spo_gitops.state.base import StateBackend

DSN_ENV = "SPO_STATE_DSN"


def state_path(project: Project) -> Path:
    """Where the SQLite state file of ``project`` lives."""
    return project.root / project.config.state.path


def state_dsn(project: Project) -> str:
    """The PostgreSQL connection string: from the variable named by ``state.dsnEnv`` when set,
    else from SPO_STATE_DSN, else ``state.dsn`` in spo.yaml."""
    config = project.config.state
    if config.dsn_env:
        value = os.environ.get(config.dsn_env)
        if not value:
            raise SpoError(
                f"state.dsnEnv names {config.dsn_env}, which is not set",
                hint=f"export {config.dsn_env}=postgresql://USER@HOST/DB",
            )
        return value
    value = os.environ.get(DSN_ENV) or config.dsn
    if not value:
        raise SpoError(
            "state.backend is postgres but no connection string is given",
            hint=f"set state.dsn or state.dsnEnv in spo.yaml, or export {DSN_ENV}",
        )
    return value


def open_state(project: Project) -> StateBackend:
    """The state backend configured in spo.yaml (created on first use)."""
    if project.config.state.backend == "postgres":
        from spo_gitops.state.postgres import PostgresState

        return PostgresState(state_dsn(project))
    from spo_gitops.state.sqlite import SqliteState

    return SqliteState(state_path(project))
