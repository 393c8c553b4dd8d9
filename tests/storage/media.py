"""The store contract's media: each yields 'instances', every one a full set of stores.

Two instances on one medium are what two servers (or two worker processes) on
one store see: the contract holds for each, and each sees the other's changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.domain.clock import SharedOffsetClock
from mock_server.paid.credits import SQLiteLedger
from mock_server.paid.limits import SQLiteUsage
from mock_server.storage.memory.journal import SQLiteSink
from mock_server.storage.memory.runtime import SQLiteRuntime
from mock_server.storage.postgres import migrate, open_postgres
from mock_server.storage.sqlite.outbox import SQLiteOutbox
from mock_server.storage.sqlite.tasks import SQLiteStore


@dataclass
class Instance:
    """One server's view of the shared state."""

    tasks: Any
    outbox: Any
    usage: Any
    ledger: Any
    runtime: Any
    journal: Any
    clock: Any
    close: Callable[[], None]


def sqlite_instance(path: Path) -> Instance:
    store = SQLiteStore(path)
    return Instance(store, SQLiteOutbox(path), SQLiteUsage(path), SQLiteLedger(path),
                    SQLiteRuntime(store), SQLiteSink(store, max_entries=50),
                    SharedOffsetClock(f"{path}.clock"), store.close)


def postgres_instance(dsn: str) -> Instance:
    migrate(dsn)  # every instance migrates on start; the second finds nothing to do
    pg = open_postgres(dsn)
    return Instance(pg.tasks, pg.outbox, pg.usage, pg.ledger, pg.runtime,
                    pg.journal_sink(max_entries=50), pg.clock, pg.db.close)
