"""The policy stage as a library: injectable today, business-case figures, expressions."""

from __future__ import annotations

import datetime as dt

import pytest

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from spo_gitops.policy.expressions import ExpressionError, compile_expression, compile_template
from spo_gitops.policy.lookups import FUNCTION_NAMES, business_case_figures
from tests.conftest import REPO


def test_today_is_injectable_for_waiver_expiry() -> None:
    project = load_project(REPO)
    before = validate(project, today=dt.date(2027, 12, 31))
    after = validate(project, today=dt.date(2028, 1, 1))
    assert not [d for d in before.findings.items if d.code == "SPO503"]
    # the four waivers of POL007 (open banking, end-user computing, SMS banking, legacy teller)
    assert len([d for d in after.findings.items if d.code == "SPO503"]) == 4
    assert before.findings.counts()["waived"] == 4
    assert after.findings.counts()["waived"] == 0


def test_business_case_figures() -> None:
    entry = {
        "spec": {
            "businessCase": {
                "investment": 100,
                "annualCost": 10,
                "annualBenefit": 60,
                "horizonYears": 5,
            }
        }
    }
    assert business_case_figures(entry) == (150.0, 1.0)
    assert business_case_figures({"spec": {}}) is None


def test_expressions_compile_once_and_fail_cleanly() -> None:
    expr = compile_expression("self.a >= 99.9", FUNCTION_NAMES)
    assert expr.run({"self": {"a": 99}}) is False  # int against double compares numerically
    with pytest.raises(ExpressionError, match="no such key"):
        expr.run({"self": {}})
    with pytest.raises(ExpressionError, match="unknown function nope"):
        compile_expression("nope(1)", FUNCTION_NAMES)
    with pytest.raises(ExpressionError, match="Syntax error"):
        compile_expression("1 +", FUNCTION_NAMES)
    template = compile_template("ROI {{ self.r * 100.0 }} %", FUNCTION_NAMES)
    assert template.render({"self": {"r": -0.0604}}) == "ROI -6.04 %"
