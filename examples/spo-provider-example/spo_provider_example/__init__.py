"""``jsonstore``: records kept in one JSON file, an example spo-gitops provider.

The file holds ``{type: {id: {"name": ..., "properties": {...}}}}``; every write replaces it
atomically (temporary file + ``os.replace``) under a lock, so parallel apply threads are safe.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from spo_gitops.providers import (
    Observed,
    Provider,
    ProviderContext,
    ProviderError,
    ProviderSettings,
    ResourceType,
)

RECORD = ResourceType(
    "record",
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "description": "A record in the JSON file.",
        "properties": {
            "title": {"type": "string", "description": "Human-readable name."},
            "owner": {"type": "string", "description": "The owning team."},
            "tier": {"type": "integer", "minimum": 1, "maximum": 4, "description": "1 to 4."},
        },
        "required": ["owner"],
        "additionalProperties": False,
    },
    "A record in the JSON file.",
)


class JsonStoreSettings(ProviderSettings):
    path: str = Field(default=".spo/records.json", description="The JSON file.")


class JsonStoreProvider(Provider):
    """Records in one JSON file (an example provider)."""

    name = "jsonstore"
    settings_model = JsonStoreSettings
    types: ClassVar[Mapping[str, ResourceType]] = {"record": RECORD}

    def __init__(self, settings: ProviderSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, JsonStoreSettings)
        path = Path(settings.path)
        self.path = path if path.is_absolute() else context.project_root / path
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise ProviderError(f"jsonstore: cannot read {self.path}: {e}") from e
        if not isinstance(data, dict):
            raise ProviderError(f"jsonstore: {self.path} does not hold an object")
        return data

    def _save(self, data: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def read(self, type_: str, id_: str) -> Observed | None:
        self.resource_type(type_)  # ProviderError naming the types when unknown
        with self._lock:
            rec = self._load().get(type_, {}).get(id_)
        return None if rec is None else Observed(id_, rec["name"], rec["properties"])

    def create(self, type_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.check_properties(type_, name, properties)  # the type's schema; unknown types too
        with self._lock:
            data = self._load()
            records = data.setdefault(type_, {})
            # idempotent by name: adopt a record of that name instead of adding a second one
            id_ = next((i for i, r in records.items() if r["name"] == name), uuid.uuid4().hex)
            records[id_] = {"name": name, "properties": dict(properties)}
            self._save(data)
        return Observed(id_, name, dict(properties))

    def update(self, type_: str, id_: str, name: str, properties: Mapping[str, Any]) -> Observed:
        self.check_properties(type_, name, properties)
        with self._lock:
            data = self._load()
            if id_ not in data.get(type_, {}):
                raise ProviderError(f"jsonstore.{type_}.{name}: not found (id {id_})")
            data[type_][id_] = {"name": name, "properties": dict(properties)}
            self._save(data)
        return Observed(id_, name, dict(properties))

    def delete(self, type_: str, id_: str) -> None:
        self.resource_type(type_)
        with self._lock:
            data = self._load()
            if data.get(type_, {}).pop(id_, None) is not None:
                self._save(data)

    def list(self, type_: str) -> list[Observed]:
        self.resource_type(type_)
        with self._lock:
            records = self._load().get(type_, {})
        return sorted(
            (Observed(i, r["name"], r["properties"]) for i, r in records.items()),
            key=lambda o: o.name,
        )
