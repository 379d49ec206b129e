"""spo.yaml: where the catalog lives and how the toolkit behaves for this repository."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from spo_gitops.catalog.loader import Limits, locate, read_file
from spo_gitops.diagnostics import Diagnostic, pointer_join
from spo_gitops.errors import UsageError
from spo_gitops.models.common import STAGES, Model, Stage

CONFIG_NAME = "spo.yaml"
VALIDATION_DATE_ENV = "SPO_VALIDATION_DATE"
WORK_FOLDER = ".spo"  # beside spo.yaml: what spo keeps between runs, never committed


class PathsConfig(Model):
    paths: list[str] = Field(description="Files or folders, relative to spo.yaml.")
    exclude: list[str] = Field(default_factory=list, description="Glob patterns to skip.")


class LimitsConfig(Model):
    max_file_size: int = Field(default=1024 * 1024, gt=0, description="Bytes per file.")
    max_depth: int = Field(default=64, ge=4, le=1000, description="Nesting levels per document.")
    max_alias_expansion: int = Field(
        default=10_000, ge=0, description="Nodes that aliases and merges may expand to."
    )


class ValidationConfig(Model):
    jobs: int = Field(default=0, ge=0, description="Worker processes; 0 picks by catalog size.")
    date: dt.date | None = Field(
        default=None,
        description="The day dates are judged against (slipped plans, overdue reviews); default "
        "today. The SPO_VALIDATION_DATE environment variable (YYYY-MM-DD) wins over it.",
    )


class PrometheusConfig(Model):
    """Where ``spo metrics pull`` evaluates PromQL, and the default expression per metric."""

    url: str | None = Field(default=None, description="Base URL, e.g. http://prometheus:9090.")
    token_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding a bearer token (never written in spo.yaml).",
    )
    timeout: float = Field(default=30, gt=0, le=600, description="Seconds per query.")
    queries: dict[str, str] = Field(
        default_factory=dict,
        description="Metric -> PromQL used for objectives that name none; $service, $sla and "
        "$window (the period as a range, e.g. 2592000s) are replaced.",
    )


class MetricsConfig(Model):
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)


_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class EmailConfig(Model):
    """SMTP for ``spo notify``; credentials come from the environment only."""

    host: str = Field(description="SMTP server.")
    port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    sender: str = Field(description="The From address.")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    username_env: str | None = Field(
        default=None, pattern=_ENV_NAME, description="Environment variable with the user name."
    )
    password_env: str | None = Field(
        default=None, pattern=_ENV_NAME, description="Environment variable with the password."
    )
    timeout: float = Field(default=30, gt=0, le=600, description="Seconds per connection.")


class WebhookConfig(Model):
    """A webhook (chat tools accept its JSON body ``{"text": ...}``); its URL is a secret."""

    name: str = Field(min_length=1, description="Shown in output instead of the URL.")
    url_env: str = Field(pattern=_ENV_NAME, description="Environment variable with the URL.")
    parties: list[str] = Field(
        default_factory=list, description="Only messages for these parties (default: all)."
    )
    topics: list[Literal["change", "breach", "plan", "review", "action"]] = Field(
        default_factory=list, description="Only these kinds of message (default: all)."
    )
    timeout: float = Field(default=30, gt=0, le=600, description="Seconds per request.")


class NotifyConfig(Model):
    email: EmailConfig | None = Field(default=None, description="E-mail to the parties' contacts.")
    webhooks: list[WebhookConfig] = Field(default_factory=list, description="Webhooks to post to.")
    ledger: str = Field(
        default=".spo/notified.json",
        description="Record of what was sent (relative to spo.yaml), so nothing is sent twice.",
    )
    horizon_days: int = Field(
        default=14, ge=0, le=365, description="Reviews and actions due within this are announced."
    )


class PortfolioConfig(Model):
    """Portfolio decisions: business case figures, the run budget, risks, the forecast."""

    discount_rate: float = Field(
        default=0.08, ge=0, le=1, description="Yearly discount rate for NPV, e.g. 0.08 for 8 %."
    )
    supplier_concentration: int = Field(
        default=3,
        ge=1,
        description="A supplier underpinning more tier-1 services than this is flagged.",
    )
    forecast_quarters: int = Field(
        default=8, ge=1, le=40, description="Quarters the capacity forecast looks ahead."
    )


class AgreementsConfig(Model):
    """How agreements are judged against the validation date (catalog/agreements.py)."""

    expiry_warning_days: int = Field(
        default=60, ge=0, description="Warn this many days before an agreement's validity ends."
    )
    worsening_margin: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="A measured value worsens (or improves) only when it moves by more than "
        "this share of what the target allows (the distance from the target to the metric's "
        "best value): 0.05 of a 5 h MTTR is 0.25 h.",
    )


class LifecycleConfig(Model):
    """Portfolio stage rules checked by ``spo diff`` between the base and the head revision."""

    transitions: dict[Stage, list[Stage]] | None = Field(
        default=None,
        description="Stage -> stages it may move to. Default: one step forward along the "
        "stage order, and from any stage before live straight to retired (a dropped proposal).",
    )
    initial_stages: list[Stage] = Field(
        default=["proposed"],
        description="Stages a new portfolio entry may start in.",
    )
    approval_required: list[Stage] = Field(
        default=["approved", "chartered", "designed", "transitioning", "live", "retiring"],
        description="Stages a service may only enter with an approval record for that stage in "
        "spec.approvals. Default: approved up to retiring.",
    )

    def allowed(self, stage: str) -> list[str]:
        """The stages ``stage`` may move to."""
        if self.transitions is not None:
            return list(self.transitions.get(stage, []))  # type: ignore[call-overload]
        i = STAGES.index(stage)
        out = [STAGES[i + 1]] if i + 1 < len(STAGES) else []
        if i < STAGES.index("live") and "retired" not in out:
            out.append("retired")
        return out


PROVISIONED_STAGES: tuple[Stage, ...] = ("transitioning", "live", "retiring")


class StateConfig(Model):
    backend: Literal["sqlite", "postgres"] = Field(
        default="sqlite", description="Where state is kept."
    )
    path: str = Field(default=".spo/state.db", description="SQLite file, relative to spo.yaml.")
    dsn: str | None = Field(
        default=None,
        description="postgres: the connection string (postgresql://USER@HOST/DB or key=value); "
        "better without a password (use dsnEnv, SPO_STATE_DSN, PGPASSWORD or ~/.pgpass).",
    )
    dsn_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="postgres: the environment variable holding the connection string "
        "(default: SPO_STATE_DSN, then dsn).",
    )


class ReconcileConfig(Model):
    provisioned_stages: list[Stage] = Field(
        default_factory=lambda: list(PROVISIONED_STAGES),
        description="Portfolio stages whose services are provisioned.",
    )
    prune: bool = Field(default=False, description="Delete resources no longer in the catalog.")
    parallelism: int = Field(default=10, ge=1, le=64, description="Actions run at once.")
    blueprints: str = Field(default="blueprints", description="Folder of blueprint templates.")


class ProjectConfig(Model):
    api_version: str = Field(default="spo/v1", alias="apiVersion")
    kind: str = Field(default="Project")
    catalog: PathsConfig = Field(default_factory=lambda: PathsConfig(paths=["catalog"]))
    policies: PathsConfig = Field(default_factory=lambda: PathsConfig(paths=["policies"]))
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    approved_ref: str = Field(default="main", description="Ref that approved commits come from.")
    state: StateConfig = Field(default_factory=StateConfig)
    providers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Settings per provider name (see spo providers list)."
    )
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    agreements: AgreementsConfig = Field(default_factory=AgreementsConfig)
    portfolio: PortfolioConfig = Field(default_factory=PortfolioConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)


@dataclass
class Project:
    root: Path
    config: ProjectConfig
    config_file: Path | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    config_node: Any = field(default=None, repr=False)  # spo.yaml's root node, for positions

    def config_position(self, parts: list[str], *, key: bool = False) -> tuple[str, int, int]:
        """spo.yaml (as shown), line and column of the setting at ``parts``."""
        shown = self.display(self.config_file) if self.config_file else "spo.yaml"
        line, col = locate(self.config_node, parts, key=key) or (1, 1)
        return shown, line, col

    def today(self) -> dt.date:
        """The validation date: SPO_VALIDATION_DATE, else spo.yaml's validation.date, else
        today (so that CI runs on a fixed day are reproducible)."""
        value = os.environ.get(VALIDATION_DATE_ENV)
        if value:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise UsageError(
                    f"{VALIDATION_DATE_ENV}={value!r} is not a date",
                    hint="write it as YYYY-MM-DD",
                ) from None
        return self.config.validation.date or dt.date.today()

    @property
    def work_folder(self) -> Path:
        """``.spo/`` beside spo.yaml: the caches, the validation record, the embedded providers'
        files (:meth:`make_work_folder` creates it)."""
        return self.root / WORK_FOLDER

    def make_work_folder(self) -> Path:
        """:attr:`work_folder`, created when missing with a .gitignore that keeps it out of git
        (OSError when it cannot be)."""
        folder = self.work_folder
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# written by spo: a cache, never commit it\n*\n")
        return folder

    @property
    def blueprints(self) -> Path:
        """The folder of blueprint templates (``reconcile.blueprints``)."""
        return self.root / self.config.reconcile.blueprints

    def has_blueprints(self) -> bool:
        """True when the blueprint folder holds a template (``<Kind>.yaml.j2``)."""
        folder = self.blueprints
        return folder.is_dir() and any(folder.glob("*.yaml.j2"))

    @property
    def limits(self) -> Limits:
        lim = self.config.limits
        return Limits(lim.max_file_size, lim.max_depth, lim.max_alias_expansion)

    def display(self, path: Path) -> str:
        """A path as shown in findings: relative to the project root when inside it."""
        if path.is_absolute() and path.is_relative_to(self.root):
            return path.relative_to(self.root).as_posix()  # the common case: no file system calls
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return os.path.relpath(path)


def find_config(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_project(start: Path | None = None, config_file: Path | None = None) -> Project:
    """The project around ``start`` (default: the working directory). Never raises on bad input:
    problems with spo.yaml come back as diagnostics and the defaults are used."""
    start = (start or Path.cwd()).resolve()
    path = config_file.resolve() if config_file else find_config(start)
    if path is None:
        return Project(start, ProjectConfig(), None)
    root = path.parent
    display = path.name if root == start else os.path.relpath(path)
    parsed, _ = read_file(str(path), display, Limits())
    project = Project(root, ProjectConfig(), path, list(parsed.diagnostics))
    docs = [d for d in parsed.documents if not d.broken]
    if parsed.diagnostics or not docs:
        if not parsed.diagnostics:
            project.diagnostics.append(
                Diagnostic("error", "SPO901", "spo.yaml holds no settings", display, 1, 1)
            )
        return project
    doc = docs[0]
    project.config_node = doc.node
    try:
        project.config = ProjectConfig.model_validate(doc.data)
    except ValidationError as e:
        for err in e.errors():
            parts = [str(p) for p in err["loc"]]
            line, col = locate(doc.node, parts, key=err["type"] == "extra_forbidden") or (1, 1)
            project.diagnostics.append(
                Diagnostic(
                    "error",
                    "SPO901",
                    f"{pointer_join(parts) or '/'}: {err['msg']}",
                    display,
                    line,
                    col,
                    hint="see the README section 'spo.yaml' for the settings",
                )
            )
    return project
