"""Every machine-readable output matches the JSON Schema shipped for it in schemas/output/,
checked with plain jsonschema on real outputs of the CLI (none of them produced by the code
that writes the schemas: the schemas are hand-written files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.acceptance.test_cli_habits import committed_project
from tests.conftest import REPO
from tests.gitrepo import commit, git, make_repo, service, write
from tests.helpers import run_spo

SCHEMAS = REPO / "schemas" / "output"
SAMPLE = str(REPO / "examples" / "metrics" / "northwind-2026.csv")


def check(name: str, text: str) -> dict[str, Any]:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator(schema).validate(document)
    return document


def keys(node: Any, skip: frozenset[str] = frozenset()) -> set[str]:
    """Every key of the document's own structure (not of user data: before, after, properties)."""
    if isinstance(node, list):
        return set().union(*(keys(n, skip) for n in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    out = set(node)
    for k, v in node.items():
        if k not in skip:
            out |= keys(v, skip)
    return out


USER_DATA = frozenset({"before", "after", "properties", "old", "new"})


def test_every_output_schema_has_a_format_version_and_an_id() -> None:
    names = sorted(p.stem for p in SCHEMAS.glob("*.json"))
    assert names == [
        "diff",
        "drift",
        "plan",
        "providers-list",
        "sla-report",
        "state-list",
        "validate-report",
    ]
    for name in names:
        schema = json.loads((SCHEMAS / f"{name}.json").read_text())
        assert "format_version" in schema["required"], name
        assert schema["$id"] == f"https://spo-gitops.dev/schemas/output/{name}.json"


def test_validate_report(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"catalog/services/broken.yaml": "apiVersion: spo/v1\nkind: ServiceModel\n"})
    result = run_spo("-C", str(root), "validate", "--format", "json")
    assert result.exit_code == 1
    document = check("validate-report", result.stdout)
    assert document["summary"]["errors"] >= 1


def test_diff(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    base = git(root, "rev-parse", "HEAD").strip()
    git(root, "mv", "catalog/services/banking.yaml", "catalog/services/online.yaml")
    write(root, {"catalog/services/payments.yaml": service("payments", version="1.1.0")})
    commit(root, "change")
    result = run_spo("-C", str(root), "diff", base, "HEAD", "--format", "json")
    document = check("diff", result.stdout)
    assert document["changes"]
    assert all(k == k.lower() for k in keys(document, USER_DATA))


@pytest.fixture
def provisioned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return committed_project(tmp_path, monkeypatch)


def test_plan_drift_and_state_list(provisioned: Path) -> None:
    empty = check("state-list", run_spo("state", "list", "--format", "json").stdout)
    assert empty["resources"] == []
    assert run_spo("plan", "-o", "p.json").exit_code == 0
    check("plan", Path("p.json").read_text())
    check("plan", run_spo("plan", "--format", "json").stdout)
    check("plan", run_spo("show", "p.json", "--format", "json").stdout)
    assert run_spo("apply", "p.json", "--auto-approve").exit_code == 0
    state = check("state-list", run_spo("state", "list", "--format", "json").stdout)
    assert [r["address"] for r in state["resources"]] == ["cmdb.service.payments"]
    drift = check("drift", run_spo("drift", "--format", "json").stdout)
    assert drift["summary"] == {"drifted": 0, "deleted": 0, "unchanged": 1}
    for document in (state, drift):
        assert all(k == k.lower() and "-" not in k for k in keys(document, USER_DATA))


def test_sla_report() -> None:
    result = run_spo("-C", str(REPO), "sla", "report", "--metrics", SAMPLE, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = check("sla-report", result.stdout)
    assert document["objectives"]
    assert all(k == k.lower() and "-" not in k for k in keys(document))


def test_providers_list() -> None:
    document = check("providers-list", run_spo("providers", "list", "--format", "json").stdout)
    assert {"cmdb", "files"} <= {p["name"] for p in document["providers"]}
