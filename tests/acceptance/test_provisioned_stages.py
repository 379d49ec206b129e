"""One setting decides which stages are provisioned: for compile and for pool capacity alike."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_spo

CATALOG = """apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: ResourcePool
metadata: {name: engineers, version: 1.0.0, owner: team-a}
spec: {type: people, unit: FTE, capacity: 10, thresholds: {low: 0, high: 100}}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: pilot, version: 1.0.0, owner: team-a}
spec:
  type: business
  tier: 3
  outcomes: [{name: a pilot runs}]
  resources: [{pool: engineers, quantity: 12}]
  provisioning:
    - {provider: cmdb, type: service, properties: {owner: team-a, tier: 3}}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: pilot, version: 1.0.0, owner: team-a}
spec: {service: pilot, stage: proposed}
"""


def test_provisioned_stages_drive_capacity_and_compile(in_tmp: Path) -> None:
    (in_tmp / "catalog").mkdir()
    (in_tmp / "catalog" / "all.yaml").write_text(CATALOG)
    (in_tmp / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n")
    default = run_spo("validate", "--format", "json")
    assert default.exit_code == 0, default.stdout
    assert "No changes" in run_spo("plan").stdout  # a proposal provisions nothing

    (in_tmp / "spo.yaml").write_text(
        "apiVersion: spo/v1\nkind: Project\nreconcile: {provisionedStages: [proposed, live]}\n"
    )
    widened = run_spo("validate", "--format", "json")
    assert widened.exit_code == 1
    codes = [f["code"] for f in json.loads(widened.stdout)["findings"]]
    assert "SPO504" in codes  # 12 FTE drawn from a pool of 10
    text = run_spo("validate", "--no-color").stdout
    assert "Capacity (provisioned stages: proposed, live)" in text
