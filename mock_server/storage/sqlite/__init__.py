"""Stores in one SQLite file (WAL), shared by every worker process of one server."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mock_server.storage import Storage


def open_sqlite_storage(path: str, *, journal_max_entries: int = 100_000) -> Storage:
    """Return every store in the SQLite file at `path` (created with its tables if new)."""
    from mock_server.storage import Storage, StorageUnavailable
    from mock_server.storage.clock import SharedOffsetClock
    from mock_server.storage.sqlite.journal import SQLiteSink
    from mock_server.storage.sqlite.ledger import SQLiteLedger
    from mock_server.storage.sqlite.metrics import SQLiteMetricsSink
    from mock_server.storage.sqlite.outbox import SQLiteOutbox
    from mock_server.storage.sqlite.runtime import SQLiteRuntime
    from mock_server.storage.sqlite.tasks import SQLiteStore
    from mock_server.storage.sqlite.usage import SQLiteUsage

    try:
        tasks = SQLiteStore(path)
        return Storage(label=f"sqlite {path}", tasks=tasks, outbox=SQLiteOutbox(tasks.path),
                       usage=SQLiteUsage(tasks.path), ledger=SQLiteLedger(tasks.path),
                       runtime=SQLiteRuntime(tasks), journal=SQLiteSink(tasks, journal_max_entries),
                       metrics=SQLiteMetricsSink(tasks),
                       clock=SharedOffsetClock(f"{tasks.path}.clock"), shared=True)
    except (OSError, sqlite3.Error) as exc:
        raise StorageUnavailable(f"cannot use store {path}: {exc}") from None
