"""A files provider path with a NUL or another control character is refused by spo validate,
where it is written, before anything is planned or applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spo_gitops.testing.catalogs import write_provisioned_catalog
from tests.helpers import run_spo


@pytest.mark.parametrize("bad", ["\\0", "\\n", "\\t", "\\x7f", "\\e"])
def test_a_control_character_in_a_files_path_is_a_located_finding(in_tmp: Path, bad: str) -> None:
    write_provisioned_catalog(in_tmp, 1, extras=("page",))
    page = in_tmp / "catalog" / "svc-0000.yaml"
    text = page.read_text()
    assert "path: pages/svc-0000.md" in text
    page.write_text(text.replace("path: pages/svc-0000.md", f'path: "pages/svc{bad}0000.md"'))
    line = 1 + page.read_text().splitlines().index(
        next(ln for ln in page.read_text().splitlines() if "pages/svc" in ln)
    )
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    found = [
        (f["code"], f["file"], f["line"], f["message"])
        for f in json.loads(result.stdout)["findings"]
        if f["code"] == "SPO708"
    ]
    assert [(c, file, ln) for c, file, ln, _ in found] == [
        ("SPO708", "catalog/svc-0000.yaml", line)
    ]
    assert "control characters" in found[0][3]


def test_an_ordinary_path_is_accepted(in_tmp: Path) -> None:
    write_provisioned_catalog(in_tmp, 1, extras=("page",))
    result = run_spo("validate", "--format", "json")
    assert not [f for f in json.loads(result.stdout)["findings"] if f["code"] == "SPO708"]
