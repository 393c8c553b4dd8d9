"""The request journal in PostgreSQL: every instance writes, any instance reads it all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mock_server.domain.journal_entries import JournalEntry, Row, entry_from_row

from .db import PgDatabase

TRIM_EVERY = 1000  # rows this process writes between two trims
_COLUMNS = ("seq, time_ms, method, path, query, status, key_id, key_hint, task_id, state, "
            "errors_json, headers_json")


class PgJournalSink:
    """The journal table, newest `max_entries` entries kept."""

    def __init__(self, db: PgDatabase, max_entries: int = 100_000) -> None:
        self.db = db
        self.max_entries = max_entries
        self._since_trim = 0

    def write(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.executemany(f"INSERT INTO journal ({_COLUMNS.split(', ', 1)[1]}) "
                            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", list(rows))
            self._since_trim += len(rows)
            if self._since_trim >= TRIM_EVERY:
                self._since_trim = 0
                cur.execute("DELETE FROM journal WHERE seq <= "
                            "(SELECT MAX(seq) FROM journal) - %s", (self.max_entries,))

    def read(self, *, key_ids: Sequence[str] | None = None, task_ids: Sequence[str] = (),
             after_seq: int = 0, limit: int = 100_000) -> list[JournalEntry]:
        sql = f"SELECT {_COLUMNS} FROM journal WHERE seq > %s"
        args: list[Any] = [after_seq]
        if key_ids is not None:
            sql += " AND (key_id = ANY(%s) OR task_id = ANY(%s))"
            args += [list(key_ids), list(task_ids)]
        sql += " ORDER BY seq LIMIT %s"
        args.append(limit)
        with self.db.connection() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [entry_from_row(tuple(row)) for row in rows]

    def reset(self, *, key_ids: Sequence[str] | None = None) -> None:
        with self.db.connection() as conn:
            if key_ids is None:
                conn.execute("DELETE FROM journal")
            else:
                conn.execute("DELETE FROM journal WHERE key_id = ANY(%s)", (list(key_ids),))
