"""Benchmark `spo validate --changed-since HEAD` on a pull request touching 5 files.

Generates a catalog (benchmarks/gen_catalog.py) with the shipped policies, commits it
in a fresh git repository, changes 5 files (2 services, an SLA, a portfolio entry and a pool) and
times, each in a fresh `spo` process: the full `spo validate`, `--changed-since HEAD` with no cache
(.spo/ removed: what a CI runner without a restored cache pays) and with a warm cache; best of N,
wall time beside CPU time (user + system of the process and its children: on a shared machine
the wall time moves with the load, CPU time much less).

    python benchmarks/changed.py [-n 10000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_catalog import generate, shipped_policies
from installed import as_installed

TARGET_SECONDS = 0.5  # issue 17: a 5-file change of 10,000 documents, warm
SPO = [sys.executable, "-c", "from spo_gitops.cli.main import entry; entry()"]  # as `spo` runs


def git(root: Path, *args: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def make_repo(root: Path, documents: int) -> None:
    generate(root, documents)
    policies = yaml.safe_dump_all(shipped_policies(), sort_keys=False)
    (root / "policies" / "shipped.yaml").write_text(policies, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=bench", "-c", "user.email=b@example.com", "add", "-A")
    git(
        root,
        *("-c", "user.name=bench", "-c", "user.email=b@example.com"),
        *("-c", "commit.gpgsign=false", "commit", "-q", "-m", "catalog"),
    )


def touch_five(root: Path) -> list[str]:
    """A pull request's worth of edits: descriptions and versions in 5 files of 4 kinds."""
    picks = [
        next(iter(sorted((root / "catalog" / folder).glob("*.yaml"))[n : n + 1]))
        for folder, n in [("services", 3), ("services", 40), ("slas", 7), ("portfolio", 9)]
    ]
    picks.append(sorted((root / "catalog" / "pools").glob("*.yaml"))[1])
    for path in picks:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("synthetic entry", "edited entry", 1), encoding="utf-8")
    return [p.relative_to(root).as_posix() for p in picks]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(root: Path, args: list[str], before: list[str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    if before:
        shutil.rmtree(root / ".spo", ignore_errors=True)
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(
        [*SPO, *args], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed, used = time.perf_counter() - start, _cpu() - cpu
    if done.returncode != 0:  # the generated catalog is clean: a failed run measures nothing
        sys.exit(f"spo {' '.join(args)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--documents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()
    as_installed()
    tmp = None
    if args.keep:
        root = args.keep
        root.mkdir(parents=True, exist_ok=False)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="spo-changed-")
        root = Path(tmp.name)
    try:
        make_repo(root, args.documents)
        touched = touch_five(root)
        print(f"{args.documents:,} documents; changed: {', '.join(touched)}", file=sys.stderr)
        changed = ["validate", "--changed-since", "HEAD"]
        rows = [
            ("spo validate (full)", [timed(root, ["validate"]) for _ in range(args.repeat)]),
            (
                "--changed-since HEAD, no cache",
                [timed(root, changed, before=["rm .spo"]) for _ in range(args.repeat)],
            ),
        ]
        timed(root, changed)  # fills the cache
        rows.append(
            ("--changed-since HEAD, warm cache", [timed(root, changed) for _ in range(args.repeat)])
        )
        print(f"| run | documents | wall (best of {args.repeat}) | CPU (best) |")
        print("|---|---|---|---|")
        for label, runs in rows:
            wall, cpu = min(w for w, _ in runs), min(c for _, c in runs)
            print(f"| `{label}` | {args.documents:,} | {wall:.2f} s | {cpu:.2f} s |")
        best = min(w for w, _ in rows[-1][1])
        verdict = "met" if best <= TARGET_SECONDS else "NOT met"
        print(f"\ntarget: a 5-file change checked in <= {TARGET_SECONDS} s warm: {verdict}")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
