"""`spo policy test`: policy unit tests as folders of fixture documents and expected findings.

A case is a folder holding catalog documents (any ``*.yaml`` files) and ``expect.yaml``::

    today: 2026-06-01          # optional: the date waivers are judged against
    findings:                  # the policy and capacity findings expected, not waived
      - {code: POL003, entity: ServiceModel:payments}
    waived:                    # optional: findings expected to be accepted by a waiver
      - {code: POL007, entity: PortfolioEntry:payments}

The project's policies are evaluated over each case's documents; the case passes when the
findings of policy codes and SPO5xx codes are exactly those expected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from spo_gitops.catalog.files import fixture_files
from spo_gitops.catalog.loader import Limits
from spo_gitops.catalog.references import build_index
from spo_gitops.policy import evaluate_policies

EXPECT = "expect.yaml"
Finding = tuple[str, str]  # (code, entity)


@dataclass
class CaseResult:
    name: str
    missing: list[Finding] = field(default_factory=list)
    unexpected: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # broken fixtures: unreadable, invalid

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.errors)


def find_cases(directory: Path) -> list[Path]:
    return sorted(p.parent for p in directory.rglob(EXPECT))


def _pairs(items: object) -> set[Finding]:
    out = set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            out.add((str(item.get("code")), str(item.get("entity"))))
    return out


def run_case(case: Path, policy_files: list[Path], limits: Limits, label: str) -> CaseResult:
    from spo_gitops.catalog.validate import load_all  # the validate stage imports this package

    result = CaseResult(label)
    try:
        expect = yaml.safe_load((case / EXPECT).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        result.errors.append(f"{EXPECT}: {e}")
        return result
    today = expect.get("today")
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    files = [p for p in fixture_files(case) if p.name != EXPECT] + policy_files
    docs, diagnostics = load_all([(str(f), f.as_posix()) for f in files], limits, jobs=1)
    for d in diagnostics:
        if d.severity == "error":
            result.errors.append(f"{d.location()}: {d.code} {d.message}")
    index, _ = build_index(docs)
    findings = evaluate_policies(index, today if isinstance(today, dt.date) else None).findings
    policy_codes = {str(d.data["spec"]["code"]) for d in index.of_kind("Policy") if d.valid}
    relevant = [f for f in findings if f.code in policy_codes or f.code.startswith("SPO5")]
    got = {(f.code, f.entity or "") for f in relevant if f.waived is None}
    got_waived = {(f.code, f.entity or "") for f in relevant if f.waived is not None}
    want, want_waived = _pairs(expect.get("findings")), _pairs(expect.get("waived"))
    result.missing = sorted((want - got) | (want_waived - got_waived))
    result.unexpected = sorted((got - want) | (got_waived - want_waived))
    return result


def run_tests(directory: Path, policy_files: list[Path], limits: Limits) -> list[CaseResult]:
    return [
        run_case(case, policy_files, limits, case.relative_to(directory).as_posix())
        for case in find_cases(directory)
    ]
