"""Run-time settings and the scenario queue in tables of the SQLite file."""

from __future__ import annotations

import json
from typing import Any

from mock_server.domain.runtime import QueuedScenario
from mock_server.storage.sqlite.tasks import SQLiteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS mock_runtime (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mock_scenario_queue (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario  TEXT NOT NULL,
    remaining INTEGER NOT NULL,
    api_key   TEXT
);
"""

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
