"""A small portfolio with figures chosen to be computed by hand (the tests show the arithmetic).

today = 2026-12-01 (quarter 2026-Q4), discount rate 8 %.

| service | tier | stage     | domain | sponsor | invest | cost/yr | gain/yr | years | eng | run |
|---------|------|-----------|--------|---------|-------:|--------:|--------:|------:|----:|----:|
| alpha   | 1    | live      | pay    | Ann     | 1000   | 100     | 500     | 3     | 4   | 100 |
| beta    | 2    | live      | pay    | Ben     | 2000   | 200     | 600     | 5     | 3   | 200 |
| gamma   | 1    | chartered | lend   | Ann     | 500    | 50      | 100     | 4     | 2   |     |
| delta   | 3    | approved  | lend   |         |        |         |         |       | 5   |     |
| omega   | 2    | approved  | lend   | Ben     |        |         |         |       | 2   |     |
| zeta    | 4    | proposed  | lend   |         |        |         |         |       | 1   |     |

gain: annual benefit; eng: FTE requested; run: EUR requested.
Pools: eng (people, 10 FTE, high threshold 80 %), run (budget, 1000 EUR).
gamma plans designed 2027-Q1, transitioning 2027-Q2, live 2027-Q3; omega plans transitioning
2027-Q4; delta has no plan; zeta is only a proposal (no demand). alpha and gamma rely on
supplier sup-x.
"""

from __future__ import annotations

from pathlib import Path

SPO_YAML = """\
apiVersion: spo/v1
kind: Project
catalog: {paths: [catalog]}
validation: {date: 2026-12-01}
portfolio: {discountRate: 0.08, supplierConcentration: 2}
"""

PARTIES = """\
apiVersion: spo/v1
kind: Party
metadata: {name: team-a, version: 1.0.0}
spec: {type: team, handle: "@acme/team-a"}
---
apiVersion: spo/v1
kind: Party
metadata: {name: sup-x, version: 1.0.0}
spec: {type: supplier}
---
apiVersion: spo/v1
kind: Party
metadata: {name: retail, version: 1.0.0}
spec: {type: customer}
"""

POOLS = """\
apiVersion: spo/v1
kind: ResourcePool
metadata: {name: eng, version: 1.0.0, owner: team-a}
spec: {type: people, unit: FTE, capacity: 10, thresholds: {low: 10, high: 80}}
---
apiVersion: spo/v1
kind: ResourcePool
metadata: {name: run, version: 1.0.0, owner: team-a}
spec: {type: budget, unit: EUR, capacity: 1000, thresholds: {low: 10, high: 95}}
"""

RISKS = """\
apiVersion: spo/v1
kind: Risk
metadata: {name: r1, version: 1.0.0, owner: team-a, title: Supplier X fails}
spec:
  likelihood: 2
  impact: 5
  owner: Ann
  reviews: {last: 2026-10-01, next: 2027-01-01}
  services: [alpha]
  suppliers: [sup-x]
---
apiVersion: spo/v1
kind: Risk
metadata: {name: r2, version: 1.0.0, owner: team-a}
spec:
  likelihood: 4
  impact: 3
  owner: Ben
  status: mitigating
  reviews: {next: 2027-03-01}
  services: [beta]
---
apiVersion: spo/v1
kind: Risk
metadata: {name: r3, version: 1.0.0, owner: team-a}
spec:
  likelihood: 2
  impact: 5
  owner: Ann
  status: closed
  reviews: {next: 2026-01-01}
  services: [gamma]
"""


def _service(name: str, tier: int, resources: dict[str, float], suppliers: str = "") -> str:
    res = "".join(f"\n    - {{pool: {p}, quantity: {q}}}" for p, q in resources.items())
    sup = f"\n  suppliers: [{suppliers}]" if suppliers else ""
    return f"""\
apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: {name}, version: 1.0.0, owner: team-a, title: {name.title()}}}
spec:
  type: business
  tier: {tier}
  outcomes: [{{name: Something useful}}]
  resources:{res}{sup}
"""


def _entry(name: str, stage: str, domain: str, extra: str = "") -> str:
    return f"""\
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec:
  service: {name}
  stage: {stage}
  domain: {domain}
{extra}"""


def _case(inv: int, cost: int, benefit: int, years: int) -> str:
    return (
        f"  businessCase: {{currency: EUR, investment: {inv}, annualCost: {cost}, "
        f"annualBenefit: {benefit}, horizonYears: {years}}}\n"
    )


def _approvals(*pairs: tuple[str, str]) -> str:
    rows = "".join(f"    - {{stage: {s}, approver: team-a, date: {d}}}\n" for s, d in pairs)
    return "  approvals:\n" + rows


FILES = {
    "spo.yaml": SPO_YAML,
    "catalog/parties.yaml": PARTIES,
    "catalog/pools.yaml": POOLS,
    "catalog/risks.yaml": RISKS,
    "catalog/services/alpha.yaml": _service("alpha", 1, {"eng": 4, "run": 100}, "sup-x"),
    "catalog/services/beta.yaml": _service("beta", 2, {"eng": 3, "run": 200}),
    "catalog/services/gamma.yaml": _service("gamma", 1, {"eng": 2}, "sup-x"),
    "catalog/services/delta.yaml": _service("delta", 3, {"eng": 5}),
    "catalog/services/omega.yaml": _service("omega", 2, {"eng": 2}),
    "catalog/services/zeta.yaml": _service("zeta", 4, {"eng": 1}),
    "catalog/portfolio/alpha.yaml": _entry(
        "alpha",
        "live",
        "pay",
        "  sponsor: Ann\n"
        + _case(1000, 100, 500, 3)
        + _approvals(
            ("approved", "2026-01-10"),
            ("chartered", "2026-02-20"),
            ("designed", "2026-05-01"),
            ("transitioning", "2026-06-01"),
            ("live", "2026-07-01"),
        ),
    ),
    "catalog/portfolio/beta.yaml": _entry(
        "beta",
        "live",
        "pay",
        "  sponsor: Ben\n"
        + _case(2000, 200, 600, 5)
        + _approvals(
            ("approved", "2025-01-01"),
            ("chartered", "2025-03-02"),
            ("designed", "2025-05-01"),
            ("transitioning", "2025-06-30"),
            ("live", "2025-08-29"),
        ),
    ),
    "catalog/portfolio/gamma.yaml": _entry(
        "gamma",
        "chartered",
        "lend",
        "  sponsor: Ann\n"
        + _case(500, 50, 100, 4)
        + _approvals(("approved", "2026-03-01"), ("chartered", "2026-04-15"))
        + "  plan: {designed: 2027-Q1, transitioning: 2027-Q2, live: 2027-Q3}\n",
    ),
    "catalog/portfolio/delta.yaml": _entry(
        "delta", "approved", "lend", _approvals(("approved", "2026-10-01"))
    ),
    "catalog/portfolio/omega.yaml": _entry(
        "omega",
        "approved",
        "lend",
        "  sponsor: Ben\n"
        + _approvals(("approved", "2026-09-01"))
        + "  plan: {transitioning: 2027-Q4}\n",
    ),
    "catalog/portfolio/zeta.yaml": _entry("zeta", "proposed", "lend"),
}


def write_portfolio(root: Path, changes: dict[str, str | None] | None = None) -> Path:
    """The catalog above under ``root`` (``changes``: path -> new text, or None to drop it)."""
    files: dict[str, str | None] = {**FILES, **(changes or {})}
    for rel, text in files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
