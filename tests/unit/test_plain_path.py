"""The plain path of the loader (yaml-rs for files in the plain subset of YAML) against the libyaml
path, which is the reference: wherever the plain path accepts a file it must give the data and
the first line that the libyaml path gives, or — where libyaml is wrong — the value of the
official YAML test suite; and every diagnostic, with its position, must stay what it was."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.catalog import loader
from spo_gitops.catalog.loader import Limits, parse_plain_first, parse_text
from tests.conftest import REPO
from tests.helpers import json_stream, run_spo

pytestmark = pytest.mark.skipif(loader.yaml_rs is None, reason="yaml-rs is not installed")

LIMITS = Limits()
SUITE = REPO / "tests" / "fixtures" / "yaml-test-suite" / "cases.json"
CATALOG_FILES = sorted(
    p
    for folder in ("catalog", "examples", "policies")
    for p in (REPO / folder).rglob("*.yaml")
    if p.is_file()
)

# Plain scalars whose type parsers disagree on: YAML 1.2 core schema numbers and their near
# misses, YAML 1.1 spellings, dates, sexagesimal numbers, radix prefixes, underscores.
_SPELLED = """0 1 7 9 00 007 010 0o17 0o8 0x1F 0X1F 0xg 0b101 0B1 1_000 _1 1_ 1__0 0x1_0 +1 -1
+0 -0 1. .5 +.5 -.5 1.5 1e3 1E3 1e+3 1e-3 1.5e3 .5e3 1.e3 +1e3 e3 1e .inf .Inf .INF +.inf -.inf inf
.nan .NaN .NAN nan -.nan true True TRUE tRue false False FALSE yes no on off y n Yes null Null
NULL nUll ~ 2026-01-01 2026-1-1 2026-01-01T10:00:00Z 12:30 1:20:30 190:20:30 0. 1..2 1.2.3
1e3.5 0x 0o +0x1 -0x1 +0o7 -0o7 1e400 -1e400 123456789012345678901234567890 0e0 .e3 08 09 0e
0.0 -0.0 +. -. 0b 1,000"""
SPELLINGS = _SPELLED.split()


Read = list[tuple[int, int, Any]]  # (index, first line, data) of each document


def _slow(text: str) -> Read | None:
    """The libyaml path's documents; None when it has findings."""
    parsed = parse_text(text, "case.yaml", LIMITS)
    if parsed.diagnostics or any(d.broken for d in parsed.documents):
        return None
    return [(d.index, d.line, d.data) for d in parsed.documents]


def _plain(text: str) -> Read | None:
    """The plain path's documents; None when it hands the text to libyaml."""
    if loader._plain_documents(text, LIMITS) is None:
        return None
    parsed = parse_plain_first(text, "case.yaml", LIMITS)
    assert all(d.node is None for d in parsed.documents)
    return [(d.index, d.line, d.data) for d in parsed.documents]


def _same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1 == 1.0 == True for ==)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and repr(a) == repr(b)


@pytest.mark.parametrize(
    "template", ["k: @\n", "k: [@]\n", "@: v\n", "# c\n\nk:\n  - @\n", "k: {a: @}\n"]
)
def test_every_number_spelling_reads_as_the_libyaml_path_reads_it(template: str) -> None:
    taken = 0
    for spelling in SPELLINGS:
        text = template.replace("@", spelling)
        plain = _plain(text)
        if plain is None:
            continue
        taken += 1
        assert _same(plain, _slow(text)), text
    assert taken >= 25  # the plain path is taken for the common spellings


def test_the_known_disagreements_take_the_libyaml_path() -> None:
    # yaml-rs reads each of these differently from the YAML 1.2 core schema (as numbers, as
    # aliases, ignoring the tag, or accepting a control character libyaml refuses)
    for text in [
        "k: 1_000\n",
        "k: _1\n",
        "k: 0b101\n",
        "k: 0X1F\n",
        "k: +0x1\n",
        "k: -0o7\n",
        "a: &x 1\nb: *x\n",
        "k: !!str 1\n",
        "<<: {a: 1}\n",
        "k: v\n--- !tag\nk: w\n",
        "k: v\n---\n---\nk: w\n",
        "k: v\n...\n",
        "k: .inf\n",
        "k: 1e400\n",
        "1: v\n",
        "true: v\n",
        "? [a]\n: b\n",
        "k: a\x01b\n",
        "k: |\n  a\tb\n",
        "k: v\r",
        "k: {na\n me: x}\n",  # an implicit key over two lines: YAML forbids it, yaml-rs does not
        "k: {a: b,\n  c: d}\n",
        "k: [a, >b]\n",  # a plain scalar may not start with an indicator
        "k: |x\n",
        "k: @x\n",
        "k: [?]\n",
        "k: {date:? 1}\n",
        "k: [a:, b]\n",
        "foo: |\n  x\n   ",  # L24T-1: libyaml keeps one space fewer than the suite says
        "k: " + "9" * 5000 + "\n",  # libyaml's path refuses an integer of over 4,300 digits
        "k: 9223372036854775808\n",
    ]:
        assert loader._plain_documents(text, LIMITS) is None, text


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n---\nb: 2\n",
        "# head\n---\na: 1\n--- # second\nb: 2\n",
        "a: 1\n---#x\nb: 2\n",  # not a marker: '---' must be followed by a space or a break
        "a: |\n  x\n---\nb: 2\n",
    ],
)
def test_several_documents_read_as_libyaml_reads_them(text: str) -> None:
    slow, plain = _slow(text), _plain(text)
    assert plain is None or _same(plain, slow), (plain, slow)


