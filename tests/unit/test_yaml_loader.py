"""The loader reads YAML 1.2 as ruamel.yaml does, and knows where every value came from."""

from __future__ import annotations

import pytest

from spo_gitops.catalog.loader import Limits, locate, parse_text


def load(text: str, limits: Limits | None = None) -> list[object]:
    parsed = parse_text(text, "f.yaml", limits or Limits())
    assert not parsed.diagnostics, parsed.diagnostics
    return [d.data for d in parsed.documents]


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("on", "on"),  # YAML 1.1 would say True
        ("no", "no"),
        ("yes", "yes"),
        ("010", 10),  # YAML 1.1 would say 8
        ("0o10", 8),
        ("0x1f", 31),
        ("1.4.0", "1.4.0"),
        ("1.5", 1.5),
        ("-2", -2),
        ("1e3", 1000.0),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("2026-01-31", "2026-01-31"),  # no timestamps in the 1.2 core schema
        ("'true'", "true"),
        ('"12"', "12"),
        ("12:30", "12:30"),  # sexagesimal in 1.1
    ],
)
def test_core_schema_scalars(scalar: str, expected: object) -> None:
    assert load(f"v: {scalar}\n") == [{"v": expected}]


def test_multi_document_file_keeps_each_start_line() -> None:
    parsed = parse_text("a: 1\n---\nb: 2\n---\n---\nc: 3\n", "f.yaml", Limits())
    assert [(d.index, d.line, d.data) for d in parsed.documents] == [
        (0, 1, {"a": 1}),
        (1, 3, {"b": 2}),
        (3, 6, {"c": 3}),
    ]


def test_merge_keys_do_not_override_explicit_keys() -> None:
    text = "base: &b {x: 1, y: 2}\nderived:\n  y: 3\n  <<: *b\n"
    assert load(text) == [{"base": {"x": 1, "y": 2}, "derived": {"y": 3, "x": 1}}]


def test_aliases_within_the_limit_are_expanded() -> None:
    assert load("a: &a [1, 2]\nb: *a\n") == [{"a": [1, 2], "b": [1, 2]}]


def test_positions_of_nested_values_and_keys() -> None:
    text = "spec:\n  items:\n    - name: a\n    - name: b\n      size: 3\n"
    node = parse_text(text, "f.yaml", Limits()).documents[0].node
    assert locate(node, ["spec", "items", "1", "size"]) == (5, 13)
    assert locate(node, ["spec", "items", "1", "size"], key=True) == (5, 7)
    # a path that does not exist stops at the deepest part that does
    assert locate(node, ["spec", "items", "7", "size"]) == (3, 5)


def test_expansion_limit_applies_to_merges_too() -> None:
    parts = ["a: &a {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9}"]
    for i in range(1, 6):
        prev = chr(96 + i)
        cur = chr(97 + i)
        items = ", ".join(f"m{j}: {{<<: *{prev}}}" for j in range(10))
        parts.append(f"{cur}: &{cur} {{{items}}}")
    parsed = parse_text("\n".join(parts) + "\n", "f.yaml", Limits(max_alias_expansion=1000))
    assert [d.code for d in parsed.diagnostics] == ["SPO108"]
    assert parsed.documents[0].broken


def test_depth_limit_is_configurable() -> None:
    text = "a: [[[1]]]\n"
    assert load(text, Limits(max_depth=4)) == [{"a": [[[1]]]}]
    parsed = parse_text(text, "f.yaml", Limits(max_depth=3))
    assert [d.code for d in parsed.diagnostics] == ["SPO109"]


def test_many_findings_in_one_document_are_all_reported() -> None:
    text = "a: 1\na: 2\nb: !x 1\nb: 3\n"
    parsed = parse_text(text, "f.yaml", Limits())
    assert [(d.code, d.line) for d in parsed.diagnostics] == [
        ("SPO103", 2),
        ("SPO107", 3),
        ("SPO103", 4),
    ]


def _codes(text: str) -> list[tuple[str, int, int]]:
    parsed = parse_text(text, "f.yaml", Limits())
    return [(d.code, d.line, d.column) for d in parsed.diagnostics]


@pytest.mark.parametrize(
    "text",
    [
        "a: !!float nan\n",
        "a: !!float inf\n",
        "a: !!float -inf\n",
        "a: !!float .NaN\n",
        "a: .nan\n",
        "a: -.inf\n",
    ],
)
def test_nan_and_infinity_have_no_json_representation(text: str) -> None:
    found = _codes(text)
    assert found and found[0][1:] == (1, 4)
    assert found[0][0] in ("SPO101", "SPO113")
    assert parse_text(text, "f.yaml", Limits()).documents[0].data == {"a": None}


@pytest.mark.parametrize(
    "text",
    [
        "a: !!int 1_000\n",  # Python's int() takes it, YAML 1.2 does not
        "a: !!int \u0661\u0662\n",  # Arabic-Indic digits
        "a: !!int ' 12 '\n",  # padding
        "a: !!float 1_0.5\n",
        "a: !!float ' 1.5'\n",
        "a: !!int 12.0\n",
    ],
)
def test_explicit_tags_take_only_yaml_12_core_forms(text: str) -> None:
    assert _codes(text) == [("SPO101", 1, 4)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: !!int 0x1f\n", 31),
        ("a: !!int '12'\n", 12),
        ("a: !!float 2\n", 2.0),
        ("a: !!str 12\n", "12"),
    ],
)
def test_explicit_tags_on_valid_forms(text: str, value: object) -> None:
    assert load(text) == [{"a": value}]


@pytest.mark.parametrize(
    "text", ["1: a\n0x1: b\n", "true: a\nTrue: b\n", "1: a\n0o1: b\n", "'1': a\n1: b\n"]
)
def test_keys_equal_as_yaml_values_are_duplicates(text: str) -> None:
    assert _codes(text) == [("SPO103", 2, 1)]


def test_a_tab_inside_block_scalar_content_is_content() -> None:
    assert load("foo: |-\n \tbar\nbaz: 1\n") == [{"foo": "\tbar", "baz": 1}]
    assert load("a: |\n  x\n  \ty\n") == [{"a": "x\n\ty\n"}]


def test_a_tab_as_indentation_is_still_an_error() -> None:
    assert _codes("a:\n\tb: 1\n")[0][0] == "SPO102"
