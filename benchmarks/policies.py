"""What the policy stage adds to `spo validate`: a generated catalog with and without policies.

The shipped policies are copied into the generated root's policies/ folder, padded to 20 with
copies under new names and codes. Each run is a fresh `spo validate` process; best of --repeat.

    python benchmarks/policies.py [-n 10000] [--policies 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_catalog import generate, shipped_policies
from installed import as_installed

TARGET_SECONDS = 1.0


def write_policies(root: Path, count: int) -> None:
    folder = root / "policies"
    folder.mkdir(exist_ok=True)
    base, out = shipped_policies(), []
    for i in range(count):
        doc = yaml.safe_load(yaml.safe_dump(base[i % len(base)]))
        doc["metadata"]["name"] = f"{doc['metadata']['name']}-{i}"
        doc["spec"]["code"] = f"BEN{i:03d}"
        out.append(doc)
    (folder / "policies.yaml").write_text(yaml.safe_dump_all(out, sort_keys=False))


def best(root: Path, repeat: int) -> float:
    argv = [sys.executable, "-m", "spo_gitops.cli.main", "validate", "--format", "json"]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):  # 1: findings; anything else measured no validation
            sys.exit(f"spo validate exited {done.returncode}:\n{done.stderr.decode()[-2000:]}")
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--documents", type=int, default=10_000)
    parser.add_argument("--policies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    as_installed()
    with tempfile.TemporaryDirectory(prefix="spo-bench-policies-") as tmp:
        root = Path(tmp) / "repo"
        counts = generate(root, args.documents)
        without = best(root, args.repeat)
        write_policies(root, args.policies)
        with_ = best(root, args.repeat)
    added = with_ - without
    head = ("documents", "policies", "without s", "with s", "added s")
    print(f"{head[0]:>10}  {head[1]:>8}  {head[2]:>9}  {head[3]:>7}  {head[4]:>7}")
    print(
        f"{counts['documents']:>10,}  {args.policies:>8}  {without:>9.2f}  "
        f"{with_:>7.2f}  {added:>7.2f}"
    )
    verdict = "PASS" if added <= TARGET_SECONDS else "FAIL"
    print(f"\ntarget: {verdict}  policies add <= {TARGET_SECONDS:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
