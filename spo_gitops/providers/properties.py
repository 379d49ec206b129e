"""A resource type's properties checked against its JSON Schema (draft 2020-12, jsonschema-rs).

Its own module, below both the provider contract (``base.check_properties``) and the registry,
so that neither imports the other for it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from spo_gitops import jsonio
from spo_gitops.redaction import Secrets

if TYPE_CHECKING:
    from spo_gitops.providers.base import ResourceType

PropertyError = tuple[tuple[str, ...], str]  # (path inside the properties, message)

_validators: dict[int, tuple[ResourceType, Any]] = {}
_validators_lock = threading.Lock()


def _validator(rtype: ResourceType) -> Any:
    entry = _validators.get(id(rtype))
    if entry is None or entry[0] is not rtype:
        with _validators_lock:
            validator = jsonschema_rs.validator_for(dict(rtype.schema), validate_formats=True)
            entry = _validators[id(rtype)] = (rtype, validator)
    return entry[1]


def _description(schema: Any, where: list[Any]) -> str | None:
    for key in where:
        try:
            schema = schema[key]
        except (KeyError, IndexError, TypeError):
            return None
    text = schema.get("description") if isinstance(schema, Mapping) else None
    return text if isinstance(text, str) else None


def type_errors(rtype: ResourceType, properties: Any) -> list[PropertyError]:
    """Violations of the type's JSON Schema, in a stable order. Values of sensitive properties
    never appear in the messages."""
    out: list[PropertyError] = []
    secrets = Secrets()  # a message about the whole object quotes it, secrets and all
    if isinstance(properties, Mapping):
        secrets.add_properties(properties, rtype.sensitive)
    for err in _validator(rtype).iter_errors(properties):
        path = tuple(str(p) for p in err.instance_path)
        message = err.message
        if type(err.kind).__name__ == "AdditionalProperties":
            unexpected = getattr(err.kind, "unexpected", None) or []
            if len(unexpected) == 1:
                path = (*path, str(unexpected[0]))
                message = f"unknown property {unexpected[0]!r}"
        elif path and path[0] in rtype.sensitive:
            message = f"invalid value (a sensitive property: {type(err.kind).__name__})"
        elif type(err.kind).__name__ in ("Pattern", "Not"):  # the regex tells a user little
            described = _description(rtype.schema, list(err.schema_path)[:-1])
            if described:
                message = f"{jsonio.dumps(err.instance)} is not allowed: {described}"
        out.append((path, secrets.text(message)))
    out.sort(key=lambda e: e[0])
    return out
