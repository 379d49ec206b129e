"""Capacity sees the pipeline: committed and pipeline demand side by side (figures by hand)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project
from tests.helpers import run_spo

HEAD = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: ResourcePool
metadata: {name: fte, version: 1.0.0, owner: team-a}
spec: {type: people, unit: FTE, capacity: 10, thresholds: {low: 10, high: 95}}
"""


def service(name: str, stage: str, quantity: float) -> str:
    return f"""\
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec:
  type: technical
  tier: 3
  outcomes: [{{name: works}}]
  resources: [{{pool: fte, quantity: {quantity}}}]
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec: {{service: {name}, stage: {stage}}}
"""


def catalog(root: Path, *services: str) -> Path:
    (root / "spo.yaml").write_text(
        "apiVersion: spo/v1\nkind: Project\nlifecycle: {approvalRequired: []}\n", "utf-8"
    )
    (root / "catalog").mkdir(exist_ok=True)
    (root / "catalog" / "all.yaml").write_text(HEAD + "".join(services), encoding="utf-8")
    return root


SERVICES = (
    service("run", "live", 6),
    service("build", "chartered", 3),
    service("shape", "designed", 2),
    service("idea", "proposed", 5),  # not approved: no demand yet
)


def test_committed_and_pipeline_demand_side_by_side(tmp_path: Path) -> None:
    result = validate(load_project(catalog(tmp_path, *SERVICES)), today=dt.date(2026, 6, 1))
    (usage,) = result.capacity
    assert (usage.allocated, usage.utilization) == (6.0, 60.0)  # 6 of 10: committed
    assert usage.pipeline == 5.0  # 3 chartered + 2 designed
    assert usage.pipeline_consumers == (("build", 3.0), ("shape", 2.0))
    assert usage.pipeline_utilization == 110.0  # 11 of 10 once they are live
    (finding,) = result.findings.items
    assert (finding.code, finding.severity) == ("SPO507", "warning")
    assert finding.message == (
        "pool fte is overbooked when the pipeline goes live: 11 of 10 FTE (110 %) with "
        "build 3, shape 2"
    )


def test_overbooking_by_committed_demand_is_an_error_and_said_once(tmp_path: Path) -> None:
    root = catalog(tmp_path, service("run", "live", 11), service("build", "chartered", 3))
    codes = [d.code for d in validate(load_project(root)).findings.items]
    assert codes == ["SPO504"]


def test_the_pipeline_fits(tmp_path: Path) -> None:
    root = catalog(tmp_path, service("run", "live", 6), service("build", "chartered", 4))
    assert validate(load_project(root)).findings.items == []  # exactly 10 of 10


def test_capacity_table_and_site_show_both(tmp_path: Path) -> None:
    root = catalog(tmp_path, *SERVICES)
    r = run_spo("-C", str(root), "validate")
    assert r.exit_code == 0, r.stdout
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith(("pool ", "fte "))]
    assert rows == [
        [
            "pool",
            "unit",
            "capacity",
            "allocated",
            "utilization",
            "pipeline",
            "when",
            "live",
            "status",
        ],
        ["fte", "FTE", "10", "6", "60.0", "%", "5", "110.0", "%", "ok"],
    ]
    site = tmp_path / "site"
    assert run_spo("-C", str(root), "docs", "build", "-o", str(site)).exit_code == 0
    page = (site / "pools" / "fte.html").read_text(encoding="utf-8")
    assert "5 FTE more when the pipeline goes live: 11 of 10 FTE (110.0 %, overbooked)" in page
