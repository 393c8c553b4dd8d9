"""What the control plane changes while the server runs: settings overrides and a scenario queue.

Both are shared by every worker process: with a SQLite store they live in the
same file, in tables of their own; with a memory store (one process) in a dict.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from mock_server.journal.buffer import mask_key
from mock_server.settings import Settings, SettingsError
from mock_server.storage.memory.tasks import TaskStore
from mock_server.storage.sqlite.tasks import SQLiteStore

# Settings the control plane may change at run time (the names are the setting names).
RUNTIME_SETTINGS = ("profile", "failure_rate", "pending_ms", "processing_ms")

SCHEMA = """
CREATE TABLE IF NOT EXISTS mock_runtime (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mock_scenario_queue (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario  TEXT NOT NULL,
    remaining INTEGER NOT NULL,
    api_key   TEXT
);
"""


@dataclass(frozen=True)
class QueuedScenario:
    """'The next `remaining` submissions (of `api_key`, or anyone's) get `scenario`.'"""

    id: int
    scenario: str
    remaining: int
    api_key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # Keys never appear in full in any answer.
        return {"id": self.id, "scenario": self.scenario, "remaining": self.remaining,
                "apiKey": None if self.api_key is None else mask_key(self.api_key)}


class Runtime(Protocol):
    """Run-time state shared by the worker processes."""

    def overrides(self) -> dict[str, Any]:
        """Return the settings changed at run time, by setting name."""
        ...

    def set_overrides(self, values: dict[str, Any]) -> None:
        """Replace the given settings' run-time values; a None value drops the override."""
        ...

    def enqueue(self, scenario: str, count: int, api_key: str | None) -> QueuedScenario: ...

    def queue(self) -> list[QueuedScenario]: ...

    def take_scenario(self, api_key: str) -> str | None:
        """Consume one use of the oldest queued scenario that applies to `api_key`."""
        ...

    def clear_queue(self, *, api_key: str | None = None) -> None:
        """Drop the queued scenarios of `api_key`, or all of them."""
        ...

    def reset(self, *, api_key: str | None = None) -> None:
        """Forget the queue (one key's entries, or all) and, for a full reset, the overrides."""
        ...


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


class SQLiteRuntime:
    """Run-time state in the store's SQLite file, through the store's own connections."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        store.conn.executescript(SCHEMA)
        # Answers read at a store version; a change anywhere bumps it (SQLiteStore.version).
        self._overrides: tuple[int, dict[str, Any]] = (-1, {})
        self._queue_empty_at = -1

    def _changed(self) -> None:
        self.store.version.add(1)

    def overrides(self) -> dict[str, Any]:
        version = self.store.version.get()
        cached_at, cached = self._overrides
        if cached_at == version:
            return dict(cached)
        rows = self.store.conn.execute("SELECT name, value FROM mock_runtime").fetchall()
        values = {name: json.loads(value) for name, value in rows}
        self._overrides = (version, values)
        return dict(values)

    def set_overrides(self, values: dict[str, Any]) -> None:
        with self.store.transaction() as conn:
            for name, value in values.items():
                if value is None:
                    conn.execute("DELETE FROM mock_runtime WHERE name = ?", (name,))
                else:
                    conn.execute("INSERT OR REPLACE INTO mock_runtime (name, value) VALUES (?, ?)",
                                 (name, json.dumps(value)))
        self._changed()

    def enqueue(self, scenario: str, count: int, api_key: str | None) -> QueuedScenario:
        row = self.store.conn.execute(
            "INSERT INTO mock_scenario_queue (scenario, remaining, api_key) VALUES (?, ?, ?) "
            "RETURNING id", (scenario, count, api_key)).fetchone()
        self._changed()
        return QueuedScenario(int(row[0]), scenario, count, api_key)

    def queue(self) -> list[QueuedScenario]:
        rows = self.store.conn.execute(
            "SELECT id, scenario, remaining, api_key FROM mock_scenario_queue ORDER BY id")
        return [QueuedScenario(*row) for row in rows]

    def take_scenario(self, api_key: str) -> str | None:
        conn = self.store.conn
        version = self.store.version.get()
        if self._queue_empty_at == version:  # the usual case: no queue, no query
            return None
        # A read first: an empty queue costs no write lock.
        if conn.execute("SELECT 1 FROM mock_scenario_queue LIMIT 1").fetchone() is None:
            self._queue_empty_at = version
            return None
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT id, scenario, remaining FROM mock_scenario_queue "
                "WHERE api_key IS NULL OR api_key = ? ORDER BY id LIMIT 1", (api_key,)).fetchone()
            if row is not None:
                if row[2] > 1:
                    conn.execute("UPDATE mock_scenario_queue SET remaining = remaining - 1 "
                                 "WHERE id = ?", (row[0],))
                else:
                    conn.execute("DELETE FROM mock_scenario_queue WHERE id = ?", (row[0],))
        if row is not None:
            self._changed()
        return None if row is None else str(row[1])

    def clear_queue(self, *, api_key: str | None = None) -> None:
        if api_key is None:
            self.store.conn.execute("DELETE FROM mock_scenario_queue")
        else:
            self.store.conn.execute("DELETE FROM mock_scenario_queue WHERE api_key = ?",
                                    (api_key,))
        self._changed()

    def reset(self, *, api_key: str | None = None) -> None:
        self.clear_queue(api_key=api_key)
        if api_key is None:
            self.store.conn.execute("DELETE FROM mock_runtime")
        self._changed()


def open_runtime(store: TaskStore) -> Runtime:
    """Return run-time state shared the way `store` is shared."""
    return SQLiteRuntime(store) if isinstance(store, SQLiteStore) else MemoryRuntime()
