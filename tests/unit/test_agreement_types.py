"""SLA, OLA and underpinning contract: the counterparties fit the type, and SLAs are backed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from spo_gitops.catalog.validate import validate
from spo_gitops.config import load_project

BASE = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-web, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: Party
metadata: {name: team-ops, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: Party
metadata: {name: retail, version: 1.0.0}
spec: {type: customer}
---
apiVersion: spo/v1
kind: Party
metadata: {name: cloudco, version: 1.0.0}
spec: {type: supplier}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: web, version: 1.0.0, owner: team-web}
spec: {type: business, tier: 2, outcomes: [{name: Customers bank online}], dependsOn: [hosting]}
---
apiVersion: spo/v1
kind: ServiceModel
metadata: {name: hosting, version: 1.0.0, owner: team-ops}
spec: {type: technical, tier: 2, outcomes: [{name: Servers run}], suppliers: [cloudco]}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: web, version: 1.0.0, owner: team-web}
spec: {service: web, stage: %(stage)s}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {name: hosting, version: 1.0.0, owner: team-ops}
spec: {service: hosting, stage: proposed}
"""


def agreement(
    name: str, service: str, kind: str, customer: str, provider: str | None, *objectives: str
) -> str:
    prov = f"\n  provider: {provider}" if provider else ""
    objs = (
        "".join(f"\n    - {o}" for o in objectives)
        or "\n    - {metric: availability, target: 99, unit: percent}"
    )
    return f"""\
---
apiVersion: spo/v1
kind: ServiceLevelAgreement
metadata: {{name: {name}, version: 1.0.0, owner: team-ops}}
spec:
  type: {kind}
  service: {service}
  customer: {customer}{prov}
  validity: {{start: 2026-01-01, end: 2027-12-31}}
  window: {{hours: 24x7}}
  objectives:{objs}
"""


SPI = """\
---
apiVersion: spo/v1
kind: ServiceProviderInterface
metadata: {name: cloud, version: 1.0.0, owner: team-ops}
spec:
  provider: %(provider)s
  consumers: [%(consumer)s]
  services: [hosting]
  processes:
    - process: incident
      owner: team-ops
      activities:
        - activity: Restore servers
          raci: {cloudco: R, team-ops: A}
"""


def findings(tmp_path: Path, *docs: str, stage: str = "proposed") -> list[tuple[str, str]]:
    (tmp_path / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n", encoding="utf-8")
    (tmp_path / "catalog").mkdir(exist_ok=True)
    text = BASE % {"stage": stage} + "".join(docs)
    (tmp_path / "catalog" / "all.yaml").write_text(text, encoding="utf-8")
    result = validate(load_project(tmp_path), today=dt.date(2026, 6, 1))
    return [(d.code, d.message) for d in result.findings.items]


def test_an_sla_is_agreed_with_a_customer(tmp_path: Path) -> None:
    assert findings(tmp_path, agreement("web-retail", "web", "SLA", "retail", "team-web")) == []
    assert findings(tmp_path, agreement("web-cloud", "web", "SLA", "cloudco", None)) == [
        ("SPO303", "SLA web-cloud: customer cloudco is a supplier, expected a customer")
    ]


def test_an_ola_is_between_internal_teams(tmp_path: Path) -> None:
    assert (
        findings(tmp_path, agreement("hosting-web", "hosting", "OLA", "team-web", "team-ops")) == []
    )
    assert findings(tmp_path, agreement("hosting-x", "hosting", "OLA", "retail", "cloudco")) == [
        ("SPO303", "OLA hosting-x: customer retail is a customer, expected a team"),
        ("SPO303", "OLA hosting-x: provider cloudco is a supplier, expected a team"),
    ]


def test_an_underpinning_contract_is_with_a_supplier_under_its_spi(tmp_path: Path) -> None:
    uc = agreement("hosting-cloudco", "hosting", "UC", "team-ops", "cloudco")
    spi = SPI % {"provider": "cloudco", "consumer": "team-ops"}
    assert findings(tmp_path, uc, spi) == []
    assert findings(tmp_path, uc) == [
        ("SPO309", "underpinning contract hosting-cloudco: no SPI of cloudco covers hosting")
    ]
    # the supplier only among the SPI's consumers: the SPI does not bind it
    assert [
        c for c, _ in findings(tmp_path, uc, SPI % {"provider": "team-ops", "consumer": "cloudco"})
    ] == ["SPO309"]
    no_supplier = agreement("hosting-none", "hosting", "UC", "team-ops", None)
    assert findings(tmp_path, no_supplier, spi) == [
        ("SPO308", "underpinning contract hosting-none names no supplier")
    ]


def test_a_live_services_targets_are_backed_by_its_dependencies_agreements(tmp_path: Path) -> None:
    sla = agreement(
        "web-retail",
        "web",
        "SLA",
        "retail",
        None,
        "{metric: availability, target: 99.95, unit: percent}",
        "{metric: mttr, priority: P1, target: 2, unit: h}",
        "{metric: mttr, priority: P2, target: 8, unit: h}",
    )
    ola = agreement(
        "hosting-web",
        "hosting",
        "OLA",
        "team-web",
        "team-ops",
        "{metric: availability, target: 99.9, unit: percent}",  # weaker than 99.95
        "{metric: mttr, priority: P1, target: 90, unit: min}",  # 1.5 h: stricter than 2 h
    )
    uc = agreement(
        "hosting-cloudco",
        "hosting",
        "UC",
        "team-ops",
        "cloudco",
        "{metric: mttr, priority: P1, target: 0.125, unit: d}",  # 3 h: weaker than 2 h
        "{metric: mttr, priority: P2, target: 480, unit: min}",  # 8 h: as strict
    )
    spi = SPI % {"provider": "cloudco", "consumer": "team-ops"}

    def backing(stage: str) -> list[tuple[str, str]]:
        return [f for f in findings(tmp_path, sla, ola, uc, spi, stage=stage) if f[0] == "SPO419"]

    assert backing("live") == [
        (
            "SPO419",
            "availability target 99.95 percent of web-retail is not backed: "
            "OLA hosting-web of hosting targets 99.9 percent",
        ),
        (
            "SPO419",
            "mttr P1 target 2 h of web-retail is not backed: "
            "UC hosting-cloudco of hosting targets 0.125 d",
        ),
    ]
    assert backing("designed") == []  # only live services' agreements are checked
