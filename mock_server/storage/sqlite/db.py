"""Connections to the store's SQLite file: one per thread and process, never across a fork.

Every part of the mock that keeps state in the store's file (tasks, callback outbox,
rate windows, credits, run-time settings, journal) reaches it through this.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open a connection in autocommit mode, WAL, waiting up to 10 s for another writer."""
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit survives a killed process (not a power cut) without an fsync.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class SQLiteConnections:
    """This thread's connection to one SQLite file, opened anew in a forked process."""

    def __init__(self, path: str | os.PathLike[str], schema: str = "") -> None:
        self.path = Path(path)
        self._local = threading.local()
        # Writers queue on a lock (threads) and a lock file (processes), not in SQLite's
        # busy handler: that one sleeps up to 100 ms a turn, and p99 went to seconds.
        self._write_lock = threading.Lock()
        self._lock_fd: tuple[int, int] | None = None  # (pid, descriptor of <store>.lock)
        if schema:
            # A throwaway connection: the creating process (gunicorn's master) keeps none
            # open across the fork that makes the workers.
            conn = connect(self.path)
            try:
                conn.executescript(schema)
            finally:
                conn.close()

    @property
    def conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn = connect(self.path)
            local.pid = os.getpid()
        conn: sqlite3.Connection = local.conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction (BEGIN IMMEDIATE), rolled back on error."""
        conn = self.conn
        with self._write_lock:
            fd = self._lock_file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock_file(self) -> int:
        """This process's descriptor of the lock file (a forked child opens its own)."""
        held = self._lock_fd
        if held is None or held[0] != os.getpid():
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._lock_fd = held = (os.getpid(), fd)
        return held[1]

    def close(self) -> None:
        """Close this thread's connection, if this process opened it."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and getattr(local, "pid", None) == os.getpid():
            conn.close()
            local.conn = local.pid = None
