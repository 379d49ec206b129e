"""The loader against the official YAML test suite (yaml/yaml-test-suite, MIT; its cases from
the suite's ``data`` branch, in tests/fixtures/yaml-test-suite, built by
scripts/yaml_test_suite.py): the suite's JSON is the oracle for valid cases, its ``error`` flag
for invalid ones.

Catalog files are plain data, so some valid YAML is refused on purpose (custom tags, complex keys,
directives libyaml does not know); what must never happen is a wrong value. The known wrong values
are libyaml's own (flow ``?`` keys, an anchor name with ``:``, trailing spaces in a literal, a
kept literal whose last line holds only spaces and no line break, the non-specific ``!`` tag)
and are listed, so that any new one fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spo_gitops.catalog.loader import Limits, load_values
from tests.helpers import json_stream

SUITE = Path(__file__).parent.parent / "fixtures" / "yaml-test-suite" / "cases.json"
CASES: list[dict[str, Any]] = json.loads(SUITE.read_text("utf-8"))["cases"]
KNOWN_WRONG = {"652Z", "HM87-1", "JEF9-2", "L24T-1", "S4JQ", "Y2GN"}


def _outcome(case: dict[str, Any]) -> str:
    values, found = load_values(case["yaml"], "case.yaml", Limits())
    errors = [d for d in found if d.severity == "error"]
    if case["fail"]:
        return "refused" if errors else "accepted"
    if errors:
        return "refused"
    expected = json_stream(case["json"])
    return "right" if values == expected or (values == [] and expected == [None]) else "wrong"


RESULTS = {c["id"]: _outcome(c) for c in CASES if c["fail"] or c["json"] is not None}


def test_the_suite_is_all_there() -> None:
    assert len(CASES) == 402
    assert sum(c["fail"] for c in CASES) == 94


def test_no_wrong_values_but_the_known_ones() -> None:
    wrong = {i for i, r in RESULTS.items() if r == "wrong"}
    assert wrong == KNOWN_WRONG


def test_valid_cases_load_with_the_right_value_at_least_as_often_as_before() -> None:
    valid = [i for i, c in ((c["id"], c) for c in CASES) if not c["fail"] and c["json"] is not None]
    right = sum(RESULTS[i] == "right" for i in valid)
    assert len(valid) == 279
    # 219; in the npm package's older copy of the suite (271 valid cases) 215, and 213 before
    # tabs in block scalars were accepted
    assert right >= 219


def test_invalid_cases_are_refused_at_least_as_often_as_before() -> None:
    refused = sum(r == "refused" for i, r in RESULTS.items() if _case(i)["fail"])
    assert refused >= 79


def _case(case_id: str) -> dict[str, Any]:
    return next(c for c in CASES if c["id"] == case_id)


@pytest.mark.parametrize("case_id", ["96NN-0", "Y79Y-1"])
def test_a_tab_inside_block_scalar_content_is_content(case_id: str) -> None:
    assert RESULTS[case_id] == "right"
