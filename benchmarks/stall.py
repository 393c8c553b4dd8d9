"""The stall scenario: latency sleepers and stalled clients must not hold up anyone else.

Against `flux2-mock serve` (2 workers, file store): 64 submits with
`X-Mock-Scenario: latency=5000` and 64 connections that sent half a request stay
open while a probe sends status GETs and /_mock/health, one at a time, each on a
new connection. Targets (issue 11): both p99 < 50 ms, every sleeper answered, no
worker killed.
"""

from __future__ import annotations

import http.client
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .http_throughput import AUTH, SUBMIT_BODY, mock_cmd, submit_one
from .servers import serving

SLEEPERS = 64
STALLED = 64
PROBE_SECONDS = 3.5
P99_TARGET_MS = 50.0
HALF_REQUEST = (b"POST /api/v1/generateTask/flux-2 HTTP/1.1\r\nHost: bench\r\n"
                b"Content-Type: appl")


def workers_of(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def run() -> None:
    """Run the scenario and print the probes' p99 and what became of the sleepers."""
    with tempfile.TemporaryDirectory(prefix="flux2-bench-stall-") as scratch, \
            serving(mock_cmd(str(Path(scratch) / "t.sqlite3")),
                    health_path="/_mock/health") as served:
        parts = urlsplit(served.base_url)
        host, port = str(parts.hostname), int(parts.port or 80)
        task_id = submit_one(served.base_url)
        workers = workers_of(served.pid)
        stalled = []
        for _ in range(STALLED):
            sock = socket.create_connection((host, port), timeout=30)
            sock.sendall(HALF_REQUEST)
            stalled.append(sock)
        answers: list[int | str] = []

        def sleeper() -> None:
            conn = http.client.HTTPConnection(host, port, timeout=60)
            try:
                conn.request("POST", "/api/v1/generateTask/flux-2", SUBMIT_BODY, {
                    "Authorization": AUTH, "Content-Type": "application/json",
                    "X-Mock-Scenario": "latency=5000"})
                answers.append(conn.getresponse().status)
            except (OSError, http.client.HTTPException) as exc:
                answers.append(type(exc).__name__)
            finally:
                conn.close()

        threads = [threading.Thread(target=sleeper) for _ in range(SLEEPERS)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # every sleeper is in (5 s of sleep ahead)
        probes = {"status GET": f"/api/v1/statusTask/flux-2?taskId={task_id}",
                  "/_mock/health": "/_mock/health"}
        latency: dict[str, list[float]] = {name: [] for name in probes}
        failures = 0
        stop_at = time.monotonic() + PROBE_SECONDS
        while time.monotonic() < stop_at:
            for name, path in probes.items():
                started = time.perf_counter()
                try:
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                    conn.request("GET", path, headers={"Authorization": AUTH})
                    failures += conn.getresponse().status != 200
                    conn.close()
                except (OSError, http.client.HTTPException):
                    failures += 1
                latency[name].append((time.perf_counter() - started) * 1000)
        for thread in threads:
            thread.join(70)
        for sock in stalled:
            sock.close()
        killed = len(workers - workers_of(served.pid))
    print(f"  {SLEEPERS} latency=5000 submits and {STALLED} half-sent requests open; "
          f"probing for {PROBE_SECONDS:g} s; load average {os.getloadavg()[0]:.2f}")
    for name, values in latency.items():
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("inf")
        verdict = "meets" if p99 < P99_TARGET_MS else "MISSES"
        print(f"    {name:<14} {len(values):>5} probes   p50 {values[len(values) // 2]:6.2f} ms"
              f"   p99 {p99:6.2f} ms   ({verdict} p99 < {P99_TARGET_MS:g} ms)")
    print(f"    probe failures {failures}; sleepers answered 200: {answers.count(200)}/"
          f"{SLEEPERS}; workers killed or replaced: {killed}")
