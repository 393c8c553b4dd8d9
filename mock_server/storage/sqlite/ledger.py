"""Charges in a table of the SQLite file; the task id keys each charge."""

from __future__ import annotations

import os

from mock_server.storage.sqlite.db import SQLiteConnections

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    task_id   TEXT PRIMARY KEY,
    api_key   TEXT NOT NULL,
    micro_usd INTEGER NOT NULL,
    at_ms     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_by_key ON charges (api_key);
"""

class SQLiteLedger:
    """Charges in a table of the store's SQLite file; the task id keys each charge."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.db = SQLiteConnections(path, LEDGER_SCHEMA)

    def spent_micro(self, api_key: str) -> int:
        row = self.db.conn.execute("SELECT COALESCE(SUM(micro_usd), 0) FROM charges "
                                   "WHERE api_key = ?", (api_key,)).fetchone()
        return int(row[0])

    def charge(self, task_id: str, api_key: str, micro: int, at_ms: int) -> bool:
        cursor = self.db.conn.execute(
            "INSERT OR IGNORE INTO charges (task_id, api_key, micro_usd, at_ms) "
            "VALUES (?, ?, ?, ?)", (task_id, api_key, micro, at_ms))
        return cursor.rowcount == 1

    def reset(self, *, api_key: str | None = None) -> None:
        if api_key is None:
            self.db.conn.execute("DELETE FROM charges")
        else:
            self.db.conn.execute("DELETE FROM charges WHERE api_key = ?", (api_key,))
