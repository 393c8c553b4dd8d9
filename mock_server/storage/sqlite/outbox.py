"""The callback outbox in the tasks' SQLite file, shared by every worker process.

Its tables sit beside `tasks` (sqlite_store.py) and read it: due times come
from the task's current plan, new rows from tasks past a scan cursor.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mock_server.domain.deliveries import (
    ABANDONED,
    WAITING,
    Attempt,
    Delivery,
    Finished,
    Job,
    attach_attempts,
    first_rows,
)
from mock_server.domain.tasks import TaskRecord
from mock_server.storage.sqlite import lifecycle
from mock_server.storage.sqlite.db import SQLiteConnections

SCHEMA = """
CREATE TABLE IF NOT EXISTS callback_outbox (
    task_id     TEXT NOT NULL,
    delivery    INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    url         TEXT NOT NULL,
    delay_ms    INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_ms     INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    PRIMARY KEY (task_id, delivery)
);
CREATE INDEX IF NOT EXISTS callback_outbox_waiting ON callback_outbox (state)
    WHERE state = 'waiting';
CREATE TABLE IF NOT EXISTS callback_attempts (
    id           INTEGER PRIMARY KEY,
    task_id      TEXT NOT NULL,
    delivery     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    time_ms      INTEGER NOT NULL,
    url          TEXT NOT NULL,
    status       INTEGER,
    error        TEXT,
    latency_ms   INTEGER NOT NULL,
    payload_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS callback_attempts_by_task ON callback_attempts (task_id, id);
CREATE TABLE IF NOT EXISTS callback_scan (id INTEGER PRIMARY KEY CHECK (id = 1),
                                          seq INTEGER NOT NULL);
INSERT OR IGNORE INTO callback_scan (id, seq) VALUES (1, 0);
"""

# A row's due time: its retry time, else its task's completeTime (current plan) + delay.
# A stuck task's completeTime is NULL, so only a retry time makes its row due.
_DUE = f"COALESCE(o.next_ms, {lifecycle.complete_ms('t.')} + o.delay_ms)"
_FROM = "callback_outbox o JOIN tasks t ON t.task_id = o.task_id"
_CLAIMABLE = (f"o.state = 'waiting' AND (o.lease_until IS NULL OR o.lease_until <= :now) "
              f"AND {_DUE} <= :now")


def _text(raw: bytes | None) -> tuple[str, bool]:
    """Return a stored URL as text and whether it was readable (else it is never sent)."""
    data = raw or b""
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False


class SQLiteOutbox:
    """Deliveries and their journal in the SQLite file of the tasks."""

    shared = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.db = SQLiteConnections(path, SCHEMA)
        # Threads of one process queue here, not in SQLite's busy handler, which sleeps
        # milliseconds at a time between tries.
        self._write_lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self.db.transaction() as conn:
                yield conn

    def _scan_range(self) -> tuple[int, int]:
        cursor = self.conn.execute("SELECT seq FROM callback_scan WHERE id = 1").fetchone()[0]
        top = self.conn.execute("SELECT value FROM counters WHERE name = 'task_seq'").fetchone()
        top_seq = int(top[0]) if top else 0
        # A counter below the cursor was reset: scan again from the start (rows are unique).
        return (0 if top_seq < cursor else int(cursor)), top_seq

    def register_new(self) -> int:
        cursor, top = self._scan_range()
        if top == cursor:
            return 0  # the common case costs two reads and no write lock
        added = 0
        with self._write() as conn:
            cursor, top = self._scan_range()
            # As bytes: json_extract turns a stored "\ud800" escape into bytes that are no
            # UTF-8, and reading them as text would fail this whole scan, on every tick.
            rows = conn.execute(
                "SELECT task_id, CAST(json_extract(request_json, '$.callback_url') AS BLOB), "
                "scenario_json FROM tasks WHERE seq > ? AND seq <= ? "
                "AND json_extract(request_json, '$.request_type') = 'callback'",
                (cursor, top)).fetchall()
            for task_id, raw_url, scenario_json in rows:
                url, readable = _text(raw_url)
                try:
                    first = first_rows(json.loads(scenario_json))
                except (ValueError, TypeError, AttributeError):  # one bad row, not every row
                    first, readable = [(1, "completion", ABANDONED, 0)], False
                for delivery, reason, state, delay in first:
                    added += conn.execute(
                        "INSERT OR IGNORE INTO callback_outbox (task_id, delivery, reason, url, "
                        "delay_ms, state) VALUES (?,?,?,?,?,?)",
                        (task_id, delivery, reason, url, delay,
                         state if readable else ABANDONED)).rowcount
            conn.execute("UPDATE callback_scan SET seq = ? WHERE id = 1", (top,))
        return added

    def idle(self) -> bool:
        cursor, top = self._scan_range()
        waiting = self.conn.execute(
            "SELECT 1 FROM callback_outbox WHERE state = 'waiting' LIMIT 1").fetchone()
        return top == cursor and waiting is None

    def claim_due(self, now_ms: int, owner: str, lease_ms: int, limit: int) -> list[Job]:
        args = {"now": now_ms, "owner": owner, "until": now_ms + lease_ms, "limit": limit}
        if self.conn.execute(f"SELECT 1 FROM {_FROM} WHERE {_CLAIMABLE} LIMIT 1",
                             args).fetchone() is None:
            return []  # nothing due: no write lock taken
        with self._write() as conn:
            # One UPDATE decides the claim: another process's claim cannot interleave.
            rows = conn.execute(
                f"UPDATE callback_outbox SET lease_owner = :owner, lease_until = :until "
                f"WHERE rowid IN (SELECT o.rowid FROM {_FROM} WHERE {_CLAIMABLE} "
                f"ORDER BY {_DUE} LIMIT :limit) "
                f"RETURNING task_id, delivery, url, attempts", args).fetchall()
        return [Job(t, int(d), u, int(a)) for t, d, u, a in rows]

    def finish_many(self, done: list[Finished]) -> None:
        if not done:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO callback_attempts (task_id, delivery, attempt, time_ms, url, "
                "status, error, latency_ms, payload_json) VALUES (?,?,?,?,?,?,?,?,?)",
                [(d.job.task_id, d.attempt.delivery, d.attempt.attempt, d.attempt.time_ms,
                  d.attempt.url, d.attempt.status, d.attempt.error, d.attempt.latency_ms,
                  json.dumps(d.attempt.payload)) for d in done])
            # Only the lease holder settles a delivery: a holder that was overtaken journals
            # its attempt (it happened) but changes nothing else.
            conn.executemany(
                "UPDATE callback_outbox SET attempts = attempts + 1, state = ?, next_ms = ?, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE task_id = ? AND delivery = ? AND lease_owner = ?",
                [(d.state, d.next_ms, d.job.task_id, d.job.delivery, d.owner) for d in done])

    def release(self, job: Job, owner: str) -> None:
        self.conn.execute(
            "UPDATE callback_outbox SET lease_owner = NULL, lease_until = NULL "
            "WHERE task_id = ? AND delivery = ? AND lease_owner = ?",
            (job.task_id, job.delivery, owner))

    def reap(self, alive: Callable[[str], bool]) -> int:
        owners = [row[0] for row in self.conn.execute(
            "SELECT DISTINCT lease_owner FROM callback_outbox "
            "WHERE state = 'waiting' AND lease_owner IS NOT NULL")]
        freed = 0
        for owner in owners:
            if not alive(owner):
                freed += self.conn.execute(
                    "UPDATE callback_outbox SET lease_owner = NULL, lease_until = NULL "
                    "WHERE lease_owner = ?", (owner,)).rowcount
        return freed

    def add_delivery(self, record: TaskRecord, reason: str, due_ms: int) -> int:
        self.register_new()
        with self._write() as conn:
            number = 1 + conn.execute("SELECT COALESCE(MAX(delivery), 0) FROM callback_outbox "
                                      "WHERE task_id = ?", (record.task_id,)).fetchone()[0]
            conn.execute(
                "INSERT INTO callback_outbox (task_id, delivery, reason, url, state, next_ms) "
                "VALUES (?,?,?,?,?,?)",
                (record.task_id, number, reason, str(record.request["callback_url"]), WAITING,
                 due_ms))
        return int(number)

    def reset(self, *, api_key: str | None = None) -> None:
        with self._write() as conn:
            if api_key is None:
                conn.execute("DELETE FROM callback_outbox")
                conn.execute("DELETE FROM callback_attempts")
                return
            of_key = "SELECT task_id FROM tasks WHERE api_key = ?"
            conn.execute(f"DELETE FROM callback_outbox WHERE task_id IN ({of_key})", (api_key,))
            conn.execute(f"DELETE FROM callback_attempts WHERE task_id IN ({of_key})",
                         (api_key,))

    def journal(self, task_id: str) -> list[Delivery]:
        conn = self.conn
        deliveries = [
            Delivery(int(d), reason, url, state, None if due is None else int(due))
            for d, reason, url, state, due in conn.execute(
                f"SELECT o.delivery, o.reason, o.url, o.state, "
                f"{_DUE} "
                f"FROM {_FROM} WHERE o.task_id = ? ORDER BY o.delivery", (task_id,))]
        attempts = [
            Attempt(int(d), int(n), int(at), url, status, error, int(latency), json.loads(payload))
            for d, n, at, url, status, error, latency, payload in conn.execute(
                "SELECT delivery, attempt, time_ms, url, status, error, latency_ms, payload_json "
                "FROM callback_attempts WHERE task_id = ? ORDER BY id", (task_id,))]
        return attach_attempts(deliveries, attempts)
