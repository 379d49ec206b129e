"""Strict JSON: nothing spo writes holds NaN or an infinity, and what it reads may not either."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from spo_gitops import jsonio

PACKAGE = Path(__file__).resolve().parent.parent.parent / "spo_gitops"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {"a": [1, math.nan]}])
def test_nan_and_infinities_are_refused_on_the_way_out(value: object) -> None:
    with pytest.raises(ValueError):
        jsonio.dumps(value)
    assert "NaN" in json.dumps(value) or "Infinity" in json.dumps(value)  # what json would do


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", '{"a": -Infinity}'])
def test_nan_and_infinities_are_refused_on_the_way_in(text: str) -> None:
    with pytest.raises(json.JSONDecodeError, match="not JSON"):
        jsonio.loads(text)


def test_plain_json_round_trips() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": -0.0}}
    assert jsonio.loads(jsonio.dumps(value)) == value


def test_the_package_writes_json_only_through_jsonio() -> None:
    raw = re.compile(r"\bjson\.dumps?\(")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "jsonio.py"
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if raw.search(line)
    ]
    assert offenders == []


def test_a_plan_file_holding_nan_is_refused() -> None:
    from spo_gitops.provision import planfile

    with pytest.raises(planfile.PlanFileError, match=r"not a plan file.*NaN"):
        planfile.loads('{"format_version": 1, "actions": [{"after": {"x": NaN}}]}', "plan.json")
