"""Plans' usage and the credit ledger in PostgreSQL, exact across every instance.

Admission (check the concurrent tasks and the balance, create the task, charge
it) runs as one transaction under a transaction-level advisory lock: instances
admit one task at a time, a task and its charge commit together, and a holder
that dies releases the lock with its connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mock_server.storage.sqlite import lifecycle

from .db import PgDatabase

ADMISSION_LOCK = 0x666C757832616D74  # "flux2amt": one constant for every instance


class PgUsage:
    """Rate windows, request counters and active tasks, read and written in the database."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def take_request_slot(self, api_key: str, now_ms: int, limit: int,
                          window: int) -> int | None:
        with self.db.transaction() as conn:
            # One key's window changes one request at a time, whichever instance takes it.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", (api_key,))
            conn.execute("DELETE FROM rate_hits WHERE api_key = %s AND at_ms <= %s",
                         (api_key, now_ms - window))
            # paid.limits.window_wait_ms in SQL: with `limit` hits in the window, one more
            # fits once the limit-th newest has left it.
            row = conn.execute(
                "SELECT at_ms FROM rate_hits WHERE api_key = %s AND at_ms > %s "
                "ORDER BY at_ms DESC OFFSET %s LIMIT 1",
                (api_key, now_ms - window, max(limit - 1, 0))).fetchone()
            if row is not None or limit <= 0:
                return (int(row[0]) if row else now_ms) + window - now_ms
            conn.execute("INSERT INTO rate_hits (api_key, at_ms) VALUES (%s, %s)",
                         (api_key, now_ms))
            return None

    def active_completions(self, api_key: str, now_ms: int) -> list[int | None]:
        # The lifecycle's SQL fragments: the same as SQLite's, held equal to state_at.
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT {lifecycle.complete_ms()} FROM tasks "
                f"WHERE api_key = %s AND {lifecycle.active(now='%s')}",
                (api_key, now_ms)).fetchall()
        return [None if row[0] is None else int(row[0]) for row in rows]

    def next_request_number(self, api_key: str) -> int:
        with self.db.connection() as conn:
            row = conn.execute(
                "INSERT INTO request_counters (api_key, n) VALUES (%s, 1) "
                "ON CONFLICT (api_key) DO UPDATE SET n = request_counters.n + 1 RETURNING n",
                (api_key,)).fetchone()
        assert row is not None
        return int(row[0])

    @contextmanager
    def admission(self) -> Iterator[None]:
        with self.db.bound(ADMISSION_LOCK):
            yield

    def reset(self, *, api_key: str | None = None) -> None:
        with self.db.transaction() as conn:
            if api_key is None:
                conn.execute("DELETE FROM rate_hits")
                conn.execute("DELETE FROM request_counters")
            else:
                conn.execute("DELETE FROM rate_hits WHERE api_key = %s", (api_key,))
                conn.execute("DELETE FROM request_counters WHERE api_key = %s", (api_key,))


class PgLedger:
    """Charges keyed by task id: a task is charged once, whichever instance charges it."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def spent_micro(self, api_key: str) -> int:
        with self.db.connection() as conn:
            row = conn.execute("SELECT COALESCE(SUM(micro_usd), 0) FROM charges "
                               "WHERE api_key = %s", (api_key,)).fetchone()
        return int(row[0]) if row else 0

    def charge(self, task_id: str, api_key: str, micro: int, at_ms: int) -> bool:
        with self.db.connection() as conn:
            cursor = conn.execute(
                "INSERT INTO charges (task_id, api_key, micro_usd, at_ms) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (task_id) DO NOTHING",
                (task_id, api_key, micro, at_ms))
            return cursor.rowcount == 1

    def reset(self, *, api_key: str | None = None) -> None:
        with self.db.connection() as conn:
            if api_key is None:
                conn.execute("DELETE FROM charges")
            else:
                conn.execute("DELETE FROM charges WHERE api_key = %s", (api_key,))
