"""`make soak`: steady load on `flux2-mock serve` for a while; worker RSS and store size.

Clients on loopback submit tasks and poll them (one submit to three status GETs)
at a steady rate. Every sample prints each worker's resident memory and the
store's size on disk (database, WAL and shared-memory files). Retention is set
short (`--retention-s`, default 120 s) so that a 10-minute run shows the store
levelling off; the default setting (36 h) levels off the same way, later.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .http_throughput import AUTH, KEY, SUBMIT_BODY
from .servers import serving

CLIENTS = 4


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def store_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in store.parent.glob(store.name + "*") if p.is_file()
               and p.suffix not in (".lock", ".version", ".clock"))


class Load:
    """Client threads sending at a steady total rate until stopped."""

    def __init__(self, base_url: str, rate: float) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = str(parts.hostname), int(parts.port or 80)
        self.interval = CLIENTS / rate
        self.done = self.errors = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, daemon=True)
                        for _ in range(CLIENTS)]

    def _client(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        task_id, step, next_at = "", 0, time.monotonic()
        while not self.stop.is_set():
            ok = True
            try:
                if step % 4 == 0 or not task_id:
                    conn.request("POST", "/api/v1/generateTask/flux-2", SUBMIT_BODY,
                                 {"Authorization": AUTH, "Content-Type": "application/json"})
                    answer = conn.getresponse()
                    body = answer.read()
                    ok = answer.status == 200
                    if ok:
                        task_id = json.loads(body)["data"]["taskId"]
                else:
                    conn.request("GET", f"/api/v1/statusTask/flux-2?taskId={task_id}",
                                 headers={"Authorization": AUTH})
                    answer = conn.getresponse()
                    answer.read()
                    ok = answer.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
            with self._lock:
                self.done += 1
                self.errors += not ok
            step += 1
            next_at += self.interval
            self.stop.wait(max(0.0, next_at - time.monotonic()))
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0, help="how long (600)")
    parser.add_argument("--rate", type=float, default=80.0, help="requests per second (80)")
    parser.add_argument("--retention-s", type=int, default=120,
                        help="the server's retention_s for the run (120)")
    args = parser.parse_args(argv)
    every = max(5.0, min(30.0, args.seconds / 20))
    with tempfile.TemporaryDirectory(prefix="flux2-soak-") as scratch:
        store = Path(scratch) / "tasks.sqlite3"
        cmd = [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers", "2",
               "--profile", "instant", "--store", str(store), "--api-key", KEY]
        os.environ["FLUX2_MOCK_RETENTION_S"] = str(args.retention_s)
        with serving(cmd, health_path="/_mock/health") as served:
            workers = sorted(int(p) for p in Path(
                f"/proc/{served.pid}/task/{served.pid}/children").read_text().split())
            print(f"soak: {args.seconds:g} s at {args.rate:g} req/s (1 submit : 3 status), "
                  f"2 workers {workers}, file store, retention_s={args.retention_s}; "
                  f"a sample every {every:g} s", flush=True)
            print(f"  {'t s':>6} {'requests':>9} {'errors':>6} "
                  + " ".join(f"{'RSS MiB w' + str(i + 1):>11}" for i in range(len(workers)))
                  + f" {'store MiB':>10}", flush=True)
            load = Load(served.base_url, args.rate)
            for thread in load.threads:
                thread.start()
            started = time.monotonic()
            samples: list[tuple[float, list[int], int]] = []
            while True:
                elapsed = time.monotonic() - started
                rss = [rss_kib(pid) for pid in workers]
                size = store_bytes(store)
                samples.append((elapsed, rss, size))
                print(f"  {elapsed:>6.0f} {load.done:>9} {load.errors:>6} "
                      + " ".join(f"{kib / 1024:>11.1f}" for kib in rss)
                      + f" {size / 2**20:>10.2f}", flush=True)
                if elapsed >= args.seconds:
                    break
                time.sleep(min(every, max(0.0, args.seconds - elapsed)))
            load.stop.set()
            for thread in load.threads:
                thread.join(30)
            alive = all(Path(f"/proc/{pid}").exists() for pid in workers)
    summarize(samples, load.done, load.errors, alive)
    return 0


def summarize(samples: list[tuple[float, list[int], int]], done: int, errors: int,
              alive: bool) -> None:
    """Print RSS low points and store size of the middle and the last third of the run.

    The first third is warm-up (caches and the store filling up to retention's level).
    """
    third = max(1, len(samples) // 3)
    middle, last = samples[third:2 * third] or samples, samples[2 * third:] or samples
    for index in range(len(samples[0][1])):
        low_mid = min(s[1][index] for s in middle) / 1024
        low_last = min(s[1][index] for s in last) / 1024
        print(f"  worker {index + 1}: RSS low point {low_mid:.1f} MiB in the middle third, "
              f"{low_last:.1f} MiB in the last ({low_last - low_mid:+.1f} MiB); "
              f"{samples[0][1][index] / 1024:.1f} MiB at the start")
    print(f"  store: {middle[0][2] / 2**20:.2f} MiB at one third, "
          f"{samples[-1][2] / 2**20:.2f} MiB at the end; {done} requests, {errors} errors; "
          f"workers {'all still the same' if alive else 'REPLACED'}")


if __name__ == "__main__":
    sys.exit(main())
