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

from spo_gitops.testing.catalogs import write_provisioned_catalog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from installed import as_installed

SPO = [sys.executable, "-m", "spo_gitops.cli.main"]
CHAIN = 20  # each resource depends on the one before it, in chains of this length

TARGETS = {"plan": 1.5, "apply": 5.0, "no-op plan": 1.5}


def write_catalog(root: Path, resources: int) -> None:
    """resources/2 services, each provisioning a cmdb service and its cmdb sla."""
    write_provisioned_catalog(root, resources // 2, digits=5, chain=CHAIN)


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
    as_installed()
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
