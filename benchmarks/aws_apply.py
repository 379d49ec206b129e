"""Creates through the aws provider against moto with injected latency and a rate limit.

moto's server (in its own process on 127.0.0.1) behind a middleware that adds ``--latency``
seconds to every call and allows ``--rate`` calls a second (a token bucket of ``--burst``);
above it the call is refused with ThrottlingException, as AWS does. N portfolios are created
from ``--threads`` threads at once, as apply's workers would. Printed beside the floor (the
calls made ÷ rate): the time, the calls per portfolio, the share refused, and failures, for the
adaptive limiter and for a fixed limit of 10.

Run: python benchmarks/aws_apply.py [-n 200] [--latency 0.05] [--rate 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from installed import as_installed
from served import print_runs, server, stats

SERVER = """
import json, sys, threading, time
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

latency, rate, burst = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
bucket = {"tokens": burst, "stamp": time.monotonic(), "calls": 0, "throttled": 0}

def limited(environ, start_response):
    time.sleep(latency)
    if environ.get("PATH_INFO") == "/_stats":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(bucket).encode()]
    with lock:
        now = time.monotonic()
        bucket["tokens"] = min(burst, bucket["tokens"] + (now - bucket["stamp"]) * rate)
        bucket["stamp"] = now
        bucket["calls"] += 1
        allowed = bucket["tokens"] >= 1
        if allowed:
            bucket["tokens"] -= 1
        else:
            bucket["throttled"] += 1
    if not allowed:
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                           ("x-amzn-ErrorType", "ThrottlingException")])
        return [body.encode()]
    return app(environ, start_response)

server = make_server("127.0.0.1", 0, limited, threaded=True)
print(f"http://127.0.0.1:{server.server_port}", flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
"""


def measure(args: argparse.Namespace, adaptive: bool, parallelism: int) -> dict[str, float]:
    from spo_gitops.providers import ProviderContext, ProviderError
    from spo_gitops.providers.aws import AwsProvider, AwsSettings

    argv = [sys.executable, "-c", SERVER, str(args.latency), str(args.rate), str(args.burst)]
    with server(argv, quiet=True) as url:
        settings = AwsSettings(endpoint_url=url, parallelism=parallelism, adaptive=adaptive)
        provider = AwsProvider(settings, ProviderContext(Path("."), Path(".")))
        failed = 0
        guard = threading.Lock()

        def create(i: int) -> None:
            nonlocal failed
            try:
                provider.create("portfolio", f"p{i:04}", {"providerName": "it"})
            except ProviderError:
                with guard:
                    failed += 1

        before = stats(url)
        start = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(create, range(args.resources)))
        elapsed = time.perf_counter() - start
        after = stats(url)
        calls = after["calls"] - before["calls"] - 1
        floor = calls / args.rate
        return {
            "seconds": elapsed,
            "floor s (calls/rate)": floor,
            "seconds / floor": elapsed / floor,
            "calls per portfolio": calls / args.resources,
            "throttled share": (after["throttled"] - before["throttled"]) / max(calls, 1),
            "failed creates": failed,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--resources", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()
    as_installed()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    runs = {
        "adaptive, parallelism 32": measure(args, True, 32),
        "fixed 10": measure(args, False, 10),
    }
    print(
        f"{args.resources} portfolios, {args.latency * 1000:g} ms per call, "
        f"{args.rate:g} calls/s allowed, {args.threads} threads"
    )
    print_runs(runs)


if __name__ == "__main__":
    main()
