"""Broken catalog variants: each names the finding it must produce in a first-line comment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import run_spo

BROKEN = sorted((REPO / "tests" / "fixtures" / "broken").glob("*.yaml"))
EXPECT = re.compile(r"#\s*expect:\s*(SPO\d{3})\s+line\s+(\d+)")


def test_there_are_enough_cases() -> None:
    assert len(BROKEN) >= 20


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_variant_is_reported_where_it_breaks(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    match = EXPECT.search(path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name} has no '# expect: SPOxxx line N' header"
    code, line = match.group(1), int(match.group(2))
    target = tmp_path / "catalog" / path.name
    target.parent.mkdir()
    target.write_bytes(path.read_bytes())
    (tmp_path / "spo.yaml").write_text("catalog:\n  paths: [catalog]\n")
    monkeypatch.chdir(tmp_path)
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)["findings"]
    errors = [(f["code"], f["file"], f["line"]) for f in findings if f["severity"] == "error"]
    assert (code, f"catalog/{path.name}", line) in errors
    assert len(errors) == 1, errors  # nothing but the intended finding
    assert all(f["hint"] or f["code"].startswith("SPO2") for f in findings if f["code"] == code)
