"""``spo providers list|schema`` through the real entry point."""

from __future__ import annotations

import json

import jsonschema

from tests.helpers import run_spo


def test_list_names_the_builtin_providers() -> None:
    result = run_spo("providers", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.split()[:2] == ["cmdb", "spo_gitops.providers.cmdb:CmdbProvider"] for line in lines
    )
    assert "types: allocation, interface, party, service, sla" in result.stdout
    assert "settings: dsnEnv, path, url" in result.stdout
    assert any(
        line.split()[:2] == ["files", "spo_gitops.providers.files:FilesProvider"] for line in lines
    )
    assert "types: file" in result.stdout


def test_list_as_json() -> None:
    result = run_spo("providers", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["providers"]}
    assert rows["files"]["types"] == ["file"]
    assert rows["files"]["settings"] == ["directory"]
    assert rows["cmdb"]["description"].startswith("A service registry")


def test_schema_of_one_type_is_a_valid_json_schema() -> None:
    result = run_spo("providers", "schema", "cmdb", "service")
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["tier"]["maximum"] == 4


def test_schema_of_all_types() -> None:
    result = run_spo("providers", "schema", "cmdb")
    assert result.exit_code == 0, result.stderr
    schemas = json.loads(result.stdout)
    assert sorted(schemas) == ["allocation", "interface", "party", "service", "sla"]
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_of_the_settings() -> None:
    result = run_spo("providers", "schema", "files", "--settings")
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["properties"]["directory"]["default"] == ".spo/artifacts"
    assert schema["additionalProperties"] is False


def test_unknown_provider_is_a_usage_error_naming_the_available_ones() -> None:
    result = run_spo("providers", "schema", "nope")
    assert result.exit_code == 64
    assert "unknown provider 'nope'; available: aws, cmdb, files, http, jsonstore" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_type_is_a_usage_error_naming_the_types() -> None:
    result = run_spo("providers", "schema", "files", "folder")
    assert result.exit_code == 64
    assert "no resource type 'folder'; its types: file" in result.stderr
