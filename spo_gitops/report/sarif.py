"""SARIF 2.1.0, as GitHub code scanning reads it (and other SARIF viewers).

- Every rule has a name, a short description (the policy's title, or what the code means), a
  full description, help in text and markdown with the hint, and a helpUri (rules.py).
- Waived findings are left out: code scanning ignores ``suppressions`` and would open an alert
  for each; the run counts them in its properties.
- ``partialFingerprints`` identify a finding by what it is, not where: code, file, entity,
  pointer and message, plus an ordinal among findings that share all of these. Unrelated edits
  (lines added above) keep them; two different findings in one file never share one.
- URIs are relative to the repository root (``prefix``: the folder of spo.yaml in the
  repository), against ``%SRCROOT%``, which code scanning resolves to its checkout.
- Code scanning needs a location for every result: a finding about the catalog as a whole
  (no file) is shown at the top of spo.yaml.
- Columns are counted in Unicode code points (as the YAML loader counts them): ``columnKind``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from spo_gitops import jsonio
from spo_gitops.diagnostics import SEVERITIES, Diagnostic
from spo_gitops.report.common import INFORMATION_URI, TOOL_NAME, Run, full_message
from spo_gitops.report.rules import Rule, describe

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "spoFinding/v2"
PROJECT_FILE = "spo.yaml"

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def identity(d: Diagnostic) -> str:
    """What a finding is, without where it is in the file."""
    return "\0".join((d.code, d.file or "", d.entity or "", d.pointer or "", d.message))


def fingerprints(findings: list[Diagnostic]) -> list[str]:
    """One hash per finding, unique within the run, stable while the findings stay the same."""
    seen: Counter[str] = Counter()
    out = []
    for d in findings:
        key = identity(d)
        seen[key] += 1
        out.append(hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest())
    return out


def artifact_location(file: str, prefix: str = "") -> dict[str, str]:
    """A relative path as a URI reference against %SRCROOT% (the repository root, ``prefix``
    being the project's folder in it); an absolute one as a file URI."""
    if PureWindowsPath(file).is_absolute():
        return {"uri": PureWindowsPath(file).as_uri()}
    posix = file.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return {"uri": PurePosixPath(posix).as_uri()}
    if prefix:
        posix = f"{prefix.strip('/')}/{posix}"
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def _location(d: Diagnostic, prefix: str) -> dict[str, Any]:
    assert d.file is not None
    physical: dict[str, Any] = {"artifactLocation": artifact_location(d.file, prefix)}
    if d.line is not None:
        region: dict[str, int] = {"startLine": d.line}
        if d.column is not None:
            region["startColumn"] = d.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _help(rule: Rule) -> dict[str, str]:
    text = rule.description
    markdown = f"**{rule.title}**\n\n{rule.description}"
    if rule.hint:
        text += f"\n\nHow to fix: {rule.hint}"
        markdown += f"\n\n**How to fix:** {rule.hint}"
    text += f"\n\nSee {rule.help_uri}"
    markdown += f"\n\nSee [{rule.code}]({rule.help_uri})."
    return {"text": text, "markdown": markdown}


def _descriptor(rule: Rule, level: str) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": _help(rule),
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": level},
    }


def _result(d: Diagnostic, rule_index: int, fingerprint: str, prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[d.severity],
        "message": {"text": full_message(d)},
    }
    # code scanning needs a location: a finding about the catalog as a whole is shown at spo.yaml
    where = d if d.file is not None else d.with_(file=PROJECT_FILE, line=1, column=1)
    result["locations"] = [_location(where, prefix)]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    properties = {k: v for k, v in (("entity", d.entity), ("pointer", d.pointer)) if v is not None}
    if properties:
        result["properties"] = properties
    return result


def render(run: Run) -> str:
    open_findings = [d for d in run.findings if d.waived is None]
    rules = {**describe(open_findings), **run.rules}
    worst: dict[str, int] = {}
    for d in open_findings:
        rank = SEVERITIES.index(d.severity)
        worst[d.code] = min(rank, worst.get(d.code, rank))
    codes = sorted(worst)
    descriptors = [_descriptor(rules[c], _LEVELS[SEVERITIES[worst[c]]]) for c in codes]
    index = {code: i for i, code in enumerate(codes)}
    results = [
        _result(d, index[d.code], fp, run.prefix)
        for d, fp in zip(open_findings, fingerprints(open_findings), strict=True)
    ]
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
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {"waived": len(run.findings) - len(open_findings)},
            }
        ],
    }
    return jsonio.dumps(log, indent=2) + "\n"
