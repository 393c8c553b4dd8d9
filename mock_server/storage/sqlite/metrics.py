"""Every worker's request metrics in the SQLite file, one row per process."""

from __future__ import annotations

import json
import os
from typing import Any

from mock_server.storage.sqlite.tasks import SQLiteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS mock_metrics (
    process TEXT PRIMARY KEY, run INTEGER NOT NULL, data TEXT NOT NULL);
"""

class SQLiteMetricsSink:
    """Every worker's snapshot in the store's SQLite file, one row per process."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        store.conn.executescript(SCHEMA)

    def write(self, process: str, snapshot: dict[str, Any]) -> None:
        self.store.conn.execute(
            "INSERT OR REPLACE INTO mock_metrics (process, run, data) VALUES (?, ?, ?)",
            (process, os.getppid(), json.dumps(snapshot)))

    def read(self, *, skip: str) -> list[dict[str, Any]]:
        """Return the snapshots of this server's other processes (same parent: same run)."""
        conn = self.store.conn
        conn.execute("DELETE FROM mock_metrics WHERE run != ?", (os.getppid(),))
        rows = conn.execute("SELECT data FROM mock_metrics WHERE run = ? AND process != ?",
                            (os.getppid(), skip))
        return [json.loads(row[0]) for row in rows]

    def read_others(self) -> list[dict[str, Any]]:
        """Return other servers' snapshots: a SQLite file serves one server."""
        return []
