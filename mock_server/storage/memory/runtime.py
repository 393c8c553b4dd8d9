"""Run-time state of a one-process server: settings overrides and a scenario queue in memory."""

from __future__ import annotations

import threading
from typing import Any

from mock_server.domain.runtime import QueuedScenario


class MemoryRuntime:
    """Run-time state of a one-process server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._overrides: dict[str, Any] = {}
        self._queue: list[QueuedScenario] = []
        self._next_id = 0

    def overrides(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._overrides)

    def set_overrides(self, values: dict[str, Any]) -> None:
        with self._lock:
            for name, value in values.items():
                if value is None:
                    self._overrides.pop(name, None)
                else:
                    self._overrides[name] = value

    def enqueue(self, scenario: str, count: int, api_key: str | None) -> QueuedScenario:
        with self._lock:
            self._next_id += 1
            entry = QueuedScenario(self._next_id, scenario, count, api_key)
            self._queue.append(entry)
            return entry

    def queue(self) -> list[QueuedScenario]:
        with self._lock:
            return list(self._queue)

    def take_scenario(self, api_key: str) -> str | None:
        with self._lock:
            for index, entry in enumerate(self._queue):
                if entry.api_key in (None, api_key):
                    if entry.remaining > 1:
                        self._queue[index] = QueuedScenario(entry.id, entry.scenario,
                                                            entry.remaining - 1, entry.api_key)
                    else:
                        del self._queue[index]
                    return entry.scenario
            return None

    def clear_queue(self, *, api_key: str | None = None) -> None:
        with self._lock:
            self._queue = [e for e in self._queue if api_key is not None
                           and e.api_key != api_key]

    def reset(self, *, api_key: str | None = None) -> None:
        self.clear_queue(api_key=api_key)
        if api_key is None:
            with self._lock:
                self._overrides.clear()


