"""The provider registry: plugins found under the entry-point group ``spo_gitops.providers``.

Every provider, the built-in ``cmdb`` and ``files`` too, is an entry point
``name = "module:Class"``; nothing is imported until a provider is asked for by name (as pyinfra
loads its connectors). ``configure`` turns the ``providers:`` section of spo.yaml into provider
instances; ``check_properties`` is what ``spo validate`` runs over each ``spec.provisioning`` entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from spo_gitops.extras import missing_extra
from spo_gitops.providers.base import (
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
    settings_keys,
)
from spo_gitops.providers.properties import PropertyError, type_errors
from spo_gitops.provision.resources import canonical_json

if TYPE_CHECKING:
    from spo_gitops.config import Project

GROUP = "spo_gitops.providers"


@cache
def available() -> dict[str, EntryPoint]:
    """Installed providers by name (nothing is imported). The first registration of a name wins."""
    found: dict[str, EntryPoint] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        found.setdefault(ep.name, ep)
    return found


def _names() -> str:
    return ", ".join(available()) or "none"


@cache
def provider_class(name: str) -> type[Provider]:
    """The class registered as ``name``, imported on first use."""
    ep = available().get(name)
    if ep is None:
        raise ProviderError(
            f"unknown provider {name!r}; available: {_names()}",
            hint="install the package that provides it (it registers an entry point in the "
            f"group {GROUP!r}), or fix the name",
        )
    try:
        cls = ep.load()
    except ImportError as e:  # a shipped provider whose extra is not installed, or a broken plugin
        missing = missing_extra(e, f"the {name} provider")
        if missing is not None:
            raise missing from e
        raise ProviderError(
            f"provider {name!r} ({ep.value}) failed to load: {type(e).__name__}: {e}"
        ) from e
    except Exception as e:  # a broken plugin is the plugin's fault, not ours: report it
        raise ProviderError(
            f"provider {name!r} ({ep.value}) failed to load: {type(e).__name__}: {e}"
        ) from e
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ProviderError(
            f"provider {name!r} ({ep.value}) is not a subclass of spo_gitops.providers.Provider"
        )
    return cls


def settings_problems(name: str, raw: Mapping[str, Any]) -> list[PropertyError]:
    """What is wrong with one provider's settings from spo.yaml, each with its path below
    ``providers.<name>``; an unknown provider is one problem with an empty path."""
    try:
        cls = provider_class(name)
    except ProviderError as e:
        return [((), e.message)]
    try:
        cls.settings_model.model_validate(dict(raw))
    except ValidationError as e:
        return [
            (tuple(str(p) for p in err["loc"]), err["msg"])
            for err in e.errors(include_url=False, include_input=False)
        ]
    return []


def settings_for(name: str, raw: Mapping[str, Any]) -> ProviderSettings:
    """Validate one provider's settings from spo.yaml; errors name the provider and the setting."""
    cls = provider_class(name)
    try:
        return cls.settings_model.model_validate(dict(raw))
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False, include_input=False):
            where = ".".join(str(p) for p in err["loc"])
            problems.append(f"providers.{name}{'.' + where if where else ''}: {err['msg']}")
        fields = ", ".join(settings_keys(cls.settings_model)) or "none"
        raise ProviderError(
            f"invalid settings for provider {name!r} in spo.yaml: " + "; ".join(problems),
            hint=f"the settings of {name} are: {fields} (see 'spo providers list' and spo-gitops' "
            "docs/providers.md)",
        ) from None


def configure(project: Project, names: Iterable[str]) -> dict[str, Provider]:
    """Instances of the named providers, each with its settings from spo.yaml (default: none)."""
    context = ProviderContext(project.root, project.work_folder)
    out: dict[str, Provider] = {}
    try:
        for name in dict.fromkeys(names):
            cls = provider_class(name)
            settings = settings_for(name, project.config.providers.get(name) or {})
            out[name] = cls(settings, context)
    except BaseException:
        for provider in out.values():
            provider.close()
        raise
    return out


def resource_type(
    provider: str, type_: str, settings: Mapping[str, Any] | None = None
) -> ResourceType:
    """A provider's resource type (its schema, sensitive and replace-on properties): under the
    project's ``settings`` for that provider when given (what spo.yaml configures), else as
    declared on the class."""
    types = (
        provider_class(provider).types
        if settings is None
        else _configured_types(provider, canonical_json(dict(settings)))
    )
    rtype = types.get(type_)
    if rtype is None:
        raise ProviderError(
            f"provider {provider!r} has no resource type {type_!r}; "
            f"its types: {', '.join(sorted(types)) or 'none'}"
        )
    return rtype


@lru_cache(maxsize=64)
def _configured_types(provider: str, settings_json: str) -> Mapping[str, ResourceType]:
    return provider_class(provider).configured_types(
        settings_for(provider, json.loads(settings_json))
    )


def check_properties(
    provider: str, type_: str, properties: Any, settings: Mapping[str, Any] | None = None
) -> list[PropertyError]:
    """What is wrong with one resource's properties; an empty list when nothing is.

    Paths are relative to the properties object. An unknown provider or type, and settings the
    provider refuses, are reported with an empty path and a message naming what is available.
    ``settings``: the project's settings of that provider (see :func:`resource_type`).
    """
    try:
        rtype = resource_type(provider, type_, settings)
    except ProviderError as e:
        return [((), e.message)]
    return type_errors(rtype, properties)
