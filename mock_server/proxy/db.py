"""The proxy's own tables, in the store's SQLite file beside the mock's: what was seen of
each task, the upstream findings, spend reservations and relayed callbacks."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mock_server.proxy.observed import TaskSeen
from mock_server.storage.sqlite.db import SQLiteConnections

SCHEMA = """
CREATE TABLE IF NOT EXISTS proxy_tasks (
    task_id   TEXT PRIMARY KEY,
    seq       INTEGER NOT NULL,
    seen_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS proxy_rules (
    rule      TEXT PRIMARY KEY,
    checked   INTEGER NOT NULL DEFAULT 0,
    breaches  INTEGER NOT NULL DEFAULT 0,
    first_ms  INTEGER,
    last_ms   INTEGER,
    first_json TEXT,
    last_json  TEXT
);
CREATE TABLE IF NOT EXISTS proxy_counts (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS proxy_spend (
    id       INTEGER PRIMARY KEY,
    key_id   TEXT NOT NULL,
    micro    INTEGER NOT NULL,
    task_id  TEXT,
    at_ms    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS proxy_relay (
    token       TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    task_id     TEXT
);
"""


class ProxyDB:
    """Per-thread, fork-safe connections to the proxy's tables (sqlite_db's helper)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.connections = SQLiteConnections(path, SCHEMA)
        self.path = self.connections.path

    @property
    def conn(self) -> sqlite3.Connection:
        return self.connections.conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connections.transaction() as conn:
            yield conn

    # -- tasks seen ---------------------------------------------------------------------------

    def add_task(self, seen: TaskSeen) -> None:
        with self.transaction() as conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM proxy_tasks").fetchone()[0]
            conn.execute("INSERT OR REPLACE INTO proxy_tasks (task_id, seq, seen_json) "
                         "VALUES (?, ?, ?)", (seen.task_id, seq, json.dumps(seen.as_json())))

    def task(self, task_id: str) -> TaskSeen | None:
        row = self.conn.execute("SELECT seen_json FROM proxy_tasks WHERE task_id = ?",
                                (task_id,)).fetchone()
        return None if row is None else TaskSeen.from_json(json.loads(row[0]))

    def update_task(self, task_id: str,
                    change: Callable[[TaskSeen], TaskSeen]) -> tuple[TaskSeen, TaskSeen] | None:
        """Apply `change` under the write lock; return (before, after), None if unknown."""
        with self.transaction() as conn:
            row = conn.execute("SELECT seen_json FROM proxy_tasks WHERE task_id = ?",
                               (task_id,)).fetchone()
            if row is None:
                return None
            before = TaskSeen.from_json(json.loads(row[0]))
            after = change(before)
            conn.execute("UPDATE proxy_tasks SET seen_json = ? WHERE task_id = ?",
                         (json.dumps(after.as_json()), task_id))
            return before, after

    def tasks(self) -> list[TaskSeen]:
        return [TaskSeen.from_json(json.loads(row[0])) for row in
                self.conn.execute("SELECT seen_json FROM proxy_tasks ORDER BY seq")]

    def count(self, name: str, by: int = 1) -> None:
        self.conn.execute("INSERT INTO proxy_counts (name, value) VALUES (?, ?) ON CONFLICT "
                          "(name) DO UPDATE SET value = value + excluded.value", (name, by))

    def counted(self, name: str) -> int:
        row = self.conn.execute("SELECT value FROM proxy_counts WHERE name = ?",
                                (name,)).fetchone()
        return int(row[0]) if row else 0

    def reset(self) -> None:
        with self.transaction() as conn:
            for table in ("proxy_tasks", "proxy_rules", "proxy_counts", "proxy_spend",
                          "proxy_relay"):
                conn.execute(f"DELETE FROM {table}")
