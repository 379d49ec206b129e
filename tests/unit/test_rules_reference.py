"""docs/rules.md lists every finding code and every shipped policy."""

from __future__ import annotations

import re

from spo_gitops.diagnostics import CODES
from tests.conftest import REPO


def test_every_code_and_policy_has_a_row_in_the_rule_reference() -> None:
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| (SPO\d{3,4}|POL\d{3}) \|", text, re.MULTILINE))
    policies = {
        m.group(1)
        for path in (REPO / "policies").glob("*.yaml")
        for m in re.finditer(r"^  code: (POL\d{3})$", path.read_text(encoding="utf-8"), re.M)
    }
    assert policies, "no shipped policies found"
    assert sorted(set(CODES) - rows) == []
    assert sorted(policies - rows) == []
