"""JSON Schemas (draft 2020-12) generated from the models, and fast validation against them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from spo_gitops import jsonio
from spo_gitops.errors import SchemaDriftError
from spo_gitops.fsutil import write_atomic
from spo_gitops.models import KIND_MODELS

SCHEMA_BASE = "https://spo-gitops.dev/schemas/v1/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    """Optional fields are omitted, never null: drop ``null`` from their type."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])


def _strip_null_defaults(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _strip_null_defaults(v)
            for k, v in node.items()
            if not (k == "default" and v is None)
        }
    if isinstance(node, list):
        return [_strip_null_defaults(v) for v in node]
    return node


def schema_id(kind: str) -> str:
    return f"{SCHEMA_BASE}{kind}.json"


@cache
def kind_schema(kind: str) -> dict[str, Any]:
    model = KIND_MODELS[kind]
    body = model.model_json_schema(by_alias=True, schema_generator=_Generator)
    body = _strip_null_defaults(body)
    head = {
        "$schema": DIALECT,
        "$id": schema_id(kind),
        "title": kind,
        "description": (model.__doc__ or kind).strip(),
    }
    body.pop("title", None)
    body.pop("description", None)
    return {**head, **body}


def schema_files() -> dict[str, str]:
    """File name (relative to schemas/) -> exact text, for every kind."""
    files = {}
    for kind in sorted(KIND_MODELS):
        files[f"v1/{kind}.json"] = jsonio.dumps(kind_schema(kind), indent=2, sort_keys=False) + "\n"
    return files


def export(directory: Path, *, check: bool = False) -> list[str]:
    """Write the schema files (with ``check``: only list those that differ); returns their names."""
    changed = []
    for name, text in schema_files().items():
        target = directory / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        changed.append(name)
        if not check:
            write_atomic(target, text)
    if check and changed:
        raise SchemaDriftError(
            f"{len(changed)} schema file(s) in {directory} differ from the models: "
            + ", ".join(changed),
            hint="run 'spo schema export' and commit the result",
        )
    return changed


@cache
def _validator(kind: str) -> Any:
    return jsonschema_rs.validator_for(kind_schema(kind), validate_formats=True)


@dataclass(frozen=True, slots=True)
class SchemaError:
    path: tuple[str, ...]  # where the finding points (a key's name is pointed at by ``at_key``)
    message: str
    at_key: bool = False


def check(kind: str, data: Any) -> Iterator[SchemaError]:
    """Every schema violation of one document, in a stable order."""
    validator = _validator(kind)
    if validator.is_valid(data):  # the common case, in half the time of listing no errors
        return
    for err in validator.iter_errors(data):
        path = tuple(str(p) for p in err.instance_path)
        message = err.message
        at_key = False
        kind_name = type(err.kind).__name__
        if kind_name == "AdditionalProperties":
            unexpected = getattr(err.kind, "unexpected", None) or []
            if len(unexpected) == 1:
                path = (*path, str(unexpected[0]))
                at_key = True
                message = f"unknown field {unexpected[0]!r}"
        yield SchemaError(path, message, at_key)


def known_kinds() -> list[str]:
    return sorted(KIND_MODELS)
