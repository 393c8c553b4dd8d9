"""Plans per API key (data/plans.json): the request-rate window and the concurrent-task count.

Unlimited keys (the default) never reach this module's state: `Limits.watches` is a set
lookup, so an unthrottled request costs no database access at all.
"""

from __future__ import annotations

import fcntl
import math
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mock_server.domain.clock import Clock
from mock_server.domain.errors import ApiError
from mock_server.domain.lifecycle import state_at
from mock_server.domain.tables import load_table
from mock_server.storage.memory.tasks import TaskStore
from mock_server.storage.sqlite.db import SQLiteConnections


@dataclass(frozen=True)
class Plan:
    """What one API key may do: None means no limit."""

    name: str
    requests_per_minute: int | None
    concurrent_tasks: int | None

    @property
    def unlimited(self) -> bool:
        return self.requests_per_minute is None and self.concurrent_tasks is None


def plan_table() -> dict[str, Plan]:
    """Return every plan of data/plans.json by name."""
    return {name: Plan(name, row["requests_per_minute"], row["concurrent_tasks"])
            for name, row in load_table("plans")["plans"].items()}


def window_ms() -> int:
    return int(load_table("plans")["window_ms"])


def parse_assignments(items: Iterable[str], *, setting: str) -> dict[str, str]:
    """Return {key: value} from `KEY=VALUE` items; raise ValueError naming the setting."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{setting} entries must look like KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


class RateLimited(ApiError):
    """HTTP 429: over the plan's request rate or concurrent tasks; says when to come back."""

    status, message = 429, "Too many requests"

    def __init__(self, detail: str, retry_after_ms: int) -> None:
        seconds = retry_after_s(retry_after_ms)
        super().__init__(f"{detail}; retry after {seconds} s",
                         data={"retryAfter": seconds},
                         headers={"Retry-After": str(seconds)})


def retry_after_s(wait_ms: int) -> int:
    """Return whole seconds to wait (at least 1), rounding up so a retry then succeeds."""
    return max(1, math.ceil(wait_ms / 1000))


def window_wait_ms(hits: Sequence[int], now_ms: int, limit: int, window: int) -> int | None:
    """Return None when one more request fits the sliding window, else ms until one does."""
    recent = sorted(h for h in hits if h > now_ms - window)
    if len(recent) < limit:
        return None
    # The request fits once enough of the recent hits have left the window.
    return recent[len(recent) - limit] + window - now_ms


def slot_wait_ms(completions: Sequence[int | None], now_ms: int, limit: int,
                 fallback_ms: int) -> int | None:
    """Return None when another task fits beside the active ones, else ms until a slot frees.

    `completions` are the active tasks' completion times; None is a task that never ends
    (a `stuck` one), which holds its slot for good, so only `fallback_ms` can be promised.
    """
    if len(completions) < limit:
        return None
    ending = sorted(c for c in completions if c is not None)
    needed = len(completions) - limit + 1
    if len(ending) < needed:
        return fallback_ms
    return max(1, ending[needed - 1] - now_ms)


class UsageState(Protocol):
    """What the limits remember between requests, shared by every worker process."""

    def take_request_slot(self, api_key: str, now_ms: int, limit: int,
                          window: int) -> int | None:
        """Record a request if it fits the window and return None, else return the wait in ms."""
        ...

    def active_completions(self, api_key: str, now_ms: int) -> list[int | None]:
        """Return the completion times of the key's tasks not yet terminal at `now_ms`."""
        ...

    def next_request_number(self, api_key: str) -> int:
        """Count one more API request of this key and return its number (1, 2, ...)."""
        ...

    def admission(self) -> AbstractContextManager[None]:
        """Hold the lock under which a task is checked, created and charged."""
        ...

    def reset(self, *, api_key: str | None = None) -> None: ...


USAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_hits (api_key TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rate_hits_by_key ON rate_hits (api_key, at_ms);
CREATE TABLE IF NOT EXISTS request_counters (api_key TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


class SQLiteUsage:
    """Usage in tables of the store's SQLite file; admission serialised by a lock file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.db = SQLiteConnections(path, USAGE_SCHEMA)
        self._lock_path = Path(f"{path}.admission.lock")
        self._thread_lock = threading.Lock()
        self._lock_fd: tuple[int, int] | None = None  # (pid, fd): a fork must not share it

    def take_request_slot(self, api_key: str, now_ms: int, limit: int,
                          window: int) -> int | None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM rate_hits WHERE api_key = ? AND at_ms <= ?",
                         (api_key, now_ms - window))
            hits = [row[0] for row in conn.execute(
                "SELECT at_ms FROM rate_hits WHERE api_key = ?", (api_key,))]
            wait = window_wait_ms(hits, now_ms, limit, window)
            if wait is None:
                conn.execute("INSERT INTO rate_hits (api_key, at_ms) VALUES (?, ?)",
                             (api_key, now_ms))
            return wait

    def active_completions(self, api_key: str, now_ms: int) -> list[int | None]:
        # The tasks table is the store's; a task is active until create+pending+processing.
        rows = self.db.conn.execute(
            "SELECT CASE WHEN outcome = 'stuck' THEN NULL "
            "ELSE create_ms + pending_ms + processing_ms END FROM tasks "
            "WHERE api_key = ? AND (outcome = 'stuck' "
            "OR create_ms + pending_ms + processing_ms > ?)", (api_key, now_ms))
        return [row[0] for row in rows]

    def next_request_number(self, api_key: str) -> int:
        row = self.db.conn.execute(
            "INSERT INTO request_counters (api_key, n) VALUES (?, 1) "
            "ON CONFLICT (api_key) DO UPDATE SET n = n + 1 RETURNING n", (api_key,)).fetchone()
        return int(row[0])

    @contextmanager
    def admission(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._fd()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _fd(self) -> int:
        if self._lock_fd is None or self._lock_fd[0] != os.getpid():
            self._lock_fd = (os.getpid(), os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._lock_fd[1]

    def reset(self, *, api_key: str | None = None) -> None:
        where, args = ("", ()) if api_key is None else (" WHERE api_key = ?", (api_key,))
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM rate_hits" + where, args)
            conn.execute("DELETE FROM request_counters" + where, args)


class MemoryUsage:
    """Usage in dicts, for the one-process memory store."""

    def __init__(self, store: TaskStore) -> None:
        self.store = store
        self._hits: dict[str, list[int]] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._admission = threading.Lock()

    def take_request_slot(self, api_key: str, now_ms: int, limit: int,
                          window: int) -> int | None:
        with self._lock:
            hits = [h for h in self._hits.get(api_key, []) if h > now_ms - window]
            wait = window_wait_ms(hits, now_ms, limit, window)
            if wait is None:
                hits.append(now_ms)
            self._hits[api_key] = hits
            return wait

    def active_completions(self, api_key: str, now_ms: int) -> list[int | None]:
        active: list[int | None] = []
        after = 0
        while page := self.store.list_tasks(api_key=api_key, limit=500, after_seq=after):
            after = page[-1].seq
            active += [r.plan.complete_ms for r in page
                       if state_at(r.plan, now_ms) in ("pending", "processing")]
        return active

    def next_request_number(self, api_key: str) -> int:
        with self._lock:
            self._counts[api_key] = self._counts.get(api_key, 0) + 1
            return self._counts[api_key]

    @contextmanager
    def admission(self) -> Iterator[None]:
        with self._admission:
            yield

    def reset(self, *, api_key: str | None = None) -> None:
        with self._lock:
            for table in (self._hits, self._counts):
                for key in [k for k in table if api_key is None or k == api_key]:
                    del table[key]


class Limits:
    """The plans of the API keys, applied to requests and to new tasks."""

    def __init__(self, key_plans: Mapping[str, str], default_plan: str, usage: UsageState,
                 clock: Clock) -> None:
        table = plan_table()
        self.default = table[default_plan]
        self.plans = {key: table[name] for key, name in key_plans.items()}
        self.usage = usage
        self.clock = clock
        self.window = window_ms()
        # Keys whose plan limits anything; None stands for "every key not listed".
        self._watched = frozenset(k for k, p in self.plans.items() if not p.unlimited)
        self._default_watched = not self.default.unlimited

    def plan_for(self, api_key: str) -> Plan:
        return self.plans.get(api_key, self.default)

    def watches(self, api_key: str) -> bool:
        """Whether any limit applies to this key (no I/O: the hot path asks this)."""
        return api_key in self._watched or (self._default_watched and api_key not in self.plans)

    def check_request(self, api_key: str) -> None:
        """Count one API request against the key's rate, or raise RateLimited."""
        plan = self.plan_for(api_key)
        if plan.requests_per_minute is None:
            return
        wait = self.usage.take_request_slot(api_key, self.clock.now_ms(),
                                            plan.requests_per_minute, self.window)
        if wait is not None:
            raise RateLimited(f"the {plan.name} plan allows {plan.requests_per_minute} "
                              f"requests per minute", wait)

    def check_concurrency(self, api_key: str) -> None:
        """Raise RateLimited when the key already runs as many tasks as its plan allows."""
        plan = self.plan_for(api_key)
        if plan.concurrent_tasks is None:
            return
        now = self.clock.now_ms()
        wait = slot_wait_ms(self.usage.active_completions(api_key, now), now,
                            plan.concurrent_tasks, self.window)
        if wait is not None:
            raise RateLimited(f"the {plan.name} plan allows {plan.concurrent_tasks} "
                              f"concurrent tasks", wait)

