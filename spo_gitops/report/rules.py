"""What each finding code means, as reports that describe their rules show it (SARIF).

A code of the toolkit (``SPO204``) is described by the table in :mod:`spo_gitops.diagnostics`
and documented in docs/rules.md; a policy's code (``POL003``) by its Policy document: the title,
the description, the hint. One :class:`Rule` per code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spo_gitops.diagnostics import CODES, Diagnostic
from spo_gitops.report.common import INFORMATION_URI

DOCS = f"{INFORMATION_URI}/blob/main/docs/"


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str  # PascalCase, as SARIF's reportingDescriptor.name
    title: str  # one line
    description: str  # a paragraph
    hint: str | None
    help_uri: str


def pascal(text: str) -> str:
    """``resource pool near capacity`` -> ``ResourcePoolNearCapacity``."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    return "".join(w[:1].upper() + w[1:] for w in words) or "Rule"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _policy_rule(code: str, data: Mapping[str, Any]) -> Rule:
    meta = data.get("metadata") or {}
    spec = data.get("spec") or {}
    name = str(meta.get("name") or code)
    title = str(meta.get("title") or name.replace("-", " "))
    description = meta.get("description")
    if not description:
        kinds = ", ".join(str(k) for k in (spec.get("match") or {}).get("kinds") or [])
        description = f"Policy {name} ({spec.get('severity', 'error')}"
        description += f", on {kinds})" if kinds else ")"
        description += f": {title}"
    hint = spec.get("hint")
    return Rule(
        code=code,
        name=pascal(name),
        title=_sentence(title).rstrip("."),
        description=_sentence(str(description)),
        hint=" ".join(str(hint).split()) if hint else None,
        help_uri=f"{DOCS}policies.md",
    )


# the stage a toolkit code belongs to, by its hundreds (docs/rules.md has the same table)
STAGES = {
    1: "reading and parsing the file",
    2: "the document's envelope and its kind's JSON Schema",
    3: "names and references between documents",
    4: "the semantic checks of a document",
    5: "policies and resource pools",
    6: "changes between two revisions (spo diff)",
    7: "desired resources (compile)",
    8: "measured service levels",
    9: "the project configuration (spo.yaml)",
    10: "portfolio decisions: roadmap, run budget, risks",
}


def _toolkit_rule(code: str, findings: Iterable[Diagnostic]) -> Rule:
    known = CODES.get(code)
    title = known or code
    hints = sorted({d.hint for d in findings if d.code == code and d.hint})
    number = re.fullmatch(r"SPO(\d{3,4})", code)
    stage = STAGES.get(int(number.group(1)) // 100) if number else None
    description = f"{title}: a finding about {stage}" if stage else title
    return Rule(
        code=code,
        name=pascal(known) if known else code,
        title=_sentence(title).rstrip("."),
        description=_sentence(description),
        hint=hints[0] if len(hints) == 1 else None,
        help_uri=f"{DOCS}rules.md" + (f"#{code.lower()}" if number else ""),
    )


def describe(
    findings: Iterable[Diagnostic], policies: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Rule]:
    """A rule for every code among ``findings``; ``policies`` are Policy documents' data."""
    findings = list(findings)
    by_code = {
        str((p.get("spec") or {}).get("code")): p
        for p in policies
        if isinstance(p, Mapping) and (p.get("spec") or {}).get("code")
    }
    rules: dict[str, Rule] = {}
    for code in sorted({d.code for d in findings}):
        policy = by_code.get(code)
        rules[code] = _policy_rule(code, policy) if policy else _toolkit_rule(code, findings)
    return rules
