"""HTTP throughput: the mock's status GET and submit POST against a minimal Flask app.

All three run under the same gunicorn set-up (2 sync workers, no access log) on
127.0.0.1, each loaded at 32 connections for a fixed time. Targets on a 2-core
machine: status >= 0.8x and submit >= 0.5x the minimal app's req/s, p99 <= 25 ms.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

from .load import LoadResult, Request, ensure_wrk, run_load
from .servers import running

CONNECTIONS = 32
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WARMUP_SECONDS = 1.0
KEY = "bench-key"
AUTH = f"Bearer {KEY}"
SUBMIT_BODY = json.dumps({"request_type": "async", "input": {
    "mode": "pro-text-to-image", "prompt": "A beautiful sunset over the mountains",
    "aspect_ratio": "1:1", "resolution": "1K"}})
TARGETS = {"status": 0.8, "submit": 0.5}
P99_TARGET_MS = 25.0


def _submit_one(base_url: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/generateTask/flux-2", data=SUBMIT_BODY.encode(), method="POST",
        headers={"Authorization": AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        task_id: str = json.load(response)["data"]["taskId"]
    return task_id


def _measure(name: str, request: Request, wrk: str | None) -> LoadResult:
    run_load(request, connections=CONNECTIONS, seconds=WARMUP_SECONDS, wrk=wrk)
    result = run_load(request, connections=CONNECTIONS, seconds=SECONDS, wrk=wrk)
    print(f"  {name:<16} {result.rps:>9.0f} req/s   p50 {result.p50_ms:6.2f} ms   "
          f"p99 {result.p99_ms:6.2f} ms   errors {result.errors}", flush=True)
    return result


def run() -> None:
    """Load the mock and the minimal app; print req/s, p50, p99 and the ratios to the targets."""
    wrk = ensure_wrk()
    tool = wrk or "Python threads + http.client (wrk not available)"
    print(f"load generator: {tool}; {CONNECTIONS} connections, {SECONDS:g} s per run "
          f"after {WARMUP_SECONDS:g} s warm-up; servers: gunicorn, 2 sync workers, 127.0.0.1",
          flush=True)
    results: dict[str, LoadResult] = {}
    with tempfile.TemporaryDirectory(prefix="flux2-bench-store-") as scratch:
        store = str(Path(scratch) / "tasks.sqlite3")
        mock_cmd = [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers",
                    "2", "--profile", "instant", "--store", store, "--api-key", KEY]
        with running(mock_cmd, health_path="/_mock/health") as base_url:
            task_id = _submit_one(base_url)
            results["status"] = _measure("mock status GET", Request(
                f"{base_url}/api/v1/statusTask/flux-2?taskId={task_id}",
                authorization=AUTH), wrk)
            results["submit"] = _measure("mock submit POST", Request(
                f"{base_url}/api/v1/generateTask/flux-2", method="POST", body=SUBMIT_BODY,
                authorization=AUTH), wrk)
    minimal_cmd = [sys.executable, "-m", "benchmarks.minimal_app", "--port", "0"]
    with running(minimal_cmd, health_path="/ping") as base_url:
        results["minimal"] = _measure("minimal app GET", Request(f"{base_url}/ping"), wrk)
    _report(results)


def _report(results: dict[str, LoadResult]) -> None:
    baseline = results["minimal"].rps
    print("  ratios to the minimal app:")
    for name, target in TARGETS.items():
        ratio = results[name].rps / baseline if baseline else 0.0
        verdict = "meets" if ratio >= target else "MISSES"
        print(f"    {name:<7} {ratio:5.2f}x  (target >= {target}x: {verdict})")
    for name, result in results.items():
        verdict = "meets" if result.p99_ms <= P99_TARGET_MS else "MISSES"
        print(f"    {name:<7} p99 {result.p99_ms:6.2f} ms  (target <= {P99_TARGET_MS:g} ms: "
              f"{verdict})")
    failed = sum(r.errors for r in results.values())
    if failed:
        print(f"  WARNING: {failed} requests failed or answered an error status")
