"""PostgreSQL as the store that many mock instances share (docs/deploying.md)."""

from __future__ import annotations

from mock_server.storage import Storage

from .clock import PgOffsetClock
from .db import PgDatabase, StoreUnavailable, is_postgres_dsn, redact
from .journal import PgJournalSink
from .metrics import PgMetricsSink
from .migrate import StoreError, migrate
from .outbox import PgOutbox
from .paid import PgLedger, PgUsage
from .runtime import PgRuntime
from .tasks import PgTaskStore


def open_postgres_storage(url: str, *, journal_max_entries: int = 100_000,
                          pool_size: int | None = None) -> Storage:
    """Return every store on the database `url` names, through one pool per process.

    Nothing connects yet (a forked worker opens its own pool at its first query); the
    schema must be current: `serve` migrates before its workers fork.
    """
    db = PgDatabase(url, pool_size=pool_size)
    return Storage(label=f"postgresql {redact(url)}", tasks=PgTaskStore(db),
                   outbox=PgOutbox(db), usage=PgUsage(db), ledger=PgLedger(db),
                   runtime=PgRuntime(db), journal=PgJournalSink(db, journal_max_entries),
                   metrics=PgMetricsSink(db), clock=PgOffsetClock(db), shared=True,
                   request_scope=db.request_scope)


__all__ = ["PgDatabase", "StoreError", "StoreUnavailable", "is_postgres_dsn", "migrate",
           "open_postgres_storage", "redact"]
