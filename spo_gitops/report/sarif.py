"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

Columns are counted in Unicode code points (as the YAML loader counts them), which the run
declares with ``columnKind``; waived findings carry an external suppression.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from spo_gitops.diagnostics import CODES, SEVERITIES, Diagnostic
from spo_gitops.report.common import INFORMATION_URI, TOOL_NAME, Run, full_message

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "spoFinding/v1"

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def fingerprint(d: Diagnostic) -> str:
    """A hash that stays the same while the finding does, wherever its line moves."""
    key = "\0".join((d.code, d.file or "", d.entity or "", d.pointer or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def artifact_location(file: str) -> dict[str, str]:
    """A relative path as a URI reference against %SRCROOT%; an absolute one as a file URI."""
    if PureWindowsPath(file).is_absolute():
        return {"uri": PureWindowsPath(file).as_uri()}
    posix = file.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return {"uri": PurePosixPath(posix).as_uri()}
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def _location(file: str, d: Diagnostic) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(file)}
    if d.line is not None:
        region: dict[str, int] = {"startLine": d.line}
        if d.column is not None:
            region["startColumn"] = d.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _rules(findings: tuple[Diagnostic, ...]) -> list[dict[str, Any]]:
    """One rule per code used, at the level of its most severe finding."""
    worst: dict[str, int] = {}
    for d in findings:
        rank = SEVERITIES.index(d.severity)
        worst[d.code] = min(rank, worst.get(d.code, rank))
    return [
        {
            "id": code,
            "shortDescription": {"text": CODES.get(code, code)},
            "defaultConfiguration": {"level": _LEVELS[SEVERITIES[worst[code]]]},
        }
        for code in sorted(worst)
    ]


def _result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[d.severity],
        "message": {"text": full_message(d)},
    }
    if d.file is not None:
        result["locations"] = [_location(d.file, d)]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(d)}
    if d.waived is not None:
        result["suppressions"] = [{"kind": "external", "justification": d.waived}]
    properties = {k: v for k, v in (("entity", d.entity), ("pointer", d.pointer)) if v is not None}
    if properties:
        result["properties"] = properties
    return result


def render(run: Run) -> str:
    rules = _rules(run.findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    log = {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": run.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, index[d.code]) for d in run.findings],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
