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
from .servers import Served, serving

CONNECTIONS = 32
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP_SECONDS = 1.0
KEY = "bench-key"
AUTH = f"Bearer {KEY}"
SUBMIT_BODY = json.dumps({"request_type": "async", "input": {
    "mode": "pro-text-to-image", "prompt": "A beautiful sunset over the mountains",
    "aspect_ratio": "1:1", "resolution": "1K"}})
TARGETS = {"status": 0.8, "submit": 0.5}
P99_TARGET_MS = 25.0
LABELS = {"status": "mock status GET", "submit": "mock submit POST",
          "minimal": "minimal app GET"}


def _submit_one(base_url: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/generateTask/flux-2", data=SUBMIT_BODY.encode(), method="POST",
        headers={"Authorization": AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        task_id: str = json.load(response)["data"]["taskId"]
    return task_id


def run() -> None:
    """Load the mock and the minimal app; print req/s, p50, p99 and the ratios to the targets."""
    wrk = ensure_wrk()
    tool = wrk or "Python threads + http.client (wrk not available)"
    print(f"load generator: {tool}; {CONNECTIONS} connections, {ROUNDS} rounds of {SECONDS:g} s "
          f"per target (after {WARMUP_SECONDS:g} s warm-up), interleaved so that noise from "
          f"other work on the machine hits every target alike; servers: gunicorn, 2 sync "
          f"workers, 127.0.0.1; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="flux2-bench-store-") as scratch:
        store = str(Path(scratch) / "tasks.sqlite3")
        mock_cmd = [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers",
                    "2", "--profile", "instant", "--store", store, "--api-key", KEY]
        minimal_cmd = [sys.executable, "-m", "benchmarks.minimal_app", "--port", "0"]
        with serving(mock_cmd, health_path="/_mock/health") as mock, \
                serving(minimal_cmd, health_path="/ping") as minimal:
            mock_url, minimal_url = mock.base_url, minimal.base_url
            servers = {"status": mock, "submit": mock, "minimal": minimal}
            task_id = _submit_one(mock_url)
            requests = {
                "status": Request(f"{mock_url}/api/v1/statusTask/flux-2?taskId={task_id}",
                                  authorization=AUTH),
                "submit": Request(f"{mock_url}/api/v1/generateTask/flux-2", method="POST",
                                  body=SUBMIT_BODY, authorization=AUTH),
                "minimal": Request(f"{minimal_url}/ping"),
            }
            for request in requests.values():
                run_load(request, connections=CONNECTIONS, seconds=WARMUP_SECONDS, wrk=wrk)
            rounds: dict[str, list[LoadResult]] = {name: [] for name in requests}
            cpu: dict[str, list[float]] = {name: [] for name in requests}
            for number in range(1, ROUNDS + 1):
                for name, request in requests.items():
                    result, per_request = _measure(servers[name], request, wrk)
                    rounds[name].append(result)
                    cpu[name].append(per_request)
                    print(f"  round {number}  {LABELS[name]:<17} {result.rps:>7.0f} req/s   "
                          f"p50 {result.p50_ms:6.2f} ms   p99 {result.p99_ms:6.2f} ms   "
                          f"server CPU {per_request:5.0f} us/req   errors {result.errors}",
                          flush=True)
    _report(rounds, cpu)


def _measure(server: Served, request: Request, wrk: str | None) -> tuple[LoadResult, float]:
    """Run one load and return it with the server's CPU time per request, in microseconds."""
    before = server.cpu_seconds()
    result = run_load(request, connections=CONNECTIONS, seconds=SECONDS, wrk=wrk)
    used = server.cpu_seconds() - before
    return result, (used / result.requests * 1e6) if result.requests else 0.0


def _median(results: list[LoadResult]) -> LoadResult:
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


def _report(rounds: dict[str, list[LoadResult]], cpu: dict[str, list[float]]) -> None:
    print("  median of the rounds:")
    medians = {name: _median(results) for name, results in rounds.items()}
    cpu_medians = {name: sorted(values)[len(values) // 2] for name, values in cpu.items()}
    for name, result in medians.items():
        print(f"    {LABELS[name]:<17} {result.rps:>7.0f} req/s   p50 {result.p50_ms:6.2f} ms   "
              f"p99 {result.p99_ms:6.2f} ms   server CPU {cpu_medians[name]:5.0f} us/req")
    print("  ratios to the minimal app (per round, then of the medians):")
    baseline = medians["minimal"].rps
    for name, target in TARGETS.items():
        per_round = [r.rps / m.rps for r, m in zip(rounds[name], rounds["minimal"], strict=True)
                     if m.rps]
        ratio = medians[name].rps / baseline if baseline else 0.0
        verdict = "meets" if ratio >= target else "MISSES"
        print(f"    {name:<7} {' '.join(f'{x:.2f}' for x in per_round)}  ->  {ratio:.2f}x  "
              f"(target >= {target}x: {verdict})")
    for name, result in medians.items():
        verdict = "meets" if result.p99_ms <= P99_TARGET_MS else "MISSES"
        print(f"    {name:<7} p99 {result.p99_ms:6.2f} ms  (target <= {P99_TARGET_MS:g} ms: "
              f"{verdict})")
    print("  server CPU per request against the minimal app's (less sensitive to other load):")
    for name in TARGETS:
        share = cpu_medians["minimal"] / cpu_medians[name] if cpu_medians[name] else 0.0
        print(f"    {name:<7} {share:.2f}x  (minimal {cpu_medians['minimal']:.0f} us, "
              f"{name} {cpu_medians[name]:.0f} us)")
    failed = sum(r.errors for results in rounds.values() for r in results)
    if failed:
        print(f"  WARNING: {failed} requests failed or answered an error status")
