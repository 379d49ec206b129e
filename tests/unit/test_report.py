"""Every output format says what the findings say, and parses as what it claims to be."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spo_gitops.diagnostics import Diagnostic
from spo_gitops.errors import UsageError
from spo_gitops.report import FORMATS, render
from spo_gitops.report.github import escape_data, escape_property

FILES = ["catalog/slas/banking.yaml", "catalog/services/clean.yaml"]
SLA = "\n".join(
    [
        "apiVersion: spo/v1",
        "kind: ServiceLevelAgreement",
        "metadata:",
        "  name: banking",
        "spec:",
        "  objectives:",
        "    - metric: availability",
        "      target: high",
        "",
    ]
)

ERROR = Diagnostic(
    "error",
    "SPO204",
    "'high' is not of type 'number'",
    FILES[0],
    8,
    15,
    "ServiceLevelAgreement:banking",
    "/spec/objectives/0/target",
    hint="write the target as a number, e.g. 99.9",
)
WARNING = Diagnostic(
    "warning", "SPO406", "invalid version", FILES[0], 3, 1, "ServiceLevelAgreement:banking"
)
WAIVED = Diagnostic(
    "error",
    "SPO302",
    "reference does not resolve: team-x",
    FILES[0],
    4,
    9,
    "ServiceLevelAgreement:banking",
    "/metadata/owner",
    waived="team-x is created in PR 42",
)
CATALOG_INFO = Diagnostic("info", "SPO307", "service has no portfolio entry", entity="Service:x")
ALL = [WARNING, WAIVED, ERROR, CATALOG_INFO]


def run(
    fmt: str,
    findings: list[Diagnostic],
    root: Path,
    *,
    files: list[str] | None = None,
    color: bool = False,
) -> str:
    return render(
        fmt,
        findings,
        root=root,
        files=FILES if files is None else files,
        documents=3,
        tool_version="1.2.3",
        color=color,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    sla = tmp_path / FILES[0]
    sla.parent.mkdir(parents=True)
    sla.write_text(SLA, encoding="utf-8")
    return tmp_path


def write(root: Path, name: str, data: str | bytes) -> str:
    path = root / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", newline="")
    return name


def caret_under(out: str, source: str) -> str:
    """The character the caret points at under the excerpt line ending in ``source`` (ASCII)."""
    lines = out.splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith(source))
    shown, marker = lines[index], lines[index + 1]
    assert shown.index("|") == marker.index("|")
    return shown[marker.index("^")]


# --- text ---------------------------------------------------------------------------------


def test_text_is_compiler_style_with_source_caret_and_hint(root: Path) -> None:
    out = run("text", [ERROR], root)
    assert out.splitlines()[:4] == [
        "catalog/slas/banking.yaml:8:15: error SPO204 'high' is not of type 'number'"
        " [ServiceLevelAgreement:banking]",
        "  8 |       target: high",
        "    |               ^",
        "  hint: write the target as a number, e.g. 99.9",
    ]
    assert caret_under(out, "target: high") == "h"
    assert out.endswith("\n\nChecked 3 documents in 2 files: 1 error, 0 warnings, 0 info\n")


def test_text_gutter_widens_with_the_line_number(root: Path) -> None:
    name = write(root, "long.yaml", "".join(f"k{i}: {i}\n" for i in range(1, 120)))
    out = run("text", [Diagnostic("warning", "SPO999", "m", name, 114, 7)], root)
    assert "  114 | k114: 114\n      |       ^\n" in out


@pytest.mark.parametrize(
    ("source", "column", "shown", "pad"),
    [
        ("\tkey:\tvalue", 7, "    key:    value", 12),
        ("  -\t\tx: 1", 6, "  -     x: 1", 8),
        ("ab\tc\td", 6, "ab  c   d", 8),
        ("name: Zürich", 8, "name: Zürich", 7),
        ("title: 東京 ok", 11, "title: 東京 ok", 12),  # wide characters take two columns
        ("note: cafe\u0301 bar", 13, "note: cafe\u0301 bar", 11),  # a combining accent none
        ("x: \U0001f600 y", 6, "x: \U0001f600 y", 6),
    ],
)
def test_caret_lines_up_after_tabs_and_non_ascii(
    root: Path, source: str, column: int, shown: str, pad: int
) -> None:
    name = write(root, "odd.yaml", f"first: 1\n{source}\n")
    out = run("text", [Diagnostic("error", "SPO101", "m", name, 2, column)], root)
    assert f"\n  2 | {shown}\n    | {' ' * pad}^\n" in out


def test_tabs_expand_to_the_same_stops_in_source_and_caret(root: Path) -> None:
    name = write(root, "tabs.yaml", "a\tbb\tccc\td\n")
    out = run("text", [Diagnostic("error", "SPO102", "tab", name, 1, 10)], root)
    assert "  1 | a   bb  ccc d\n    |             ^\n" in out


def test_caret_past_the_end_of_the_line_sits_just_after_it(root: Path) -> None:
    name = write(root, "short.yaml", "key: [1, 2\n")
    out = run("text", [Diagnostic("error", "SPO101", "unclosed", name, 1, 11)], root)
    assert "  1 | key: [1, 2\n    |           ^\n" in out


def test_crlf_and_bom_do_not_shift_lines_or_columns(root: Path) -> None:
    name = write(root, "crlf.yaml", b"\xef\xbb\xbfa: 1\r\nb: two\r\n")
    out = run("text", [Diagnostic("error", "SPO204", "m", name, 2, 4)], root)
    assert "  2 | b: two\n    |    ^\n" in out


def test_control_characters_in_the_source_are_shown_inert(root: Path) -> None:
    name = write(root, "ctl.yaml", "a: \x1b[31mred\u202e\n")
    out = run("text", [Diagnostic("error", "SPO204", "m", name, 1, 4)], root)
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "  1 | a: \ufffd[31mred\ufffd\n" in out


def test_a_long_line_is_cut_around_the_column(root: Path) -> None:
    name = write(root, "wide.yaml", "x: [" + "1, " * 1000 + "oops]\n")
    out = run("text", [Diagnostic("error", "SPO101", "m", name, 1, 3005)], root)
    shown = next(line for line in out.splitlines() if line.startswith("  1 |"))
    assert len(shown) < 200
    assert shown.startswith("  1 | …") and shown.endswith("oops]")
    assert caret_under(out, "oops]") == "o"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("latin1.yaml", b"name: Z\xfcrich\n"),  # not UTF-8
        ("missing.yaml", None),
        ("adir", "dir"),  # a directory, not a file
    ],
)
def test_unreadable_sources_render_without_excerpt(
    root: Path, name: str, data: bytes | str | None
) -> None:
    if data == "dir":
        (root / name).mkdir()
    elif isinstance(data, bytes):
        write(root, name, data)
    d = Diagnostic("error", "SPO104", "bad file", name, 1, 8, hint="save it as UTF-8")
    out = run("text", [d], root)
    assert out == (
        f"{name}:1:8: error SPO104 bad file\n"
        "  hint: save it as UTF-8\n\n"
        "Checked 3 documents in 2 files: 1 error, 0 warnings, 0 info\n"
    )


def test_line_beyond_the_file_and_missing_positions_render_without_excerpt(root: Path) -> None:
    findings = [
        Diagnostic("error", "SPO204", "far", FILES[0], 99, 1),
        Diagnostic("error", "SPO100", "no line", FILES[0]),
        CATALOG_INFO,
    ]
    out = run("text", findings, root)
    assert "|" not in out
    assert f"{FILES[0]}: error SPO100 no line\n" in out
    assert "<catalog>: info SPO307 service has no portfolio entry [Service:x]\n" in out


def test_text_line_without_column_has_no_caret(root: Path) -> None:
    out = run("text", [Diagnostic("warning", "SPO112", "empty", FILES[0], 2)], root)
    assert "  2 | kind: ServiceLevelAgreement\n" in out
    assert "^" not in out


def test_text_shows_waived_findings_and_does_not_count_them(root: Path) -> None:
    out = run("text", ALL, root)
    assert (
        "catalog/slas/banking.yaml:4:9: error SPO302 reference does not resolve: team-x"
        " [ServiceLevelAgreement:banking] (waived: team-x is created in PR 42)\n"
    ) in out
    assert out.endswith("Checked 3 documents in 2 files: 1 error, 1 warning, 1 info (1 waived)\n")


def test_text_summary_when_clean(root: Path) -> None:
    assert run("text", [], root) == "Checked 3 documents in 2 files: no problems found.\n"
    waived = run("text", [WAIVED], root)
    assert waived.endswith("\n\nChecked 3 documents in 2 files: no problems found (1 waived).\n")
    one = render("text", [], root=root, files=["a.yaml"], documents=1, tool_version="0")
    assert one == "Checked 1 document in 1 file: no problems found.\n"


def test_text_colour_only_when_asked(root: Path) -> None:
    plain = run("text", ALL, root)
    coloured = run("text", ALL, root, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31merror\x1b[0m" in coloured
    assert "\x1b[1;33mwarning\x1b[0m" in coloured
    assert "\x1b[1;36minfo\x1b[0m" in coloured


# --- json ---------------------------------------------------------------------------------


def test_json_document(root: Path) -> None:
    doc = json.loads(run("json", ALL, root))
    assert list(doc) == ["format_version", "tool", "summary", "findings"]
    assert doc["format_version"] == 1
    assert doc["tool"] == {"name": "spo-gitops", "version": "1.2.3"}
    assert doc["summary"] == {
        "documents": 3,
        "files": 2,
        "errors": 1,
        "warnings": 1,
        "info": 1,
        "waived": 1,
    }
    assert [f["code"] for f in doc["findings"]] == ["SPO406", "SPO302", "SPO204", "SPO307"]
    assert doc["findings"][2] == {
        "severity": "error",
        "code": "SPO204",
        "message": "'high' is not of type 'number'",
        "file": FILES[0],
        "line": 8,
        "column": 15,
        "entity": "ServiceLevelAgreement:banking",
        "pointer": "/spec/objectives/0/target",
        "hint": "write the target as a number, e.g. 99.9",
        "waived": None,
    }
    assert doc["findings"][1]["waived"] == "team-x is created in PR 42"
    assert doc["findings"][3]["file"] is None


def test_json_when_clean(root: Path) -> None:
    doc = json.loads(run("json", [], root))
    assert doc["findings"] == []
    assert doc["summary"]["errors"] == 0


# --- github -------------------------------------------------------------------------------


def test_github_annotations(root: Path) -> None:
    lines = run("github", ALL, root).splitlines()
    assert lines == [
        "::warning file=catalog/slas/banking.yaml,line=3,col=1,title=SPO406::invalid version"
        " [ServiceLevelAgreement:banking]",
        "::notice file=catalog/slas/banking.yaml,line=4,col=9,title=SPO302::reference does not"
        " resolve: team-x [ServiceLevelAgreement:banking]%0Awaived: team-x is created in PR 42",
        "::error file=catalog/slas/banking.yaml,line=8,col=15,title=SPO204::'high' is not of"
        " type 'number' [ServiceLevelAgreement:banking]%0Ahint: write the target as a number,"
        " e.g. 99.9",
        "::notice title=SPO307::service has no portfolio entry [Service:x]",
        "Checked 3 documents in 2 files: 1 error, 1 warning, 1 info (1 waived)",
    ]


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a%b:c,d\ne") == "a%25b%3Ac%2Cd%0Ae"


def test_github_escapes_file_names_and_messages(root: Path) -> None:
    d = Diagnostic(
        "error", "SPO204", "50% over\nlimit, see: x", "catalog/a,b:c%.yaml", 2, 3, hint="h"
    )
    (line, summary) = run("github", [d], root).splitlines()
    assert line == (
        "::error file=catalog/a%2Cb%3Ac%25.yaml,line=2,col=3,title=SPO204::"
        "50%25 over%0Alimit, see: x%0Ahint: h"
    )
    assert summary.startswith("Checked ")


def test_github_when_clean(root: Path) -> None:
    assert run("github", [], root) == "Checked 3 documents in 2 files: no problems found.\n"


# (SARIF: tests/unit/test_sarif.py)


# --- junit --------------------------------------------------------------------------------


def junit(findings: list[Diagnostic], root: Path) -> ET.Element:
    out = run("junit", findings, root)
    assert out.startswith("<?xml version='1.0' encoding='utf-8'?>\n")
    return ET.fromstring(out)


def test_junit_suites_cases_and_failures(root: Path) -> None:
    suites = junit(ALL, root)
    assert suites.tag == "testsuites"
    assert suites.get("name") == "spo validate"
    assert (suites.get("tests"), suites.get("failures")) == ("5", "1")
    names = [s.get("name") for s in suites.iter("testsuite")]
    assert names == [FILES[0], FILES[1], "<catalog>"]
    sla, clean, catalog = suites.iter("testsuite")
    assert (sla.get("tests"), sla.get("failures")) == ("3", "1")
    cases = {c.get("name"): c for c in sla.iter("testcase")}
    assert set(cases) == {
        "SPO406 3:1 ServiceLevelAgreement:banking",
        "SPO302 4:9 ServiceLevelAgreement:banking",
        "SPO204 8:15 ServiceLevelAgreement:banking",
    }
    assert all(c.get("classname") == FILES[0] for c in cases.values())
    failure = cases["SPO204 8:15 ServiceLevelAgreement:banking"].find("failure")
    assert failure is not None
    assert failure.get("type") == "SPO204"
    assert (
        failure.get("message") == "'high' is not of type 'number' [ServiceLevelAgreement:banking]"
    )
    assert "hint: write the target as a number" in (failure.text or "")
    waived = cases["SPO302 4:9 ServiceLevelAgreement:banking"]
    assert waived.find("failure") is None
    assert "waived: team-x is created in PR 42" in (waived.findtext("system-out") or "")
    warning = cases["SPO406 3:1 ServiceLevelAgreement:banking"]
    assert warning.find("failure") is None
    assert "warning SPO406 invalid version" in (warning.findtext("system-out") or "")
    assert [c.get("name") for c in clean.iter("testcase")] == ["valid"]
    assert [c.get("name") for c in catalog.iter("testcase")] == ["SPO307 Service:x"]


def test_junit_when_clean_lists_every_file_as_passing(root: Path) -> None:
    suites = junit([], root)
    assert (suites.get("tests"), suites.get("failures")) == ("2", "0")
    assert [(c.get("classname"), c.get("name")) for c in suites.iter("testcase")] == [
        (FILES[0], "valid"),
        (FILES[1], "valid"),
    ]
    assert suites.find(".//failure") is None


def test_junit_survives_characters_xml_cannot_carry(root: Path) -> None:
    d = Diagnostic("error", "SPO105", "NUL byte \x00 and \x1b escape", "x<&>.yaml", 1, 2)
    suites = junit([d], root)
    failure = suites.find(".//failure")
    assert failure is not None
    assert failure.get("message") == "NUL byte \\x00 and \\x1b escape"
    assert [s.get("name") for s in suites.iter("testsuite")][-1] == "x<&>.yaml"


# --- all formats --------------------------------------------------------------------------


def test_waived_findings_are_never_errors(root: Path) -> None:
    only_waived = [WAIVED]
    assert "no problems found (1 waived)." in run("text", only_waived, root)
    assert json.loads(run("json", only_waived, root))["summary"]["errors"] == 0
    assert run("github", only_waived, root).startswith("::notice ")
    assert json.loads(run("sarif", only_waived, root))["runs"][0]["results"] == []
    assert junit(only_waived, root).get("failures") == "0"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_and_ends_with_a_newline(root: Path, fmt: str) -> None:
    for findings in (ALL, []):
        out = run(fmt, findings, root)
        assert out.endswith("\n") and not out.endswith("\n\n")


def test_an_unknown_format_is_a_usage_error(root: Path) -> None:
    with pytest.raises(UsageError, match="unknown output format 'yaml'"):
        run("yaml", [], root)
