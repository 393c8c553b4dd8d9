"""Load generators: wrk when it is installed (installed on the fly as root), else Python threads.

Every run has a fixed duration and targets a loopback URL only.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LUA = Path(__file__).with_name("wrk_report.lua")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Request:
    """What every connection sends, over and over."""

    url: str
    method: str = "GET"
    body: str = ""
    authorization: str = ""


@dataclass(frozen=True)
class LoadResult:
    """Throughput and latency of one fixed-duration run."""

    tool: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str | None:
    """Return the path of wrk, installing Debian's package first when root and apt are here."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk is missing: installing Debian's package wrk ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "-qq", "wrk"],
                ["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            return None
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise ValueError(f"benchmarks only load loopback addresses, got {host!r}")


def run_load(request: Request, *, connections: int = 32, seconds: float = 8.0,
             wrk: str | None = None) -> LoadResult:
    """Load `request.url` with `connections` connections for `seconds` seconds."""
    _check_loopback(request.url)
    if wrk:
        return _run_wrk(wrk, request, connections, seconds)
    return _run_threads(request, connections, seconds)


def _run_wrk(wrk: str, request: Request, connections: int, seconds: float) -> LoadResult:
    env = {**os.environ, "BENCH_METHOD": request.method, "BENCH_BODY": request.body,
           "BENCH_AUTHORIZATION": request.authorization}
    threads = max(1, min(2, connections))
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", "5s", "-s", str(LUA), request.url]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=seconds + 60, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT "))
    data = json.loads(line.split(" ", 1)[1])
    return LoadResult("wrk", data["requests"], data["duration_us"] / 1e6,
                      data["socket_errors"] + data["status_errors"],
                      data["p50_us"] / 1000, data["p99_us"] / 1000)


def _run_threads(request: Request, connections: int, seconds: float) -> LoadResult:
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/json"} if request.body else {}
    if request.authorization:
        headers["Authorization"] = request.authorization
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop_at = time.monotonic() + seconds

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request(request.method, path, body=request.body or None, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[slot] += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                conn.close()
            latencies[slot].append(time.perf_counter() - started)
        conn.close()

    began = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - began
    merged = sorted(x for slot in latencies for x in slot)
    if not merged:
        return LoadResult("python", 0, elapsed, sum(errors), 0.0, 0.0)

    def percentile(p: float) -> float:
        return merged[min(len(merged) - 1, int(p / 100 * len(merged)))] * 1000

    return LoadResult("python-threads", len(merged), elapsed, sum(errors), percentile(50),
                      percentile(99))
