"""Synthetic catalogs for tests and benchmarks: many live services, each provisioning a few
resources on the embedded providers, optionally in dependency chains.

``write_provisioned_catalog(root, services)`` writes ``root/spo.yaml`` and ``root/catalog/``:
a team and a customer, then per service a ServiceModel (live, with its PortfolioEntry) that
provisions ``cmdb.service.<name>`` and, per ``extras``, ``cmdb.sla.<name>-retail`` and/or
``files.file.<name>-page``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

Extra = Literal["sla", "page"]

PARTIES = """apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team}
---
apiVersion: spo/v1
kind: Party
metadata: {name: retail, version: 1.0.0, owner: team-a}
spec: {type: customer}
"""


def _extra(kind: Extra, name: str) -> str:
    if kind == "sla":
        return f"""
    - provider: cmdb
      type: sla
      name: {name}-retail
      properties:
        service: {name}
        customer: retail
        objectives: [{{metric: availability, target: 99.5, unit: percent}}]
      dependsOn: [cmdb.service.{name}]"""
    return f"""
    - provider: files
      type: file
      name: {name}-page
      properties: {{path: pages/{name}.md, content: "# {name}\\n"}}
      dependsOn: [cmdb.service.{name}]"""


def service_document(
    i: int,
    *,
    prefix: str = "svc",
    digits: int = 4,
    chain: int = 0,
    extras: Sequence[Extra] = ("sla",),
    labels: bool = False,
) -> str:
    """Service number ``i``: its ServiceModel and PortfolioEntry. With ``chain`` > 0 its cmdb
    service depends on the previous one, in chains of that length."""
    name = f"{prefix}-{i:0{digits}d}"
    label = ""
    if labels:
        label = f", labels: {{domain: {'payments' if i % 3 == 0 else 'lending'}}}"
    after = ""
    if chain and i % chain:
        after = f"\n      dependsOn: [cmdb.service.{prefix}-{i - 1:0{digits}d}]"
    more = "".join(_extra(kind, name) for kind in extras)
    return f"""apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: {name}, version: 1.0.0, owner: team-a{label}}}
spec:
  type: technical
  tier: 3
  outcomes: [{{name: keeps running}}]
  provisioning:
    - provider: cmdb
      type: service
      properties: {{owner: team-a, tier: 3, title: Service {i}}}{after}{more}
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec:
  service: {name}
  stage: live
  approvals:
    - {{stage: approved, approver: team-a, date: 2025-01-15}}
    - {{stage: chartered, approver: team-a, date: 2025-02-15}}
    - {{stage: designed, approver: team-a, date: 2025-03-15}}
    - {{stage: transitioning, approver: team-a, date: 2025-04-15}}
    - {{stage: live, approver: team-a, date: 2025-05-15}}
"""


def write_provisioned_catalog(
    root: Path,
    services: int,
    *,
    prefix: str = "svc",
    digits: int = 4,
    chain: int = 0,
    extras: Sequence[Extra] = ("sla",),
    labels: bool = False,
    config: str = "",
) -> None:
    """Write the project (``config`` is appended to spo.yaml); one file per service."""
    (root / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n" + config)
    catalog = root / "catalog"
    catalog.mkdir(exist_ok=True)
    (catalog / "parties.yaml").write_text(PARTIES)
    for i in range(services):
        text = service_document(
            i, prefix=prefix, digits=digits, chain=chain, extras=extras, labels=labels
        )
        (catalog / f"{prefix}-{i:0{digits}d}.yaml").write_text(text)
