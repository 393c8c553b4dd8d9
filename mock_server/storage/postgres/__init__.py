"""PostgreSQL as the store that many mock instances share (docs/deploying.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .clock import PgOffsetClock
from .db import PgDatabase, StoreUnavailable, is_postgres_dsn, redact
from .journal import PgJournalSink
from .metrics import PgMetricsSink
from .migrate import StoreError, migrate
from .outbox import PgOutbox
from .paid import PgLedger, PgUsage
from .runtime import PgRuntime
from .tasks import PgTaskStore

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class PgStores:
    """Every store on one database, through one pool per process."""

    db: PgDatabase
    tasks: PgTaskStore
    outbox: PgOutbox
    usage: PgUsage
    ledger: PgLedger
    runtime: PgRuntime
    clock: PgOffsetClock
    metrics: PgMetricsSink

    def journal_sink(self, max_entries: int) -> PgJournalSink:
        return PgJournalSink(self.db, max_entries)

    def scoped(self, wsgi_app: WsgiApp) -> WsgiApp:
        """Wrap a WSGI app so that each request runs in one request scope (one checkout)."""
        db = self.db

        def in_scope(environ: dict[str, Any], start_response: Callable[..., Any]
                     ) -> Iterable[bytes]:
            with db.request_scope():
                # Materialised (and closed) inside the scope: a lazy body must not query
                # after the scope gave its connection back.
                body = wsgi_app(environ, start_response)
                try:
                    return list(body)
                finally:
                    close = getattr(body, "close", None)
                    if close is not None:
                        close()

        return in_scope


def open_postgres(dsn: str, *, pool_size: int | None = None) -> PgStores:
    """Return every store on the database `dsn` names; its schema must be migrated."""
    db = PgDatabase(dsn, pool_size=pool_size)
    return PgStores(db, PgTaskStore(db), PgOutbox(db), PgUsage(db), PgLedger(db),
                    PgRuntime(db), PgOffsetClock(db), PgMetricsSink(db))


__all__ = ["PgDatabase", "PgStores", "StoreError", "StoreUnavailable", "is_postgres_dsn",
           "migrate", "open_postgres", "redact"]
