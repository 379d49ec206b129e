"""Malformed files: each is one located diagnostic, exit 1, and never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_spo

TEAM = (
    b"apiVersion: spo/v1\nkind: Party\nmetadata:\n  name: team-x\n  version: 1.0.0\n"
    b"spec:\n  type: team\n"
)
HEAD = b"apiVersion: spo/v1\nkind: Party\nmetadata:\n  name: p\n  version: 1.0.0\n"

# (case id, file content, expected code, expected line)
CASES: list[tuple[str, bytes, str, int]] = [
    ("unclosed-flow", HEAD + b"spec: [type, team\n", "SPO101", 7),
    ("tab-indent", HEAD + b"spec:\n\ttype: team\n", "SPO102", 7),
    ("duplicate-key", HEAD + b"spec:\n  type: team\n  type: customer\n", "SPO103", 8),
    ("duplicate-top-key", HEAD + b"kind: Party\nspec: {type: team}\n", "SPO103", 6),
    ("latin1-byte", HEAD + b"spec:\n  type: team\n  members: [J\xf6rg]\n", "SPO104", 8),
    ("nul-byte", HEAD + b"spec:\n  type: te\x00am\n", "SPO105", 7),
    ("top-level-list", b"- apiVersion: spo/v1\n- kind: Party\n", "SPO106", 1),
    ("top-level-string", b"just some text\n", "SPO106", 1),
    ("second-doc-number", TEAM + b"---\n42\n", "SPO106", 9),
    ("python-tag", HEAD + b"spec: !!python/object/apply:os.system [echo hi]\n", "SPO107", 6),
    ("include-tag", HEAD + b"spec: !include other.yaml\n", "SPO107", 6),
    ("custom-map-tag", HEAD + b"spec: !thing {type: team}\n", "SPO107", 6),
    (
        "billion-laughs",
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n".encode()
            for i in range(8)
        ),
        "SPO108",
        4,
    ),
    ("recursive-alias", b"a: &r [1, *r]\n", "SPO109", 1),
    ("deep-flow-nesting", b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "SPO109", 1),
    (
        "deep-block-nesting",
        b"".join(b" " * i + f"k{i}:\n".encode() for i in range(80)) + b" " * 80 + b"v\n",
        "SPO109",
        65,
    ),
    ("oversized-file", b"# " + b"x" * (1024 * 1024) + b"\n", "SPO110", 1),
    ("complex-key", HEAD + b"spec:\n  [a, b]: team\n", "SPO111", 7),
    ("nan-value", HEAD + b"spec:\n  type: team\n  weight: .nan\n", "SPO113", 8),
    ("undefined-alias", HEAD + b"spec: *nowhere\n", "SPO101", 6),
    ("unquoted-colon", HEAD + b"  title: Service: the best\nspec: {type: team}\n", "SPO101", 6),
    ("unterminated-quote", HEAD + b'  title: "open\nspec: {type: team}\n', "SPO101", 6),
    ("control-char", HEAD + b"  title: bell\x07\nspec: {type: team}\n", "SPO101", 6),
    ("bad-indent", HEAD + b"spec:\n  type: team\n bad: 1\n", "SPO101", 8),
]


@pytest.fixture(autouse=True)
def _project(in_tmp: Path) -> None:
    """Each case is a catalog of its own (spo.yaml beside catalog/)."""
    (in_tmp / "spo.yaml").write_text("catalog: {paths: [catalog]}\n")


@pytest.mark.parametrize(("name", "content", "code", "line"), CASES, ids=[c[0] for c in CASES])
def test_malformed_file_is_one_located_finding(
    in_tmp: Path, name: str, content: bytes, code: str, line: int
) -> None:
    target = in_tmp / "catalog" / f"{name}.yaml"
    target.parent.mkdir()
    target.write_bytes(content)
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    found = [(f["code"], f["file"], f["line"]) for f in report["findings"]]
    assert (code, f"catalog/{name}.yaml", line) in found, found


def test_malformed_text_output_points_at_the_line(in_tmp: Path) -> None:
    (in_tmp / "catalog").mkdir()
    (in_tmp / "catalog" / "dup.yaml").write_bytes(HEAD + b"spec:\n  type: team\n  type: team\n")
    result = run_spo("validate", "--no-color")
    assert result.exit_code == 1
    assert "catalog/dup.yaml:8:3: error SPO103 duplicate key 'type' (first defined at line 7)" in (
        result.stdout
    )
    assert "    8 |   type: team" in result.stdout or " 8 |   type: team" in result.stdout


def test_tags_are_never_executed(in_tmp: Path) -> None:
    marker = in_tmp / "pwned"
    (in_tmp / "catalog").mkdir()
    (in_tmp / "catalog" / "evil.yaml").write_text(
        f"kind: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    assert not marker.exists()


def test_size_limit_is_configurable(in_tmp: Path) -> None:
    (in_tmp / "spo.yaml").write_text("catalog: {paths: [catalog]}\nlimits: {maxFileSize: 100}\n")
    (in_tmp / "catalog").mkdir()
    (in_tmp / "catalog" / "team.yaml").write_bytes(TEAM + b"# padding padding padding\n")
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["SPO110"]


def test_unquoted_short_version_is_explained(in_tmp: Path) -> None:
    (in_tmp / "catalog").mkdir()
    (in_tmp / "catalog" / "team.yaml").write_bytes(TEAM.replace(b"1.0.0", b"1.0"))
    result = run_spo("validate", "--format", "json")
    assert result.exit_code == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["line"]) == ("SPO406", 5)
    assert "unquoted" in finding["hint"]
