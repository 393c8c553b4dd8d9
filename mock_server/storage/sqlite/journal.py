"""The request journal in a table of the SQLite file, shared by every worker process."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from mock_server.domain.journal_entries import JournalEntry, Row, entry_from_row

TRIM_EVERY = 1000  # rows written between two trims of the SQLite table

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms   INTEGER NOT NULL,
    method    TEXT NOT NULL,
    path      TEXT NOT NULL,
    query     TEXT NOT NULL DEFAULT '',
    status    INTEGER NOT NULL,
    key_id    TEXT NOT NULL DEFAULT '',
    key_hint  TEXT NOT NULL DEFAULT '',
    task_id   TEXT,
    state     TEXT,
    errors_json  TEXT NOT NULL DEFAULT '[]',
    headers_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS journal_by_key ON journal (key_id, seq);
CREATE INDEX IF NOT EXISTS journal_by_task ON journal (task_id);
"""

_COLUMNS = ("seq, time_ms, method, path, query, status, key_id, key_hint, task_id, state, "
            "errors_json, headers_json")

class Connections(Protocol):
    """Something that hands each thread (and each forked process) its own connection."""

    @property
    def conn(self) -> sqlite3.Connection: ...

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

class SQLiteSink:
    """The journal table in the store's SQLite file, shared by every worker process."""

    def __init__(self, db: Connections, max_entries: int = 100_000) -> None:
        self.db = db  # the task store: its per-thread, fork-safe connections
        self.max_entries = max_entries
        self._since_trim = 0
        self.conn.executescript(SCHEMA)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def write(self, rows: Sequence[Row]) -> None:
        with self.db.transaction() as conn:
            conn.executemany(f"INSERT INTO journal ({_COLUMNS.split(', ', 1)[1]}) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._since_trim += len(rows)
            if self._since_trim >= TRIM_EVERY:
                self._since_trim = 0
                conn.execute("DELETE FROM journal WHERE seq <= "
                             "(SELECT MAX(seq) FROM journal) - ?", (self.max_entries,))

    def read(self, *, key_ids: Sequence[str] | None = None, task_ids: Sequence[str] = (),
             after_seq: int = 0, limit: int = 100_000) -> list[JournalEntry]:
        sql = f"SELECT {_COLUMNS} FROM journal WHERE seq > ?"
        args: list[Any] = [after_seq]
        if key_ids is not None:
            marks = ",".join("?" * len(key_ids)) or "NULL"
            tmarks = ",".join("?" * len(task_ids)) or "NULL"
            sql += f" AND (key_id IN ({marks}) OR task_id IN ({tmarks}))"
            args += [*key_ids, *task_ids]
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [entry_from_row(row) for row in self.conn.execute(sql, args)]

    def reset(self, *, key_ids: Sequence[str] | None = None) -> None:
        if key_ids is None:
            self.conn.execute("DELETE FROM journal")
        else:
            marks = ",".join("?" * len(key_ids)) or "NULL"
            self.conn.execute(f"DELETE FROM journal WHERE key_id IN ({marks})", list(key_ids))

