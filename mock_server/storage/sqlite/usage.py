"""Usage of the paid part in the SQLite file; admission serialised by a lock file."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mock_server.domain.rates import window_wait_ms
from mock_server.storage.sqlite import lifecycle
from mock_server.storage.sqlite.db import SQLiteConnections

USAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_hits (api_key TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rate_hits_by_key ON rate_hits (api_key, at_ms);
CREATE TABLE IF NOT EXISTS request_counters (api_key TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""

class SQLiteUsage:
    """Usage in tables of the store's SQLite file; admission serialised by a lock file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.db = SQLiteConnections(path, USAGE_SCHEMA)
        self._lock_path = Path(f"{path}.admission.lock")
        self._thread_lock = threading.Lock()
        self._lock_fd: tuple[int, int] | None = None  # (pid, fd): a fork must not share it

    def take_request_slot(self, api_key: str, now_ms: int, limit: int,
                          window: int) -> int | None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM rate_hits WHERE api_key = ? AND at_ms <= ?",
                         (api_key, now_ms - window))
            hits = [row[0] for row in conn.execute(
                "SELECT at_ms FROM rate_hits WHERE api_key = ?", (api_key,))]
            wait = window_wait_ms(hits, now_ms, limit, window)
            if wait is None:
                conn.execute("INSERT INTO rate_hits (api_key, at_ms) VALUES (?, ?)",
                             (api_key, now_ms))
            return wait

    def active_completions(self, api_key: str, now_ms: int) -> list[int | None]:
        # The tasks table is the store's; a task is active until create+pending+processing.
        rows = self.db.conn.execute(
            f"SELECT {lifecycle.complete_ms()} FROM tasks "
            f"WHERE api_key = ? AND {lifecycle.active()}", (api_key, now_ms))
        return [row[0] for row in rows]

    def next_request_number(self, api_key: str) -> int:
        row = self.db.conn.execute(
            "INSERT INTO request_counters (api_key, n) VALUES (?, 1) "
            "ON CONFLICT (api_key) DO UPDATE SET n = n + 1 RETURNING n", (api_key,)).fetchone()
        return int(row[0])

    @contextmanager
    def admission(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._fd()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _fd(self) -> int:
        if self._lock_fd is None or self._lock_fd[0] != os.getpid():
            self._lock_fd = (os.getpid(), os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._lock_fd[1]

    def reset(self, *, api_key: str | None = None) -> None:
        where, args = ("", ()) if api_key is None else (" WHERE api_key = ?", (api_key,))
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM rate_hits" + where, args)
            conn.execute("DELETE FROM request_counters" + where, args)
