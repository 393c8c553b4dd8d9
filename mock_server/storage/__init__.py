"""Where shared state lives: the one place that knows a storage engine.

`open_storage` reads the `store` setting once and returns every store behind the
protocols of `storage.protocols`; nothing outside this package asks which engine it got.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from mock_server.domain.clock import OffsetClock
from mock_server.storage.protocols import (
    JournalSink,
    Ledger,
    MetricsSink,
    Outbox,
    Runtime,
    TaskStore,
    UsageState,
)


class StorageUnavailable(Exception):
    """The store cannot be reached or used; the message names the store and the cause."""


@dataclass(frozen=True)
class Storage:
    """Every store of one server, all on the same engine."""

    label: str
    tasks: TaskStore
    outbox: Outbox
    usage: UsageState
    ledger: Ledger
    runtime: Runtime
    journal: JournalSink
    metrics: MetricsSink
    clock: OffsetClock
    # Whether several processes share this state (they do in a file or a database): writes
    # that are not on a request's critical path are then batched off it.
    shared: bool
    # Entered around each HTTP request when set: a database engine keeps there what
    # stands still for the request's length (the clock offset: one query, not several).
    request_scope: Callable[[], AbstractContextManager[None]] | None = None

    def close(self) -> None:
        """Close this thread's connections."""
        self.tasks.close()


def open_storage(store: str, *, journal_max_entries: int = 100_000) -> Storage:
    """Open the stores a `store` setting names: `memory`, a SQLite file's path, or a
    `postgresql://` URL (docs/deploying.md)."""
    if store.startswith(("postgresql://", "postgres://")):
        from mock_server.storage.postgres import open_postgres_storage

        return open_postgres_storage(store, journal_max_entries=journal_max_entries)
    if store == "memory":
        from mock_server.storage.memory import open_memory_storage

        return open_memory_storage(journal_max_entries=journal_max_entries)
    from mock_server.storage.sqlite import open_sqlite_storage

    return open_sqlite_storage(store, journal_max_entries=journal_max_entries)


__all__ = ["JournalSink", "Ledger", "MetricsSink", "OffsetClock", "Outbox", "Runtime", "Storage",
           "StorageUnavailable", "TaskStore", "UsageState", "open_storage"]
