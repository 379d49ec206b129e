"""Write a synthetic catalog repository that validates with zero findings, for benchmarks.

Shaped like the reference catalog: one document per file of 40-60 lines; parties ~5% of the
documents (mostly teams, some suppliers and customers), resource pools ~2%, and for the rest per
service a ServiceModel, a PortfolioEntry and an SLA, plus one SPI per ~5 services and a reviewed
Risk per ten tier-1 live services. Every reference resolves and services depend only on services
with a lower index, so there are no cycles. Pools are sized from what the services draw (pipeline
included) so that none is under- or overbooked; tier-1 services have no suppliers (a supplier
underpinning many tier-1 services is a concentration warning); no pool is a budget, whose
allocations would have to match the business cases.

    python benchmarks/gen_catalog.py OUTDIR [-n 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import yaml

SPO_YAML = (
    "apiVersion: spo/v1\nkind: Project\n"
    "catalog:\n  paths: [catalog]\npolicies:\n  paths: [policies]\n"
)
# kind -> folder under catalog/ (check-jsonschema is run once per kind over its folder)
FOLDERS = {
    "Party": "parties",
    "ServiceModel": "services",
    "PortfolioEntry": "portfolio",
    "ServiceLevelAgreement": "slas",
    "ServiceProviderInterface": "spis",
    "ResourcePool": "pools",
    "Risk": "risks",
}
STAGES = ["proposed", "defined", "analyzed", "approved", "chartered", "designed"]
STAGES += ["transitioning", "live"]
WORDS = ["billing", "payments", "identity", "search", "ledger", "hosting", "backup", "mail"]
PEOPLE = ["ana", "ben", "chen", "dara", "eli", "femi", "gita", "hugo", "ines", "jon", "kai"]
CAPABILITIES = ["monitoring", "backup", "identity", "messaging", "storage", "analytics", "api"]
# (metric, unit, target range)
OBJECTIVES = [
    ("availability", "percent", (99.0, 99.99)),
    ("mttr", "h", (1, 12)),
    ("response-time", "ms", (100, 900)),
    ("first-contact-resolution", "percent", (60, 90)),
    ("customer-satisfaction", "percent", (75, 95)),
    ("resolution-time", "h", (4, 48)),
]
PROCESSES = ["incident", "change", "request", "problem", "release", "service-level"]


def _doc(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "spo/v1", "kind": kind, "metadata": metadata, "spec": spec}


def _meta(rng: random.Random, name: str, owner: str | None, title: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "version": f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.0"}
    if owner is not None:
        meta["owner"] = owner
    meta["title"] = title
    meta["description"] = f"{title}: synthetic entry generated for benchmarks."
    meta["labels"] = {"domain": rng.choice(WORDS), "env": rng.choice(["prod", "test"])}
    meta["annotations"] = {"generated-by": "benchmarks/gen_catalog.py"}
    return meta


def _dump(doc: dict[str, Any], rng: random.Random) -> str:
    """YAML text padded with annotations to a random length of 40-60 lines."""
    text = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, width=1000)
    padding = rng.randint(40, 60) - text.count("\n")
    if padding > 0:
        notes = doc["metadata"]["annotations"]
        notes.update({f"note-{i}": f"benchmark padding line {i}" for i in range(padding)})
        text = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, width=1000)
    return text


def _party(rng: random.Random, name: str, kind: str, owner: str) -> dict[str, Any]:
    person = rng.choice(PEOPLE)
    spec: dict[str, Any] = {"type": kind}
    if kind == "team":
        spec["handle"] = f"@acme/{name}"
    spec["contacts"] = [
        {"name": f"{person.title()} {i}", "email": f"{person}{i}@example.com", "role": role}
        for i, role in enumerate(["owner", "deputy"][: rng.randint(1, 2)])
    ]
    if kind in ("team", "board"):
        spec["members"] = [f"{p}.{name}" for p in rng.sample(PEOPLE, rng.randint(3, 8))]
    return _doc("Party", _meta(rng, name, owner, f"{kind.title()} {name}"), spec)


def _pool(rng: random.Random, name: str, owner: str) -> dict[str, Any]:
    kind, unit = rng.choice([("people", "FTE"), ("infrastructure", "vCPU"), ("licence", "seats")])
    spec = {
        "type": kind,
        "unit": unit,
        "capacity": 1.0,  # sized once the services are known (_size_pools)
        "thresholds": {"low": 0.0, "high": float(rng.randint(85, 95))},
        "provider": owner,
    }
    return _doc("ResourcePool", _meta(rng, name, owner, f"Pool {name}"), spec)


def _service(rng: random.Random, i: int, c: dict[str, list[str]]) -> dict[str, Any]:
    name, owner = f"svc-{i:05d}", rng.choice(c["team"])
    lower = [f"svc-{j:05d}" for j in rng.sample(range(i), min(i, rng.randint(0, 3)))]
    spec = {
        "type": rng.choice(["business", "technical"]),
        "tier": rng.randint(1, 4),
        "outcomes": [
            {"name": f"{w} is available when needed", "measure": f"{w} uptime"}
            for w in rng.sample(WORDS, rng.randint(1, 3))
        ],
        "capabilities": rng.sample(CAPABILITIES, rng.randint(1, 3)),
        "resources": [
            {"pool": p, "quantity": float(rng.randint(1, 20)), "purpose": "run the service"}
            for p in rng.sample(c["pool"], min(len(c["pool"]), rng.randint(1, 2)))
        ],
        "dependsOn": sorted(lower),
        "suppliers": rng.sample(c["supplier"], min(len(c["supplier"]), rng.randint(0, 2))),
    }
    if spec["tier"] == 1:
        spec["suppliers"] = []
    return _doc("ServiceModel", _meta(rng, name, owner, f"Service {i}"), spec)


def _size_pools(docs: list[dict[str, Any]]) -> None:
    """Each pool's capacity: what every service draws on it (pipeline included) at 75 %."""
    demand: dict[str, float] = {}
    for d in docs:
        if d["kind"] == "ServiceModel":
            for r in d["spec"]["resources"]:
                demand[r["pool"]] = demand.get(r["pool"], 0.0) + r["quantity"]
    for d in docs:
        if d["kind"] == "ResourcePool":
            d["spec"]["capacity"] = float(
                max(1, round(demand.get(d["metadata"]["name"], 1) / 0.75))
            )