TEXT_FORMS = [
    "k: \U0001f600\n",
    "k: \u00a0x\n",
    "k: x\u3000y\n",
    'k: "\\u00e9\\U0001F600"\n',
    'k: "\\x41\\N\\_\\L\\P"\n',
    'k: "a\\\n  b"\n',
    "k: 'it''s'\n",
    "k: >\n  a\n\n  b\n",
    "k: |+\n  a\n\n",
    "k: |2\n   a\n",
    "k: >-\n  a\n  b\n\n",
    "k: a\n  b\n  c\n",
    'k: "a\n\n  b"\n',
    "k: [a, b, ]\n",
    "k: {a: 1, }\n",
    "k: [ ]\n",
    "k:\n",
    "k: --\n",
    "k: a#c\n",
    "k: 'a # c'\n",
    "k: x:y\n",
    "k: http://a\n",
    "k: [a b]\n",
    "k: {a b: c}\n",
]


@pytest.mark.parametrize("text", TEXT_FORMS)
def test_scalar_styles_read_as_libyaml_reads_them(text: str) -> None:
    plain = _plain(text)
    assert plain is not None  # all of these are in the plain subset
    assert _same(plain, _slow(text))


def test_nesting_beyond_the_limit_takes_the_libyaml_path() -> None:
    deep = "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "v\n"
    assert loader._plain_documents(deep, LIMITS) is None
    assert [d.code for d in parse_plain_first(deep, "x", LIMITS).diagnostics] == ["SPO109"]
    shallow = "".join("  " * i + f"k{i}:\n" for i in range(10)) + "  " * 10 + "v\n"
    assert loader._plain_documents(shallow, LIMITS) is not None


def test_on_the_yaml_test_suite_the_plain_path_is_never_wrong() -> None:
    cases = json.loads(SUITE.read_text("utf-8"))["cases"]
    taken = 0
    for case in cases:
        plain = _plain(case["yaml"])
        if plain is None:
            continue
        taken += 1
        assert not case["fail"], f"{case['id']}: invalid YAML accepted"
        if case["json"] is not None:  # a few valid cases come without the suite's JSON
            assert [data for _, _, data in plain] == json_stream(case["json"]), case["id"]
        # and what libyaml reads too (spo diff reads a base revision with libyaml)
        assert _same(plain, _slow(case["yaml"])), case["id"]
    assert taken >= 40


def test_every_file_of_the_reference_catalog_reads_the_same() -> None:
    taken = 0
    for path in CATALOG_FILES:
        text = path.read_text("utf-8-sig")
        plain = _plain(text)
        if plain is None:
            continue
        taken += 1
        assert _same(plain, _slow(text)), path
    assert taken >= 0.8 * len(CATALOG_FILES)  # the common path is the plain one


def test_mutated_catalog_files_read_the_same_whenever_the_plain_path_takes_them() -> None:
    rng = random.Random(20261201)
    texts = [p.read_text("utf-8-sig") for p in CATALOG_FILES if p.parent.name != "policies"]
    alphabet = list(" \n:-[]{},#'\"|>?&*!%@`\\.0123456789abxyz\u00e9\r\x85\u2028")
    taken = 0
    for _ in range(1500):
        chars = list(rng.choice(texts))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(chars))
            op = rng.random()
            if op < 0.4:
                chars.insert(at, rng.choice(alphabet))
            elif op < 0.7:
                del chars[at]
            else:
                chars[at] = rng.choice(alphabet)
        text = "".join(chars)
        plain = _plain(text)
        if plain is None:
            continue
        taken += 1
        assert _same(plain, _slow(text)), text
    assert taken >= 300


def _findings(root: Path) -> list[tuple[Any, ...]]:
    result = run_spo("-C", str(root), "validate", "--format", "json")
    assert "Traceback" not in result.stderr
    found = json.loads(result.stdout)["findings"]
    return [(f["code"], f["file"], f["line"], f["column"], f["message"]) for f in found]


def test_findings_and_their_positions_do_not_depend_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the broken variants (each breaks one rule) and the reference catalog, validated with the
    # plain path and without it
    root = tmp_path / "repo"
    (root / "catalog").mkdir(parents=True)
    for path in sorted((REPO / "tests" / "fixtures" / "broken").glob("*.yaml")):
        shutil.copy(path, root / "catalog" / path.name)
    shutil.copytree(REPO / "catalog", root / "catalog" / "reference")
    (root / "spo.yaml").write_text("catalog:\n  paths: [catalog]\n", encoding="utf-8")
    with_plain = _findings(root)
    monkeypatch.setattr(loader, "yaml_rs", None)
    without = _findings(root)
    assert with_plain == without
    assert len(with_plain) >= 20


def test_a_panic_in_the_parser_hands_the_file_to_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    # pyo3 turns a Rust panic into PanicException, a BaseException: never a traceback
    class PanicException(BaseException):
        pass

    class Panicking:
        DuplicateKeyPolicy = loader.yaml_rs.DuplicateKeyPolicy

        @staticmethod
        def loads(*args: Any, **kwargs: Any) -> Any:
            raise PanicException("index out of bounds")

    monkeypatch.setattr(loader, "yaml_rs", Panicking)
    parsed = parse_plain_first("k: v\n", "x.yaml", LIMITS)
    assert [d.data for d in parsed.documents] == [{"k": "v"}] and not parsed.diagnostics
    assert parsed.documents[0].node is not None  # read by libyaml
