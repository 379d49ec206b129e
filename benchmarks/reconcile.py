"""Plan and apply speed on the embedded cmdb provider, for N resources in dependency chains.

Each step runs `spo` in a fresh process, as a user or CI would: plan from an empty state, apply
that plan, then a no-op plan (refresh included). Run: python benchmarks/reconcile.py [-n 2000 4000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPO = [sys.executable, "-m", "spo_gitops.cli.main"]
CHAIN = 20  # each resource depends on the one before it, in chains of this length

TARGETS = {"plan": 1.5, "apply": 5.0, "no-op plan": 1.5}


def write_catalog(root: Path, resources: int) -> None:
    """resources/2 services, each provisioning a cmdb service and its cmdb sla."""
    (root / "spo.yaml").write_text("apiVersion: spo/v1\nkind: Project\n")
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "team.yaml").write_text(
        "apiVersion: spo/v1\nkind: Party\nmetadata: {name: team-a, version: 1.0.0}\n"
        "spec: {type: team}\n---\napiVersion: spo/v1\nkind: Party\n"
        "metadata: {name: retail, version: 1.0.0, owner: team-a}\nspec: {type: customer}\n"
    )
    for i in range(resources // 2):
        name = f"svc-{i:05d}"
        after = f"\n      dependsOn: [cmdb.service.svc-{i - 1:05d}]" if i % CHAIN else ""
        (catalog / f"{name}.yaml").write_text(
            f"""apiVersion: spo/v1
kind: ServiceModel
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec:
  type: technical
  tier: 3
  outcomes: [{{name: keeps running}}]
  provisioning:
    - provider: cmdb
      type: service
      properties: {{owner: team-a, tier: 3, title: Service {i}}}{after}
    - provider: cmdb
      type: sla
      name: {name}-retail
      properties:
        service: {name}
        customer: retail
        objectives: [{{metric: availability, target: 99.5, unit: percent}}]
      dependsOn: [cmdb.service.{name}]
---
apiVersion: spo/v1
kind: PortfolioEntry
metadata: {{name: {name}, version: 1.0.0, owner: team-a}}
spec: {{service: {name}, stage: live}}
"""
        )


def timed(root: Path, *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([*SPO, *args], cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"spo {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def measure(resources: int, repeat: int) -> dict[str, float]:
    runs: dict[str, list[float]] = {step: [] for step in TARGETS}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="spo-reconcile-") as tmp:
            root = Path(tmp)
            write_catalog(root, resources)
            runs["plan"].append(timed(root, "plan", "-o", "plan.json", "--format", "json"))
            runs["apply"].append(timed(root, "apply", "plan.json", "--auto-approve"))
            runs["no-op plan"].append(timed(root, "plan", "--detailed-exitcode"))
    return {step: min(times) for step, times in runs.items()} | {
        f"{step} (median)": statistics.median(times) for step, times in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--resources", type=int, nargs="+", default=[2000, 4000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {n: measure(n, args.repeat) for n in args.resources}
    print(f"{'resources':>9}  {'step':<10}  {'best s':>7}  {'median s':>8}  target")
    for n, figures in results.items():
        for step, target in TARGETS.items():
            best = figures[step]
            verdict = ("PASS" if best <= target else "FAIL") if n == 2000 else ""
            print(
                f"{n:>9}  {step:<10}  {best:>7.2f}  {figures[step + ' (median)']:>8.2f}  "
                f"<= {target} s at 2,000 {verdict}"
            )
    if 2000 in results and 4000 in results:
        for step in TARGETS:
            ratio = results[4000][step] / results[2000][step]
            print(
                f"4,000 / 2,000 {step}: {ratio:.2f}x (target <= 2.2x) "
                f"{'PASS' if ratio <= 2.2 else 'FAIL'}"
            )


if __name__ == "__main__":
    main()