def _risk(rng: random.Random, k: int, services: list[str], owner: str) -> dict[str, Any]:
    spec = {
        "category": "operational",
        "status": "open",
        "likelihood": rng.randint(1, 5),
        "impact": rng.randint(1, 5),
        "owner": f"{rng.choice(PEOPLE).title()} Risk Owner",
        "mitigation": "Tested fail-over and a quarterly recovery drill.",
        "reviews": {"last": "2026-09-01", "next": "2029-03-01"},
        "services": services,
    }
    return _doc("Risk", _meta(rng, f"risk-{k:04d}", owner, f"Risk {k}"), spec)


def _business_case(rng: random.Random) -> dict[str, Any]:
    """A case that pays back at the shipped 8 % discount rate (POL007): the yearly net benefit
    covers the investment within 2.5 years, less than the annuity factor of 3 years at 8 %
    (2.577)."""
    investment = float(rng.randint(10, 900) * 1000)
    cost = float(rng.randint(5, 300) * 1000)
    benefit = cost + round(investment / 2.5, -3) + rng.randint(1, 300) * 1000
    return {
        "currency": "EUR",
        "investment": investment,
        "annualCost": cost,
        "annualBenefit": float(benefit),
        "horizonYears": rng.randint(3, 7),
    }


def _entry(rng: random.Random, i: int, owner: str) -> dict[str, Any]:
    stage_index = rng.randrange(len(STAGES))
    approvals = [
        {"stage": s, "approver": "portfolio-board", "date": f"2025-{n + 1:02d}-{day:02d}"}
        for n, s in enumerate(STAGES[1 : stage_index + 1])
        for day in [rng.randint(1, 28)]
    ]
    spec = {
        "service": f"svc-{i:05d}",
        "stage": STAGES[stage_index],
        "domain": rng.choice(WORDS),
        "sponsor": f"{rng.choice(PEOPLE).title()} Sponsor",
        "businessCase": _business_case(rng),
        "approvals": approvals,
    }
    return _doc("PortfolioEntry", _meta(rng, f"svc-{i:05d}", owner, f"Entry {i}"), spec)


