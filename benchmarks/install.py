"""Benchmark the core install: its size, its package count, how long it takes, and then how long
`spo validate` takes on the reference catalog with it.

Each install goes into a fresh virtualenv with the pinned versions of requirements/lock.txt
(PIP_CONSTRAINT, so the build backend is pinned too), from the package index pip is configured
with (the wheel cache is cleared with --no-cache-dir, so download and unpacking are counted).
The same is done for `.[all]` for comparison. `spo validate` is timed in fresh processes of the
core virtualenv, run in a copy of the reference catalog; best of N.

    python benchmarks/install.py [--repeat 5] [--skip-all] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def install(venv: Path, target: str) -> tuple[float, int, int]:
    """Seconds to install ``target`` into a new venv, the venv's site-packages bytes (pip and
    setuptools excluded, as in any venv) and the number of distributions installed."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = next((venv / "lib").glob("python3*/site-packages"))
    before = size_of(site)
    env = {**os.environ, "PIP_CONSTRAINT": str(LOCK), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    start = time.perf_counter()
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-cache-dir", target],
        check=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "freeze", "--exclude", "pip"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return seconds, size_of(site) - before, len(listed)


def validate_wall(venv: Path, catalog: Path, repeat: int) -> tuple[float, float]:
    """Best wall time of ``spo validate`` over ``repeat`` fresh processes, and that run's CPU
    time (user + system: what the process itself spent, whatever else the machine runs)."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [str(venv / "bin" / "spo"), "validate"], cwd=catalog, capture_output=True, text=True
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"spo validate failed:\n{done.stdout}{done.stderr}")
        best = min(best, (wall, cpu))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-all", action="store_true", help="do not install .[all] as well")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="spo-install-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        # install from a copy of the source, so that the build writes nothing into the checkout
        src = work / "src"
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(
            ROOT,
            src,
            ignore=shutil.ignore_patterns(
                ".git",
                ".venv",
                ".spo",
                "build",
                "dist",
                "*.egg-info",
                "__pycache__",
                "test-artifacts",
                "node_modules",
                ".mypy_cache",
                ".ruff_cache",
                ".pytest_cache",
            ),
        )
        rows = []
        for label, target in [("core", str(src)), ("all extras", f"{src}[all]")]:
            if label != "core" and args.skip_all:
                continue
            venv = work / label.replace(" ", "-")
            shutil.rmtree(venv, ignore_errors=True)
            rows.append((label, venv, *install(venv, target)))
        catalog = work / "catalog-copy"
        shutil.rmtree(catalog, ignore_errors=True)
        catalog.mkdir()
        for name in ("spo.yaml", "catalog", "policies", "blueprints"):
            path = ROOT / name
            (shutil.copytree if path.is_dir() else shutil.copy)(path, catalog / name)
        wall, cpu = validate_wall(rows[0][1], catalog, args.repeat)
        documents = sum(
            p.read_text(encoding="utf-8").count("\napiVersion:") + 1
            for p in (catalog / "catalog").rglob("*.yaml")
        )
        print("| install | packages | size | install time |")
        print("|---|---|---|---|")
        for label, _, seconds, size, count in rows:
            print(f"| {label} | {count} | {size / 2**20:.0f} MiB | {seconds:.1f} s |")
        if len(rows) == 2:
            print(
                f"\ncore / all: {rows[0][4] / rows[1][4]:.2f}x the packages, "
                f"{rows[0][3] / rows[1][3]:.2f}x the size, {rows[0][2] / rows[1][2]:.2f}x the time"
            )
        print(
            f"\nspo validate on the reference catalog (~{documents} documents, core install, "
            f"best of {args.repeat} fresh processes): {wall:.2f} s wall, {cpu:.2f} s CPU"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
