"""Callback delivery: 1,000 callback-mode tasks completing within one second.

A `flux2-mock serve` with 2 workers accepts 1,000 tasks whose completeTimes
are spread evenly over one second a few seconds ahead (each task's
`processing=<ms>` scenario puts it there), and delivers their callbacks to a
receiver on 127.0.0.1 in this process. Reported: lateness of each task's first
delivery after its completeTime (p50/p99/max), deliveries per second while they
fell due, and how many were lost or doubled. Target: p99 <= 100 ms, none lost
or doubled. The sender may only reach loopback (callback_allowed_hosts).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from .servers import running

TASKS = 1_000
WINDOW_MS = 1_000
KEY = "flux2-mock-key"


class _Receiver:
    """Records (arrival ms, taskId, completeTime) of every callback and answers 200.

    asyncio, not http.server: a thread per request would measure the receiver, not the mock.
    """

    def __init__(self) -> None:
        self.arrivals: list[tuple[int, str, int]] = []
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._server: asyncio.Server | None = None

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0,
                                                      backlog=1024)
            ready.set()

        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(start(), self._loop)
        ready.wait(10)
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/callback"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            now = time.time_ns() // 1_000_000
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            data = json.loads(await reader.readexactly(length))["data"]
            self.arrivals.append((now, data["taskId"], data["completeTime"]))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)


def _submit_all(base_url: str, callback_url: str, first_complete_ms: int, *,
                count: int = TASKS, request_type: str = "callback") -> list[str]:
    """Submit `count` tasks, task n set to complete at first_complete_ms + n ms (spread)."""
    session_local = threading.local()

    def submit(n: int) -> str:
        session = getattr(session_local, "s", None) or requests.Session()
        session_local.s = session
        target = first_complete_ms + n * WINDOW_MS // TASKS
        processing = max(0, target - time.time_ns() // 1_000_000)
        response = session.post(
            f"{base_url}/api/v1/generateTask/flux-2",
            headers={"Authorization": f"Bearer {KEY}",
                     "X-Mock-Scenario": f"success; pending=0; processing={processing}"},
            json={"request_type": request_type, "callback_url": callback_url,
                  "input": {"prompt": f"benchmark task {n}"}}, timeout=30)
        response.raise_for_status()
        return str(response.json()["data"]["taskId"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(submit, range(count)))


def _percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))])


def run() -> None:
    os.environ["FLUX2_MOCK_CALLBACK_ALLOWED_HOSTS"] = "loopback"  # never any other host
    receiver = _Receiver()
    try:
        with tempfile.TemporaryDirectory(prefix="flux2-bench-cb-") as scratch:
            cmd = [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers",
                   "2", "--profile", "instant", "--store", f"{scratch}/tasks.sqlite3"]
            with running(cmd, health_path="/_mock/health") as base_url:
                # Leave time to submit everything before the first task completes: measure
                # how fast this (shared, perhaps busy) machine accepts tasks first.
                warm = time.monotonic()
                _submit_all(base_url, receiver.url, 0, count=100, request_type="async")
                lead_ms = round((time.monotonic() - warm) * 10 * 1000 * 1.5) + 1_500
                first_complete = time.time_ns() // 1_000_000 + lead_ms
                started = time.monotonic()
                ids = _submit_all(base_url, receiver.url, first_complete)
                submitted_s = time.monotonic() - started
                deadline = time.monotonic() + lead_ms / 1000 + 60
                while len({a[1] for a in receiver.arrivals}) < TASKS \
                        and time.monotonic() < deadline:
                    time.sleep(0.05)
                time.sleep(1.0)  # a late duplicate would arrive now
        _report(receiver.arrivals, ids, submitted_s)
    finally:
        receiver.close()


def _report(arrivals: list[tuple[int, str, int]], ids: list[str], submitted_s: float) -> None:
    counts = Counter(task_id for _, task_id, _ in arrivals)
    first: dict[str, tuple[int, int]] = {}
    for at, task_id, complete in sorted(arrivals):
        first.setdefault(task_id, (at, complete))
    lateness = [at - complete for at, complete in first.values()]
    completes = [complete for _, complete in first.values()]
    lost = sum(1 for task_id in ids if task_id not in counts)
    doubled = sum(1 for n in counts.values() if n > 1)
    print(f"machine load average (1 min, 2 shared cores): {os.getloadavg()[0]:.1f}")
    print(f"tasks: {len(ids)} submitted in {submitted_s:.2f} s, completeTimes spread over "
          f"{(max(completes) - min(completes)) if completes else 0} ms")
    if lateness:
        span_s = max(1, max(at for at, _ in first.values()) - min(completes)) / 1000
        print(f"first-delivery lateness after completeTime: p50 {statistics.median(lateness):.0f}"
              f" ms, p99 {_percentile(lateness, 0.99):.0f} ms, max {max(lateness)} ms "
              f"(min {min(lateness)} ms)")
        print(f"deliveries/s: {len(first) / span_s:.0f} (from the first completeTime to the "
              f"last first delivery)")
    met = bool(lateness) and _percentile(lateness, 0.99) <= 100 and not lost and not doubled
    print(f"lost: {lost}  doubled: {doubled}  target (p99 <= 100 ms, none lost or doubled): "
          f"{'met' if met else 'NOT met'}")