def _sla(
    rng: random.Random, i: int, owner: str, c: dict[str, list[str]], tier: int
) -> dict[str, Any]:
    objectives = []
    for metric, unit, (low, high) in rng.sample(OBJECTIVES, rng.randint(2, 4)):
        target = round(rng.uniform(low, high), 2)
        objectives.append({"metric": metric, "target": target, "unit": unit})
        if rng.random() < 0.5:
            objectives[-1]["priority"] = rng.choice(["P1", "P2", "P3"])
    if tier == 1:  # what the shipped policy POL004 asks of tier-1 SLAs
        objectives = [o for o in objectives if o["metric"] not in ("availability", "mttr")]
        objectives.insert(0, {"metric": "availability", "target": 99.95, "unit": "percent"})
        objectives.insert(1, {"metric": "mttr", "priority": "P1", "target": 4.0, "unit": "h"})
    spec = {
        "service": f"svc-{i:05d}",
        "customer": rng.choice(c["customer"]),
        "provider": owner,
        "status": "active",
        "validity": {"start": f"2025-{rng.randint(1, 12):02d}-01", "end": "2029-12-31"},
        "window": {"hours": rng.choice(["24x7", "Mon-Fri 08:00-18:00"]), "timezone": "UTC"},
        "objectives": objectives,
        "reviews": {"cadence": rng.choice(["monthly", "quarterly"]), "next": "2029-06-30"},
        "reporting": {"cadence": "monthly", "reports": ["service levels", "incidents"]},
    }
    return _doc("ServiceLevelAgreement", _meta(rng, f"sla-{i:05d}", owner, f"SLA {i}"), spec)


def _spi(rng: random.Random, k: int, svcs: list[str], c: dict[str, list[str]]) -> dict[str, Any]:
    owner = rng.choice(c["team"])
    consumers = rng.sample(c["customer"], min(len(c["customer"]), 2))
    supplier = rng.choice(c["supplier"])
    processes = []
    for process in rng.sample(PROCESSES, 2):
        raci = {owner: "AR", consumers[0]: "I", supplier: rng.choice(["C", "R", "CI"])}
        processes.append(
            {
                "process": process,
                "owner": owner,
                "activities": [{"activity": f"{process} handling", "raci": raci}],
            }
        )
    spec = {
        "provider": supplier,  # the supplier is bound by the SPI as its provider
        "consumers": consumers,
        "services": svcs,
        "processes": processes,
        "reporting": {"cadence": "monthly", "reports": ["kpi"]},
        "escalation": [
            {"level": 1, "party": owner, "after": "30m"},
            {"level": 2, "party": supplier, "after": "4h"},
        ],
    }
    return _doc("ServiceProviderInterface", _meta(rng, f"spi-{k:04d}", owner, f"SPI {k}"), spec)


def _settle(rng: random.Random, docs: list[dict[str, Any]]) -> None:
    """What the shipped policies ask of the whole: a service relies only on suppliers bound by
    an SPI covering it (POL005), and a live or transitioning service depends only on live
    services (POL011, POL012)."""
    bound: dict[str, str] = {}
    for d in docs:
        if d["kind"] == "ServiceProviderInterface":
            for svc in d["spec"]["services"]:
                bound.setdefault(svc, d["spec"]["provider"])
    stage = {
        d["spec"]["service"]: d["spec"]["stage"] for d in docs if d["kind"] == "PortfolioEntry"
    }
    for d in docs:
        if d["kind"] != "ServiceModel":
            continue
        spec, name = d["spec"], d["metadata"]["name"]
        supplier = bound.get(name)
        spec["suppliers"] = (
            [supplier] if supplier and spec["tier"] > 1 and rng.random() < 0.5 else []
        )
        if stage.get(name) in ("live", "transitioning"):
            spec["dependsOn"] = [s for s in spec["dependsOn"] if stage.get(s) == "live"]


