"""Provider plugins: the contract (``base``) and the registry of installed providers.

The built-in providers (``cmdb``, ``files``) are registered through entry points like any other
and imported only when used.
"""

from __future__ import annotations

from spo_gitops.providers.base import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
    TransientProviderError,
)
from spo_gitops.providers.registry import (
    GROUP,
    available,
    check_properties,
    configure,
    provider_class,
    resource_type,
)

__all__ = [
    "GROUP",
    "Observed",
    "Provider",
    "ProviderContext",
    "ProviderError",
    "ProviderSettings",
    "ResourceType",
    "TransientProviderError",
    "available",
    "check_properties",
    "configure",
    "provider_class",
    "resource_type",
]
