"""Benchmark a full `spo validate` against check-jsonschema (schema only) on a synthetic catalog.

Every measured run is a fresh process, so imports, caches and worker start-up count. Each run goes
through a small wrapper process that reports the wall time of the command(s) it runs, the CPU time
of its children (user + system, worker processes included) and their peak RSS (ru_maxrss of
RUSAGE_CHILDREN: the largest single process, in KiB on Linux). Wall time on a shared machine moves
with the load; CPU time much less, so both are printed side by side.

    python benchmarks/validate.py [-n 10000] [--jobs 0] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_catalog import FOLDERS, generate
from installed import as_installed

TARGET_SECONDS, TARGET_MIB, TARGET_DOCS = 3.0, 300, 10_000
TARGET_WALL_SPEEDUP, TARGET_CPU_SPEEDUP = 12.0, 6.0
# Runs the commands given as JSON on stdin one after the other; prints wall time and peak RSS.
WRAPPER = """
import json, resource, subprocess, sys, time
cmds = json.load(sys.stdin)
start = time.perf_counter()
codes = [subprocess.run(c["argv"], cwd=c["cwd"], stdout=subprocess.DEVNULL).returncode
         for c in cmds]
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"wall": wall, "cpu": cpu, "rss_kib": usage.ru_maxrss, "codes": codes}))
"""
# Used when the `spo` CLI cannot be imported yet: the same pipeline through the Python API.
API_VALIDATE = """
import sys
from pathlib import Path
from spo_gitops.config import load_project
from spo_gitops.catalog.validate import validate
result = validate(load_project(Path(sys.argv[1])), jobs=int(sys.argv[2]))
sys.exit(1 if result.findings.has_errors else 0)
"""
# Not timed: lists the findings, so that a catalog that does not validate cleanly is noticed.
API_FINDINGS = """
import collections, sys
from pathlib import Path
from spo_gitops.config import load_project
from spo_gitops.catalog.validate import validate
result = validate(load_project(Path(sys.argv[1])))
items = result.findings.items
print(f"{len(result.documents)} documents, {len(items)} findings",
      dict(collections.Counter(f"{d.severity} {d.code}" for d in items)))
for d in items[:10]:
    print(f"  {d.location()}: {d.severity} {d.code} {d.message}")
