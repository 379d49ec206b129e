"""Apply and refresh against a latency- and rate-limit-bound REST API, beside the floor.

A REST server on 127.0.0.1 (``tests/restserver.py``, in its own process) adds ``--latency``
seconds to every call and allows ``--rate`` calls a second (a token bucket of ``--burst``;
above it 429 with Retry-After). N resources of the http provider, no dependencies. Each step
runs ``spo`` in a fresh process: plan from an empty state, apply it, then a no-op plan (its
refresh reads every record back). Printed for each setting: apply time beside the floor
N / rate, the share of calls answered 429, failed actions, and the no-op plan's time. The
server's own clock also gives the span of each step's calls (first to last, plus one latency):
the whole command includes starting Python and checking the catalog, which the calls do not
(``spo validate`` of the same catalog is printed for scale).

Settings compared in the same run: the provider's own (``parallelism: 32``, adaptive limit) and
a fixed parallelism of 10 (Terraform's default) without adaptation.

Run: python benchmarks/http_apply.py [-n 1000] [--latency 0.05] [--rate 200]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spo_gitops.testing.catalogs import write_provisioned_catalog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from installed import as_installed
from served import print_runs, server, stats

REPO = Path(__file__).resolve().parent.parent
SPO = [sys.executable, "-m", "spo_gitops.cli.main"]
GOALS = {"apply / floor": 1.3, "429 share": 0.05, "no-op plan s": 3.0}


def write_project(root: Path, resources: int, url: str, settings: dict[str, object]) -> None:
    http = {
        "baseUrl": url,
        "timeout": 5,
        **settings,
        "types": {
            "service": {
                "path": "/v1/services",
                "pagination": "offset",
                "uniqueNames": True,
                "idempotencyHeader": "Idempotency-Key",
            }
        },
    }
    config = "providers:\n  http: " + json.dumps(http) + "\nlifecycle: {approvalRequired: []}\n"
    write_provisioned_catalog(root, resources, digits=5, extras=(), config=config)
    for path in (root / "catalog").glob("svc-*.yaml"):
        path.write_text(path.read_text().replace("provider: cmdb", "provider: http"))


def spo(root: Path, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([*SPO, *args], cwd=root, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        sys.exit(f"spo {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout + done.stderr


def measure(args: argparse.Namespace, settings: dict[str, object]) -> dict[str, float]:
    argv = [sys.executable, "-m", "tests.restserver", "--latency", str(args.latency)]
    argv += ["--rate", str(args.rate), "--burst", str(args.burst)]
    argv += ["--unique-names", "--idempotency"]
    with server(argv, cwd=REPO) as url:
        with tempfile.TemporaryDirectory(prefix="spo-http-") as tmp:
            root = Path(tmp)
            write_project(root, args.resources, url, settings)
            spo(root, "plan", "-o", "plan.json", "--format", "json")
            start = time.time()
            apply_s, out = spo(root, "apply", "plan.json", "--auto-approve", ok=(0, 1))
            applied = stats(url, f"?since={start}")
            summary = re.search(r"(\d+) failed", out)
            failed = int(summary[1]) if summary else args.resources
            start = time.time()
            noop_s, _ = spo(root, "plan", "--detailed-exitcode")
            refreshed = stats(url, f"?since={start}")
            validate_s, _ = spo(root, "validate")  # the part of a plan that is not refresh
        calls = applied["calls"]
        floor = args.resources / args.rate
        calling = applied["last"] - applied["first"] + args.latency
        return {
            "apply s": apply_s,
            "apply / floor": apply_s / floor,
            "apply calls s": calling,
            "apply calls / floor": calling / floor,
            "calls per resource": calls / args.resources,
            "429 share": applied["throttled"] / max(calls, 1),
            "failed actions": failed,
            "no-op plan s": noop_s,
            "spo validate s": validate_s,
            "refresh calls": refreshed["calls"],
            "refresh calls s": refreshed["last"] - refreshed["first"] + args.latency,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--resources", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()
    as_installed()
    runs = {
        "adaptive, parallelism 32": measure(args, {"parallelism": 32}),
        "fixed parallelism 10": measure(args, {"parallelism": 10, "adaptive": False}),
    }
    floor = args.resources / args.rate
    print(
        f"{args.resources} resources, {args.latency * 1000:g} ms per call, "
        f"{args.rate:g} calls/s allowed: floor {floor:.2f} s"
    )
    print_runs(runs, GOALS)


if __name__ == "__main__":
    main()
