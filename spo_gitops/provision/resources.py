"""Resources: what the catalog wants provisioned, as plain values shared by every stage."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spo_gitops import jsonio


@dataclass(frozen=True)
class Source:
    """The catalog entity (and its place) that a resource comes from."""

    entity: str  # "Kind:name"
    file: str
    line: int


@dataclass(frozen=True)
class DesiredResource:
    """One resource the catalog wants: ``provider.type.name`` with its properties."""

    provider: str
    type: str
    name: str
    properties: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()
    protected: bool = False
    source: Source | None = field(default=None, compare=False)

    @property
    def address(self) -> str:
        return address(self.provider, self.type, self.name)


def address(provider: str, type_: str, name: str) -> str:
    return f"{provider}.{type_}.{name}"


def canonical_json(value: Any) -> str:
    return jsonio.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def properties_hash(properties: Mapping[str, Any]) -> str:
    """A stable digest of properties (key order and formatting do not matter)."""
    return "sha256:" + hashlib.sha256(canonical_json(dict(properties)).encode()).hexdigest()
