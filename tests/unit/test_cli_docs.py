"""docs/cli.md documents every environment variable the package reads."""

from __future__ import annotations

import re

from tests.conftest import REPO


def test_every_environment_variable_is_documented() -> None:
    source = "\n".join(p.read_text() for p in (REPO / "spo_gitops").rglob("*.py"))
    names = set(re.findall(r"\"(SPO_[A-Z_]+)\"", source))
    names |= set(re.findall(r"environ(?:\.get)?\(\"([A-Z_]+)\"", source))
    assert {"NO_COLOR", "FORCE_COLOR", "SPO_PLAN_SIGNING_KEY"} <= names
    documented = (REPO / "docs" / "cli.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in documented)
    assert missing == []
