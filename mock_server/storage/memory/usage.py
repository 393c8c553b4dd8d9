"""Usage of the paid part kept in memory: request windows and request numbers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from mock_server.domain.lifecycle import state_at
from mock_server.domain.rates import window_wait_ms
from mock_server.storage.paging import iter_tasks
from mock_server.storage.protocols import TaskStore


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
        return [r.plan.complete_ms for r in iter_tasks(self.store, api_key=api_key)
                if state_at(r.plan, now_ms) in ("pending", "processing")]

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
