"""HTTP throughput: the mock's status GET and submit POST against a bare Flask app.

The yardstick is a one-route Flask app under gunicorn with 2 sync workers; the
mock runs as `flux2-mock serve` (2 workers), once with a file store and once with
`--store memory`. Every target is loaded at 32 connections for a fixed time, in
interleaved rounds so that other work on the machine hits all alike. Targets
(issue 11): status and submit >= 2.0x the bare app's req/s, p99 <= 10 ms.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
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
RATIO_TARGET = 2.0
P99_TARGET_MS = 10.0
BARE = "bare Flask GET"


def mock_cmd(store: str) -> list[str]:
    return [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers", "2",
            "--profile", "instant", "--store", store, "--api-key", KEY]


def submit_one(base_url: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/generateTask/flux-2", data=SUBMIT_BODY.encode(), method="POST",
        headers={"Authorization": AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        task_id: str = json.load(response)["data"]["taskId"]
    return task_id


def run() -> None:
    """Load the bare app and the mock; print req/s, p50, p99, CPU per request, the ratios."""
    wrk = ensure_wrk()
    tool = wrk or "Python threads + http.client (wrk not available)"
    print(f"load generator: {tool}; {CONNECTIONS} connections, {ROUNDS} rounds of {SECONDS:g} s "
          f"per target (after {WARMUP_SECONDS:g} s warm-up), interleaved; bare Flask: gunicorn "
          f"2 sync workers; flux2-mock serve: 2 workers; 127.0.0.1; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="flux2-bench-store-") as scratch, ExitStack() as up:
        bare = up.enter_context(serving([sys.executable, "-m", "benchmarks.minimal_app",
                                         "--port", "0"], health_path="/ping"))
        file_mock = up.enter_context(serving(mock_cmd(str(Path(scratch) / "tasks.sqlite3")),
                                             health_path="/_mock/health"))
        memory_mock = up.enter_context(serving(mock_cmd("memory"), health_path="/_mock/health"))
        targets: dict[str, tuple[Served, Request]] = {
            BARE: (bare, Request(f"{bare.base_url}/ping"))}
        for store, served in (("file", file_mock), ("memory", memory_mock)):
            task_id = submit_one(served.base_url)
            targets[f"{store} status GET"] = (served, Request(
                f"{served.base_url}/api/v1/statusTask/flux-2?taskId={task_id}",
                authorization=AUTH))
            targets[f"{store} submit POST"] = (served, Request(
                f"{served.base_url}/api/v1/generateTask/flux-2", method="POST",
                body=SUBMIT_BODY, authorization=AUTH))
        for _served, request in targets.values():
            run_load(request, connections=CONNECTIONS, seconds=WARMUP_SECONDS, wrk=wrk)
        rounds: dict[str, list[LoadResult]] = {name: [] for name in targets}
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        for number in range(1, ROUNDS + 1):
            for name, (served, request) in targets.items():
                result, per_request = measure(served, request, wrk)
                rounds[name].append(result)
                cpu[name].append(per_request)
                print(f"  round {number}  {name:<19} {result.rps:>7.0f} req/s   "
                      f"p50 {result.p50_ms:6.2f} ms   p99 {result.p99_ms:6.2f} ms   "
                      f"server CPU {per_request:5.0f} us/req   errors {result.errors}",
                      flush=True)
    report(rounds, cpu)


def measure(server: Served, request: Request, wrk: str | None) -> tuple[LoadResult, float]:
    """Run one load and return it with the server's CPU time per request, in microseconds."""
    before = server.cpu_seconds()
    result = run_load(request, connections=CONNECTIONS, seconds=SECONDS, wrk=wrk)
    used = server.cpu_seconds() - before
    return result, (used / result.requests * 1e6) if result.requests else 0.0


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def report(rounds: dict[str, list[LoadResult]], cpu: dict[str, list[float]]) -> None:
    """Print the table of medians with each target's ratio to the bare app and verdicts."""
    bare_rps = _median([r.rps for r in rounds[BARE]])
    bare_cpu = _median(cpu[BARE])
    print(f"\n  {'median of the rounds':<21} {'req/s':>7} {'x bare':>7} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'CPU us/req':>10} {'x bare CPU':>10}  verdict "
          f"(>= {RATIO_TARGET:g}x, p99 <= {P99_TARGET_MS:g} ms)")
    for name, results in rounds.items():
        rps = _median([r.rps for r in results])
        p50, p99 = _median([r.p50_ms for r in results]), _median([r.p99_ms for r in results])
        per_request = _median(cpu[name])
        ratio = rps / bare_rps if bare_rps else 0.0
        cpu_ratio = bare_cpu / per_request if per_request else 0.0
        verdict = "" if name == BARE else ", ".join(
            ("meets" if ok else "MISSES") + f" {what}" for ok, what in (
                (ratio >= RATIO_TARGET, "req/s"), (p99 <= P99_TARGET_MS, "p99")))
        print(f"  {name:<21} {rps:>7.0f} {ratio:>6.2f}x {p50:>7.2f} {p99:>7.2f} "
              f"{per_request:>10.0f} {cpu_ratio:>9.2f}x  {verdict}")
    print("  (x bare CPU: the bare app's server CPU per request over this one's; less "
          "sensitive to other work on the machine than req/s)")
    failed = sum(r.errors for results in rounds.values() for r in results)
    if failed:
        print(f"  WARNING: {failed} requests failed or answered an error status")