"""
Command = dict[str, Any]  # {"argv": [...], "cwd": "..."}


@dataclass
class Result:
    tool: str
    walls: list[float]
    cpus: list[float]
    rss_kib: int
    failed: bool

    @property
    def best(self) -> float:
        return min(self.walls)

    @property
    def cpu(self) -> float:
        return min(self.cpus)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def measure(tool: str, commands: list[Command], repeat: int) -> Result:
    walls, cpus, rss, failed = [], [], 0, False
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", WRAPPER],
            input=json.dumps(commands),
            capture_output=True,
            text=True,
            check=True,
        )
        report = json.loads(out.stdout)
        walls.append(report["wall"])
        cpus.append(report["cpu"])
        rss = max(rss, report["rss_kib"])
        failed = failed or any(report["codes"])
    return Result(tool, walls, cpus, rss, failed)


def cli_available() -> bool:
    probe = [sys.executable, "-m", "spo_gitops.cli.main", "validate", "--help"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def spo_command(root: Path, jobs: int) -> tuple[str, Command]:
    if cli_available():
        # stdout goes to /dev/null; `-o /dev/null` would make the atomic writer replace /dev/null
        argv = [sys.executable, "-m", "spo_gitops.cli.main", "validate", "--format", "json"]
        argv += ["--jobs", str(jobs)] if jobs else []
        name = f"spo validate --jobs {jobs}" if jobs else "spo validate"
        return f"{name} (CLI)", {"argv": argv, "cwd": str(root)}
    argv = [sys.executable, "-c", API_VALIDATE, str(root), str(jobs)]
    return "spo validate (API)", {"argv": argv, "cwd": str(root)}


def check_jsonschema() -> str:
    """check-jsonschema beside this interpreter (an environment that is not activated), else
    the one on PATH."""
    beside = Path(sys.executable).with_name("check-jsonschema")
    if beside.exists():
        return str(beside)
    return shutil.which("check-jsonschema") or "check-jsonschema"


def check_jsonschema_commands(root: Path, schemas: Path) -> list[Command]:
    """One check-jsonschema run per kind over that kind's files, in batches of bounded length."""
    limit = min(os.sysconf("SC_ARG_MAX") // 4, 1_000_000)
    commands = []
    for kind, folder in FOLDERS.items():
        files = sorted(
            str(p.relative_to(root)) for p in (root / "catalog" / folder).rglob("*.yaml")
        )
        head = [check_jsonschema(), "--schemafile", str(schemas / f"{kind}.json")]
        batch: list[str] = []
        for name in files:
            if batch and sum(len(f) + 1 for f in batch) + len(name) > limit:
                commands.append({"argv": head + batch, "cwd": str(root)})
                batch = []
            batch.append(name)
        if batch:
            commands.append({"argv": head + batch, "cwd": str(root)})
    return commands


def print_table(results: list[Result], documents: int, files: int) -> None:
    head = ["tool", "documents", "files", "best s", "median s", "CPU s", "docs/s", "peak MiB", "ok"]
    rows = [
        [
            r.tool,
            f"{documents:,}",
            f"{files:,}",
            f"{r.best:.2f}",
            f"{r.median:.2f}",
            f"{r.cpu:.2f}",
            f"{documents / r.best:,.0f}",
            f"{r.rss_kib / 1024:.0f}",
            "FAIL" if r.failed else "yes",
        ]
        for r in results
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    for row in [head, ["-" * w for w in widths], *rows]:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        print("  ".join(cells))


def print_targets(spo: Result, reference: Result | None, documents: int) -> None:
    at_scale = documents == TARGET_DOCS  # the time target is stated for 10,000 documents
    checks: list[tuple[str, bool | None]] = [
        (
            f"{TARGET_DOCS:,} docs in <= {TARGET_SECONDS:g} s",
            spo.best <= TARGET_SECONDS if at_scale else None,
        ),
        (f"peak RSS <= {TARGET_MIB} MiB", spo.rss_kib / 1024 <= TARGET_MIB),
    ]
    if reference is not None:
        wall, cpu = reference.best / spo.best, reference.cpu / spo.cpu
        print(f"\nspo over check-jsonschema: {wall:.1f}x in wall time, {cpu:.1f}x in CPU time")
        checks.append((f">= {TARGET_WALL_SPEEDUP:g}x in wall time", wall >= TARGET_WALL_SPEEDUP))
        checks.append((f">= {TARGET_CPU_SPEEDUP:g}x in CPU time", cpu >= TARGET_CPU_SPEEDUP))
        load = os.getloadavg()[0]
        print(f"load average before the last run: {load:.1f} on {os.cpu_count()} cores")
    print("\ntargets:")
    for label, ok in checks:
        verdict = "SKIP" if ok is None else "PASS" if ok else "FAIL"
        note = f"  (measured with {documents:,} documents)" if ok is None else ""
        print(f"  {verdict}  {label}{note}")


def show_findings(root: Path) -> None:
    argv = [sys.executable, "-c", API_FINDINGS, str(root)]
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode != 0:
        print("findings: the check through the API failed:", out.stderr.strip()[-500:])
    else:
        print("findings:", out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--documents", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=0, help="spo worker processes (0 = auto)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-check-jsonschema", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="generate into DIR and keep it")
    args = parser.parse_args()
    as_installed()
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: the directory is not empty")

    with tempfile.TemporaryDirectory(prefix="spo-bench-") as tmp:
        root = (args.keep or Path(tmp) / "catalog-repo").resolve()
        start = time.perf_counter()
        counts = generate(root, args.documents)
        took = time.perf_counter() - start
        print(
            f"generated {counts['documents']:,} documents in {counts['files']:,} files "
            f"({counts['bytes'] / 2**20:.1f} MiB) under {root} in {took:.1f} s"
        )
        show_findings(root)

        tool, command = spo_command(root, args.jobs)
        results = [measure(tool, [command], args.repeat)]
        if not args.jobs:  # the default beside one process, to show what the workers bring
            tool, command = spo_command(root, 1)
            results.append(measure(tool, [command], args.repeat))
        reference = None
        if not args.skip_check_jsonschema:
            schemas = Path(tmp) / "schemas" / "v1"
            export = "from spo_gitops.catalog import schema; from pathlib import Path; import sys; "
            export += "schema.export(Path(sys.argv[1]))"
            subprocess.run([sys.executable, "-c", export, str(schemas.parent)], check=True)
            commands = check_jsonschema_commands(root, schemas)
            reference = measure(f"check-jsonschema ({len(commands)} runs)", commands, args.repeat)
            results.append(reference)

        print()
        print_table(results, counts["documents"], counts["files"])
        print_targets(results[0], reference, counts["documents"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
