"""The SQLite task store: one file shared by every worker process (WAL mode).

Each process, and each thread in it, opens its own connection; a fork never
inherits a connection (SQLite connections must not cross a fork).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.tasks import TaskRecord
from mock_server.storage.cell import SharedCell
from mock_server.storage.sqlite.batch import GroupCommit
from mock_server.storage.sqlite.db import SQLiteConnections

CACHE_SIZE = 4096

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq          INTEGER PRIMARY KEY,
    task_id      TEXT NOT NULL UNIQUE,
    api_key      TEXT NOT NULL,
    request_json TEXT NOT NULL,
    base_url     TEXT NOT NULL,
    create_ms    INTEGER NOT NULL,
    pending_ms   INTEGER NOT NULL,
    processing_ms INTEGER NOT NULL,
    outcome      TEXT NOT NULL,
    fail_code    TEXT,
    fail_msg     TEXT,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    scenario_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS tasks_by_key ON tasks (api_key, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('task_seq', 0);
"""

_COLUMNS = ("seq, task_id, api_key, request_json, base_url, create_ms, pending_ms, "
            "processing_ms, outcome, fail_code, fail_msg, width, height, scenario_json")


class SQLiteStore:
    """Tasks in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = SQLiteConnections(self.path, SCHEMA)
        # Bumped (by every process) after any change to a stored task; while it stands
        # still, this process may answer reads of a task from its own cache.
        self.version = SharedCell(f"{self.path}.version")
        self._cache: dict[str, TaskRecord] = {}
        self._cache_version = -1
        self._cache_lock = threading.Lock()
        # Concurrent submits of this process share write transactions (see batch.py).
        self._creations: GroupCommit[TaskRecord] = GroupCommit(self.db.transaction)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened anew after a fork."""
        return self.db.conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction on this thread's connection."""
        return self.db.transaction()

    def create_task(self, build: Callable[[int], TaskRecord]) -> TaskRecord:
        return self._creations.run(lambda conn: self._create(conn, build))

    def _create(self, conn: sqlite3.Connection,
                build: Callable[[int], TaskRecord]) -> TaskRecord:
        seq = conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'task_seq' "
                           "RETURNING value").fetchone()[0]
        record = build(int(seq))
        plan = record.plan
        conn.execute(
            f"INSERT INTO tasks ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (record.seq, record.task_id, record.api_key, json.dumps(record.request),
             record.base_url, plan.create_ms, plan.pending_ms, plan.processing_ms,
             plan.outcome, plan.fail_code, plan.fail_msg, record.width, record.height,
             json.dumps(record.scenario)),
        )
        return record

    def get_task(self, task_id: str) -> TaskRecord | None:
        version = self.version.get()  # read before the query: a later bump refreshes
        with self._cache_lock:
            if version != self._cache_version:
                self._cache, self._cache_version = {}, version
            cached = self._cache.get(task_id)
        if cached is not None:
            return cached
        record = self._read_task(task_id)
        if record is not None:
            with self._cache_lock:
                if self._cache_version == version:
                    if len(self._cache) >= CACHE_SIZE:
                        del self._cache[next(iter(self._cache))]  # the oldest entry
                    self._cache[task_id] = record
        return record

    def _read_task(self, task_id: str) -> TaskRecord | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM tasks WHERE task_id = ?",
                                (task_id,)).fetchone()
        return None if row is None else _record(row)

    def replace_plan(self, task_id: str, plan: TaskPlan) -> None:
        self.conn.execute(
            "UPDATE tasks SET create_ms=?, pending_ms=?, processing_ms=?, outcome=?, fail_code=?, "
            "fail_msg=? WHERE task_id=?",
            (plan.create_ms, plan.pending_ms, plan.processing_ms, plan.outcome, plan.fail_code,
             plan.fail_msg, task_id),
        )
        self.version.add(1)

    def list_tasks(self, *, api_key: str | None = None, limit: int = 100,
                   after_seq: int = 0) -> list[TaskRecord]:
        sql = f"SELECT {_COLUMNS} FROM tasks WHERE seq > ?"
        args: list[Any] = [after_seq]
        if api_key is not None:
            sql += " AND api_key = ?"
            args.append(api_key)
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [_record(row) for row in self.conn.execute(sql, args)]

    def reset(self, *, api_key: str | None = None) -> None:
        if api_key is None:
            self.conn.execute("DELETE FROM tasks")
        else:
            self.conn.execute("DELETE FROM tasks WHERE api_key = ?", (api_key,))
        self.version.add(1)

    def close(self) -> None:
        self.db.close()


def _record(row: tuple[Any, ...]) -> TaskRecord:
    (seq, task_id, api_key, request_json, base_url, create_ms, pending_ms, processing_ms,
     outcome, fail_code, fail_msg, width, height, scenario_json) = row
    plan = TaskPlan(create_ms, pending_ms, processing_ms, outcome, fail_code, fail_msg)
    return TaskRecord(task_id, seq, api_key, json.loads(request_json), plan, base_url,
                      width, height, json.loads(scenario_json))
