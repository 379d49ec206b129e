"""POL007 judges NPV at spo.yaml's discount rate (figures by hand)."""

from __future__ import annotations

import shutil
from pathlib import Path

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from tests.conftest import REPO

# ROI = (400 x 4 - (1,000 + 100 x 4)) / 1,400 = +14.3 %; the yearly net is 300.
# At 8 %: 300 x (1 - 1.08^-4) / 0.08 = 300 x 3.312127 = 993.64, NPV -6.36.
# At 5 %: 300 x (1 - 1.05^-4) / 0.05 = 300 x 3.545951 = 1,063.79, NPV +63.79.
CATALOG = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec: {type: business, tier: 3, outcomes: [{name: Customers pay}]}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: pay, version: 1.0.0, owner: team-a}
spec:
  service: pay
  stage: analyzed
  businessCase:
    {currency: EUR, investment: 1000, annualCost: 100, annualBenefit: 400, horizonYears: 4}
"""


def pol007(tmp_path: Path, config: str = "") -> list[str]:
    (tmp_path / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n" + config, "utf-8")
    (tmp_path / "catalog").mkdir(exist_ok=True)
    (tmp_path / "catalog" / "all.yaml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "policies").mkdir(exist_ok=True)
    shutil.copy(REPO / "policies" / "business-case.yaml", tmp_path / "policies")
    result = validate(load_project(tmp_path))
    return [d.message for d in result.findings.items if d.code == "POL007"]


def test_a_case_with_a_positive_roi_and_a_negative_npv_does_not_pay_back(tmp_path: Path) -> None:
    assert pol007(tmp_path) == [
        "business case of pay does not pay back: ROI 14.29 %, NPV -6.36 EUR at 8 %, "
        "TCO 1,400 EUR over 4 years"
    ]


def test_the_discount_rate_is_set_in_spo_yaml(tmp_path: Path) -> None:
    assert pol007(tmp_path, "portfolio: {discountRate: 0.05}\n") == []
