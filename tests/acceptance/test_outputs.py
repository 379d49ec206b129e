"""Writing results: ``-o`` says on stderr what it wrote, an unwritable path is one line with a
hint, ``-o .`` never writes into the catalog; nothing found is not success."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_spo, tiny_catalog


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["plan"],
        ["drift"],
        ["codeowners"],
        ["codeowners", "--check"],
        ["graph"],
        ["docs", "build", "-o", "site"],
    ],
)
def test_outside_a_catalog_commands_exit_1_and_write_nothing(
    in_tmp: Path, command: list[str]
) -> None:
    result = run_spo(*command)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.startswith("spo: error: no spo.yaml in ")
    assert "hint: start one with `spo init`" in result.stderr
    assert result.stdout == ""
    assert "no problems found" not in result.stdout
    assert files_under(in_tmp) == []


@pytest.mark.parametrize("command", [["validate"], ["plan"], ["drift"], ["codeowners"]])
def test_catalog_paths_matching_nothing_exit_1_and_write_nothing(
    in_tmp: Path, command: list[str]
) -> None:
    (in_tmp / "spo.yaml").write_text("catalog:\n  paths: [nowhere]\n")
    result = run_spo(*command)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert (
        result.stderr.splitlines()[0]
        == "spo: error: catalog.paths in spo.yaml (nowhere) match no catalog file"
    )
    assert "hint: fix catalog.paths" in result.stderr
    assert files_under(in_tmp) == ["spo.yaml"]  # no .spo/state.db, no .github/CODEOWNERS


def test_naming_files_still_validates_them_without_a_catalog(in_tmp: Path) -> None:
    (in_tmp / "team.yaml").write_text(
        "apiVersion: spo/v1\nkind: Party\nmetadata: {name: team-a, version: 1.0.0}\n"
        "spec: {type: team}\n"
    )
    assert run_spo("validate", "team.yaml").exit_code == 0


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (["validate", "--format", "json"], "the report"),
        (["graph", "--format", "mermaid"], "the graph"),
    ],
)
def test_o_says_on_stderr_what_it_wrote(in_tmp: Path, command: list[str], what: str) -> None:
    work = tiny_catalog(in_tmp)
    out = in_tmp / "out.txt"
    result = run_spo("-C", str(work), *command, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"spo: wrote {what} to {out}" in result.stderr
    assert out.read_text()


def test_an_unwritable_output_path_is_one_line_with_a_hint(in_tmp: Path) -> None:
    work = tiny_catalog(in_tmp)
    (in_tmp / "afile").write_text("x")
    target = in_tmp / "afile" / "report.json"
    result = run_spo("-C", str(work), "validate", "--format", "json", "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"spo: error: cannot write {target}: a part of the path is a file, not a folder",
        "  hint: choose a path you can write to, e.g. in the current folder",
    ]
    assert "Traceback" not in result.stderr


def test_o_dot_never_writes_into_the_catalogs_root(in_tmp: Path) -> None:
    work = tiny_catalog(in_tmp)
    before = files_under(work)
    for folder in (".", ".."):
        result = run_spo("-C", str(work), "docs", "build", "-o", folder)
        assert result.exit_code == 64, result.stderr
        assert "refusing to write into" in result.stderr
        assert "hint: name a folder of its own, e.g. -o site" in result.stderr
    assert files_under(work) == before
    # a file output of "." is a folder: click refuses it as a usage error
    assert run_spo("-C", str(work), "validate", "-o", ".").exit_code == 64
    assert files_under(work) == before


def test_docs_build_into_a_folder_of_its_own_says_what_it_wrote(in_tmp: Path) -> None:
    work = tiny_catalog(in_tmp)
    result = run_spo("-C", str(work), "docs", "build", "-o", "site")
    assert result.exit_code == 0, result.stderr
    assert "spo: wrote the site (" in result.stderr
    assert (work / "site" / "index.html").is_file()


def test_sla_report_with_a_missing_metrics_file_prints_no_report(in_tmp: Path) -> None:
    work = tiny_catalog(in_tmp)
    result = run_spo("-C", str(work), "sla", "report", "--metrics", "missing.csv")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == "spo: error: metrics file missing.csv does not exist"