def generate(root: Path, documents: int = 10_000, seed: int = 1) -> dict[str, Any]:
    """Write the catalog under ``root``; returns documents, files, bytes and per-kind counts."""
    rng = random.Random(seed)
    parties = max(3, round(documents * 0.05))
    pools = max(1, round(documents * 0.02))
    rest = max(0, documents - parties - pools)
    services = int(rest / 3.2)
    spis = rest - 3 * services
    suppliers = customers = max(1, parties * 15 // 100)
    c: dict[str, list[str]] = {
        "team": [f"team-{i:04d}" for i in range(parties - suppliers - customers)],
        "supplier": [f"supplier-{i:04d}" for i in range(suppliers)],
        "customer": [f"customer-{i:04d}" for i in range(customers)],
        "pool": [f"pool-{i:04d}" for i in range(pools)],
    }
    docs: list[dict[str, Any]] = []
    for kind in ("team", "supplier", "customer"):
        docs += [_party(rng, name, kind, c["team"][0]) for name in c[kind]]
    docs += [_pool(rng, name, rng.choice(c["team"])) for name in c["pool"]]
    for i in range(services):
        model = _service(rng, i, c)
        owner = model["metadata"]["owner"]
        docs += [model, _entry(rng, i, owner), _sla(rng, i, owner, c, model["spec"]["tier"])]
    tiers = {d["metadata"]["name"]: d["spec"]["tier"] for d in docs if d["kind"] == "ServiceModel"}
    live_tier1 = [
        d["spec"]["service"]
        for d in docs
        if d["kind"] == "PortfolioEntry"
        and d["spec"]["stage"] == "live"
        and tiers[d["spec"]["service"]] == 1
    ]
    groups = [live_tier1[i : i + 10] for i in range(0, len(live_tier1), 10)]
    docs += [_risk(rng, k, g, rng.choice(c["team"])) for k, g in enumerate(groups)]
    spis = max(0, spis - len(groups) - 2)  # two documents for the board and the policy owner
    _size_pools(docs)
    per_spi = max(1, -(-services // spis)) if spis else 0
    for k in range(spis):
        start = (k * per_spi) % max(services, 1)
        covered = [f"svc-{j:05d}" for j in range(start, min(start + per_spi, services))]
        docs.append(_spi(rng, k, covered or ["svc-00000"], c))
    docs.append(_party(rng, "portfolio-board", "board", c["team"][0]))  # the approver of all
    # the owner of the shipped policies, so that a catalog with them resolves every reference
    docs.append(_party(rng, "team-service-management", "team", c["team"][0]))
    _settle(rng, docs)

    (root / "policies").mkdir(parents=True, exist_ok=True)
    (root / "spo.yaml").write_text(SPO_YAML, encoding="utf-8")
    counts: dict[str, Any] = {"documents": len(docs), "files": 0, "bytes": 0, "kinds": {}}
    for doc in docs:
        folder = root / "catalog" / FOLDERS[doc["kind"]]
        folder.mkdir(parents=True, exist_ok=True)
        data = _dump(doc, rng).encode("utf-8")
        (folder / f"{doc['metadata']['name']}.yaml").write_bytes(data)
        counts["files"] += 1
        counts["bytes"] += len(data)
        counts["kinds"][doc["kind"]] = counts["kinds"].get(doc["kind"], 0) + 1
    return counts


def shipped_policies() -> list[dict[str, Any]]:
    """The repository's shipped policies without their waivers (whose entities are the
    reference catalog's, not the generated one's)."""
    import yaml

    docs: list[dict[str, Any]] = []
    for path in sorted((Path(__file__).resolve().parent.parent / "policies").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d)
    for d in docs:
        d["spec"].pop("waivers", None)
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("-n", "--documents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    counts = generate(args.outdir, args.documents, args.seed)
    print(f"{counts['documents']} documents, {counts['files']} files, {counts['bytes']:,} bytes")


if __name__ == "__main__":
    main()
