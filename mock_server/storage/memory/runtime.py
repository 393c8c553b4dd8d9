"""What the control plane changes while the server runs: settings overrides and a scenario queue.

Both are shared by every worker process: with a SQLite store they live in the
same file, in tables of their own; with a memory store (one process) in a dict.
"""

from __future__ import annotations

import threading
from typing import Any

from mock_server.domain.runtime import RUNTIME_SETTINGS, QueuedScenario
from mock_server.settings import Settings, SettingsError


def checked_overrides(settings: Settings, values: dict[str, Any]) -> dict[str, Any]:
    """Return `values` coerced as settings, or raise SettingsError naming the bad one."""
    unknown = sorted(set(values) - set(RUNTIME_SETTINGS))
    if unknown:
        raise SettingsError(f"{unknown[0]!r} cannot be changed at run time; "
                            f"these can: {', '.join(RUNTIME_SETTINGS)}")
    present = {k: v for k, v in values.items() if v is not None}
    checked = settings.updated(present, source="settings") if present else settings
    for name in ("pending_ms", "processing_ms"):
        value = getattr(checked, name)
        if value is not None and value < 0:
            raise SettingsError(f"settings: {name} must not be negative, got {value}")
    return {k: (getattr(checked, k) if v is not None else None) for k, v in values.items()}


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


