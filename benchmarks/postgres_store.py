"""Many instances, one state: status GET and submit POST on SQLite, PostgreSQL, and 2 x PG + nginx.

Three set-ups in one run, each gunicorn with 2 workers per instance on
127.0.0.1, loaded at 32 connections for a fixed time, rounds interleaved:
  sqlite      one instance, the embedded default store;
  pg          one instance on a throwaway PostgreSQL (Debian's binaries, temp dir);
  pg x2+nginx two instances on that database, Debian's nginx round-robin in front.
Where the time goes: CPU per request of the mock instances, of PostgreSQL (the
postmaster and its backends) and of nginx, and database transactions per request.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from tests.support.nginx import Balancer, balancing
from tests.support.postgres import PostgresServer, postgres

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


@dataclass
class Target:
    """One set-up: where to send requests, and whose CPU to count."""

    name: str
    url: str
    instances: list[Served]
    database: PostgresServer | None = None
    dsn: str = ""
    balancer: Balancer | None = None

    def cpu(self) -> dict[str, float]:
        used = {"mock": sum(s.cpu_seconds() for s in self.instances)}
        if self.database is not None:
            used["postgres"] = _tree_cpu(self.database.postmaster_pid())
        if self.balancer is not None and self.balancer.proc is not None:
            used["nginx"] = _tree_cpu(self.balancer.proc.pid)
        return used

    def transactions(self) -> int:
        if not self.dsn:
            return 0
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            row = conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                               "WHERE datname = current_database()").fetchone()
        return int(row[0]) if row else 0


def _tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process and its children (PostgreSQL backends, nginx workers)."""
    if pid is None:
        return 0.0
    return Served("", pid).cpu_seconds()


def _mock_cmd(store: str) -> list[str]:
    return [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers", "2",
            "--profile", "instant", "--store", store, "--api-key", KEY]


@contextmanager
def _targets(scratch: str) -> Iterator[list[Target]]:
    with ExitStack() as stack:
        database = stack.enter_context(postgres())
        one_dsn = database.create_database("bench_one")
        two_dsn = database.create_database("bench_two")
        sqlite = stack.enter_context(serving(_mock_cmd(str(Path(scratch) / "t.sqlite3")),
                                             health_path="/_mock/health"))
        pg_one = stack.enter_context(serving(_mock_cmd(one_dsn), health_path="/_mock/health"))
        pair = [stack.enter_context(serving(_mock_cmd(two_dsn), health_path="/_mock/health"))
                for _ in range(2)]
        balancer = stack.enter_context(balancing([urlsplit(s.base_url).netloc for s in pair]))
        yield [Target("sqlite", sqlite.base_url, [sqlite]),
               Target("pg", pg_one.base_url, [pg_one], database, one_dsn),
               Target("pg x2+nginx", balancer.base_url, pair, database, two_dsn, balancer)]


def _submit_one(base_url: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/generateTask/flux-2", data=SUBMIT_BODY.encode(), method="POST",
        headers={"Authorization": AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        task_id: str = json.load(response)["data"]["taskId"]
    return task_id


@dataclass
class Sample:
    result: LoadResult
    cpu_us: dict[str, float]
    xacts: float


def _measure(target: Target, request: Request, wrk: str | None) -> Sample:
    cpu_before, xacts_before = target.cpu(), target.transactions()
    result = run_load(request, connections=CONNECTIONS, seconds=SECONDS, wrk=wrk)
    cpu_after, xacts_after = target.cpu(), target.transactions()
    n = max(result.requests, 1)
    return Sample(result, {k: (cpu_after[k] - cpu_before[k]) / n * 1e6 for k in cpu_after},
                  (xacts_after - xacts_before - 1) / n)  # -1: the reading's own


def run() -> None:
    """Load each set-up's status GET and submit POST; print req/s, p99 and where time goes."""
    wrk = ensure_wrk()
    print(f"load generator: {wrk or 'Python threads'}; {CONNECTIONS} connections, {ROUNDS} "
          f"rounds of {SECONDS:g} s per target, interleaved; each instance: gunicorn, 2 "
          f"workers; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="flux2-bench-pg-") as scratch, \
            _targets(scratch) as targets:
        loads: dict[tuple[str, str], tuple[Target, Request]] = {}
        for target in targets:
            task_id = _submit_one(target.url)
            loads[(target.name, "status")] = (target, Request(
                f"{target.url}/api/v1/statusTask/flux-2?taskId={task_id}", authorization=AUTH))
            loads[(target.name, "submit")] = (target, Request(
                f"{target.url}/api/v1/generateTask/flux-2", method="POST", body=SUBMIT_BODY,
                authorization=AUTH))
        for _target, request in loads.values():
            run_load(request, connections=CONNECTIONS, seconds=WARMUP_SECONDS, wrk=wrk)
        samples: dict[tuple[str, str], list[Sample]] = {key: [] for key in loads}
        for number in range(1, ROUNDS + 1):
            for key, (target, request) in loads.items():
                sample = _measure(target, request, wrk)
                samples[key].append(sample)
                print(f"  round {number}  {key[0]:<12} {key[1]:<7} {sample.result.rps:>7.0f} "
                      f"req/s   p99 {sample.result.p99_ms:7.2f} ms   errors "
                      f"{sample.result.errors}", flush=True)
        _report(samples)


def _report(samples: dict[tuple[str, str], list[Sample]]) -> None:
    print("  median of the rounds (CPU in microseconds per request; xact = database "
          "transactions per request):")
    for (name, kind), found in samples.items():
        mid = sorted(found, key=lambda s: s.result.rps)[len(found) // 2]
        cpu = "  ".join(f"{k} {v:5.0f}" for k, v in mid.cpu_us.items())
        xacts = f"  xact {mid.xacts:4.1f}" if "postgres" in mid.cpu_us else ""
        print(f"    {name:<12} {kind:<7} {mid.result.rps:>7.0f} req/s   p50 "
              f"{mid.result.p50_ms:6.2f} ms   p99 {mid.result.p99_ms:7.2f} ms   CPU: {cpu}"
              f"{xacts}")
    failed = sum(s.result.errors for found in samples.values() for s in found)
    if failed:
        print(f"  WARNING: {failed} requests failed or answered an error status")
