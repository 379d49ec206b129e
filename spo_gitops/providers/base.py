"""The provider contract: a small ABC that every provider plugin implements.

A provider manages objects of a few resource types in some external system (a CMDB, a folder of
files, a REST service desk, AWS). It is registered under the entry-point group
``spo_gitops.providers`` and configured from the ``providers:`` section of spo.yaml.

Rules every implementation keeps:

- ``create`` is idempotent by name: when an object of that type and name already exists (a crash
  between the provider's answer and the state write left it behind), it is adopted — updated to
  the given properties and returned — never duplicated.
- **Never adopt an object that was not asked for.** What ``create`` and ``update`` return is
  recorded in the state as the resource: it must be the object requested — the object of that
  type and name (or the key the provider names objects by, e.g. the files provider's path) and,
  for ``update``, of the id given. When the backend answers with another object, raise
  :class:`ProviderError` (apply then fails the action and writes nothing); never return it.
  ``read`` likewise returns the object of the id asked for, or None. :meth:`Provider.expect`
  is the check.
- ``read`` returns None for an object that does not exist; it never raises for that.
- ``read_many`` (refresh) reads many objects in few calls where the backend allows it (a batch
  query, listing pages); the default reads them one by one.
- ``delete`` of an object that no longer exists succeeds.
- Errors worth retrying (timeouts, 5xx, a locked database) raise :class:`TransientProviderError`;
  everything else raises :class:`ProviderError` with a message fit for the user.
- Methods may be called from several threads at once (apply runs actions in parallel). The
  setting ``parallelism`` (every provider has it) bounds how many of this provider's actions
  apply runs at once (:meth:`Provider.concurrency`); unset, the run's parallelism applies.
- Secrets: properties named in ``ResourceType.sensitive`` are never logged or put in messages.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from spo_gitops.errors import SpoError
from spo_gitops.providers.properties import type_errors


class ProviderError(SpoError, RuntimeError):
    """A provider operation failed for good."""


class TransientProviderError(ProviderError):
    """A provider operation failed in a way that may succeed when retried."""


class SettingsModel(BaseModel):
    """Settings as spo.yaml writes them: unknown keys are refused. Keys are camelCase in
    spo.yaml, like every other setting there (``baseUrl``); the Python names (``base_url``)
    are accepted too."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, alias_generator=to_camel
    )


class ProviderSettings(SettingsModel):
    """Base of every provider's settings (``providers.NAME`` in spo.yaml)."""

    parallelism: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Actions of this provider at once (default: reconcile.parallelism).",
    )


#: Settings every provider takes (listed once in the documentation, not per provider).
COMMON_SETTINGS = frozenset({"parallelism"})


def settings_keys(model: type[ProviderSettings]) -> list[str]:
    """The keys a settings model takes in spo.yaml (its aliases), sorted; without the
    :data:`COMMON_SETTINGS` every provider takes."""
    return sorted(
        field.alias or name
        for name, field in model.model_fields.items()
        if name not in COMMON_SETTINGS
    )


@dataclass(frozen=True)
class ResourceType:
    """A type of object a provider manages, with the JSON Schema of its properties."""

    name: str
    schema: Mapping[str, Any]
    description: str = ""
    sensitive: frozenset[str] = frozenset()  # top-level properties that are secret
    replace_on: frozenset[str] = frozenset()  # properties that cannot change in place


@dataclass(frozen=True)
class Observed:
    """An object as the provider sees it."""

    id: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderContext:
    """Where the provider runs: the project root (relative paths in settings are from here)."""

    project_root: Path
    state_dir: Path


class Provider(ABC):
    """Base class of provider plugins."""

    name: ClassVar[str]
    settings_model: ClassVar[type[ProviderSettings]] = ProviderSettings
    types: ClassVar[Mapping[str, ResourceType]] = {}

    def __init__(self, settings: ProviderSettings, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context

    @abstractmethod
    def read(self, type_: str, id_: str) -> Observed | None:
        """The object, or None when it does not exist."""

    def read_many(self, type_: str, ids: Sequence[str]) -> dict[str, Observed | None]:
        """Several objects at once (refresh); providers with a batch API override this."""
        return {id_: self.read(type_, id_) for id_ in ids}

    @abstractmethod
    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        """Create the object, or adopt (and update) an existing one of that name."""

    @abstractmethod
    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        """Set the object's properties to exactly these."""

    @abstractmethod
    def delete(self, type_: str, id_: str) -> None:
        """Delete the object; succeed when it is already gone."""

    @abstractmethod
    def list(self, type_: str) -> list[Observed]:
        """Every object of the type (for adoption and finding orphans)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""

    def concurrency(self) -> int | None:
        """How many of this provider's actions apply may run at once (its ``parallelism``
        setting); None leaves it to the run's parallelism."""
        return self.settings.parallelism

    def expect(
        self, type_: str, name: str, got: Observed, *, id_: str | None = None, what: str = ""
    ) -> Observed:
        """``got`` if it is the object asked for (that name and, when given, that id), else
        the ProviderError the contract requires: an object nobody asked for is never recorded."""
        if got.name == name and (id_ is None or got.id == id_):
            return got
        asked = f"{name!r}" + (f" (id {id_!r})" if id_ is not None else "")
        where = f"{what} " if what else ""
        raise ProviderError(
            f"{self.name}.{type_}.{name}: {where}answered with another object ({got.name!r}, "
            f"id {got.id!r}) instead of {asked}; refusing to record it"
        )

    @classmethod
    def configured_types(cls, settings: ProviderSettings) -> Mapping[str, ResourceType]:
        """The resource types under these settings. Most providers declare a fixed set on the
        class; one whose types come from its settings (http: collections named in spo.yaml)
        overrides this, so that ``spo validate`` and plan know them before anything runs."""
        return cls.types

    # --- helpers for implementations ---------------------------------------------------------

    def resource_type(self, type_: str) -> ResourceType:
        """The declared type of that name; ProviderError naming the types when there is none."""
        rtype = self.types.get(type_)
        if rtype is None:
            raise ProviderError(
                f"{self.name} has no resource type {type_!r}; "
                f"its types: {', '.join(sorted(self.types)) or 'none'}"
            )
        return rtype

    def check_properties(self, type_: str, name: str, properties: Mapping[str, Any]) -> None:
        """ProviderError at the first property that breaks the type's schema (and how many
        more do); values of sensitive properties are never shown."""
        errors = type_errors(self.resource_type(type_), dict(properties))
        if errors:
            path, message = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise ProviderError(f"{self.name}.{type_}.{name}: /{'/'.join(path)}: {message}{more}")
