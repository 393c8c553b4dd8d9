"""The callback outbox in PostgreSQL: every instance's dispatcher claims from the same rows.

A claim is one UPDATE over rows picked `FOR UPDATE SKIP LOCKED`: two dispatchers
claiming at once never wait on each other and never take the same row. A lease
held by a dead process is taken over once it expires (or at once when the
holder ran on this host and is gone).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from mock_server.domain.deliveries import (
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

from .db import PgDatabase

# A row's due time: its retry time, else its task's completeTime (current plan) + delay;
# NULL (never due) for a task that never finishes. The lifecycle's one SQL statement of it.
_DUE = f"COALESCE(o.next_ms, {lifecycle.complete_ms('t.')} + o.delay_ms)"
_FROM = "callback_outbox o JOIN tasks t ON t.task_id = o.task_id"
_CLAIMABLE = ("o.state = 'waiting' AND (o.lease_until IS NULL OR o.lease_until <= %(now)s) "
              f"AND {_DUE} <= %(now)s")


class PgOutbox:
    """Deliveries and their journal beside the tasks, in the shared database."""

    shared = True

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def _scan_range(self) -> tuple[int, int]:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT (SELECT seq FROM callback_scan WHERE id = 1), "
                "(SELECT value FROM counters WHERE name = 'task_seq')").fetchone()
        assert row is not None
        cursor, top = int(row[0]), int(row[1] or 0)
        return (0 if top < cursor else cursor), top

    def register_new(self) -> int:
        cursor, top = self._scan_range()
        if top == cursor:
            return 0  # the common case: one read
        added = 0
        with self.db.transaction() as conn:
            # Another instance scanning now waits here, then finds the cursor moved.
            row = conn.execute("SELECT seq FROM callback_scan WHERE id = 1 FOR UPDATE").fetchone()
            top_row = conn.execute("SELECT value FROM counters WHERE name = 'task_seq'").fetchone()
            assert row is not None and top_row is not None
            cursor, top = int(row[0]), int(top_row[0])
            cursor = 0 if top < cursor else cursor
            rows = conn.execute(
                "SELECT task_id, request_json::jsonb ->> 'callback_url', scenario_json "
                "FROM tasks WHERE seq > %s AND seq <= %s "
                "AND request_json::jsonb ->> 'request_type' = 'callback'",
                (cursor, top)).fetchall()
            for task_id, url, scenario_json in rows:
                for delivery, reason, state, delay in first_rows(json.loads(scenario_json)):
                    added += conn.execute(
                        "INSERT INTO callback_outbox (task_id, delivery, reason, url, delay_ms, "
                        "state) VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                        (task_id, delivery, reason, str(url), delay, state)).rowcount
            conn.execute("UPDATE callback_scan SET seq = %s WHERE id = 1", (top,))
        return added

    def idle(self) -> bool:
        cursor, top = self._scan_range()
        with self.db.connection() as conn:
            waiting = conn.execute(
                "SELECT 1 FROM callback_outbox WHERE state = 'waiting' LIMIT 1").fetchone()
        return top == cursor and waiting is None

    def claim_due(self, now_ms: int, owner: str, lease_ms: int, limit: int) -> list[Job]:
        args = {"now": now_ms, "owner": owner, "until": now_ms + lease_ms, "limit": limit}
        with self.db.connection() as conn:
            rows = conn.execute(
                "UPDATE callback_outbox c SET lease_owner = %(owner)s, lease_until = %(until)s "
                f"FROM (SELECT o.task_id, o.delivery FROM {_FROM} WHERE {_CLAIMABLE} "
                f"ORDER BY {_DUE} LIMIT %(limit)s FOR UPDATE OF o SKIP LOCKED) picked "
                "WHERE c.task_id = picked.task_id AND c.delivery = picked.delivery "
                "RETURNING c.task_id, c.delivery, c.url, c.attempts", args).fetchall()
        return [Job(t, int(d), u, int(a)) for t, d, u, a in rows]

    def finish_many(self, done: list[Finished]) -> None:
        if not done:
            return
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO callback_attempts (task_id, delivery, attempt, time_ms, url, "
                "status, error, latency_ms, payload_json) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [(d.job.task_id, d.attempt.delivery, d.attempt.attempt, d.attempt.time_ms,
                  d.attempt.url, d.attempt.status, d.attempt.error, d.attempt.latency_ms,
                  json.dumps(d.attempt.payload)) for d in done])
            # Only the lease holder settles a delivery: a holder that was overtaken journals
            # its attempt (it happened) but changes nothing else.
            cur.executemany(
                "UPDATE callback_outbox SET attempts = attempts + 1, state = %s, next_ms = %s, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE task_id = %s AND delivery = %s AND lease_owner = %s",
                [(d.state, d.next_ms, d.job.task_id, d.job.delivery, d.owner) for d in done])

    def release(self, job: Job, owner: str) -> None:
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE callback_outbox SET lease_owner = NULL, lease_until = NULL "
                "WHERE task_id = %s AND delivery = %s AND lease_owner = %s",
                (job.task_id, job.delivery, owner))

    def reap(self, alive: Callable[[str], bool]) -> int:
        with self.db.connection() as conn:
            owners = [row[0] for row in conn.execute(
                "SELECT DISTINCT lease_owner FROM callback_outbox "
                "WHERE state = 'waiting' AND lease_owner IS NOT NULL")]
            freed = 0
            for owner in owners:
                if not alive(owner):
                    freed += conn.execute(
                        "UPDATE callback_outbox SET lease_owner = NULL, lease_until = NULL "
                        "WHERE lease_owner = %s", (owner,)).rowcount
        return freed

    def add_delivery(self, record: TaskRecord, reason: str, due_ms: int) -> int:
        self.register_new()
        with self.db.transaction() as conn:
            # Serialise numbering per task: two redeliveries at once must not share a number.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                         (record.task_id,))
            row = conn.execute("SELECT COALESCE(MAX(delivery), 0) + 1 FROM callback_outbox "
                               "WHERE task_id = %s", (record.task_id,)).fetchone()
            assert row is not None
            number = int(row[0])
            conn.execute(
                "INSERT INTO callback_outbox (task_id, delivery, reason, url, state, next_ms) "
                "VALUES (%s,%s,%s,%s,%s,%s)",
                (record.task_id, number, reason, str(record.request["callback_url"]), WAITING,
                 due_ms))
        return number

    def reset(self, *, api_key: str | None = None) -> None:
        with self.db.transaction() as conn:
            if api_key is None:
                conn.execute("DELETE FROM callback_outbox")
                conn.execute("DELETE FROM callback_attempts")
                return
            of_key = "SELECT task_id FROM tasks WHERE api_key = %s"
            conn.execute(f"DELETE FROM callback_outbox WHERE task_id IN ({of_key})", (api_key,))
            conn.execute(f"DELETE FROM callback_attempts WHERE task_id IN ({of_key})",
                         (api_key,))

    def journal(self, task_id: str) -> list[Delivery]:
        with self.db.connection() as conn:
            deliveries = [
                Delivery(int(d), reason, url, state, None if due is None else int(due))
                for d, reason, url, state, due in conn.execute(
                    f"SELECT o.delivery, o.reason, o.url, o.state, {_DUE} "
                    f"FROM {_FROM} WHERE o.task_id = %s ORDER BY o.delivery", (task_id,))]
            attempts = [
                Attempt(int(d), int(n), int(at), url, status, error, int(latency),
                        json.loads(payload))
                for d, n, at, url, status, error, latency, payload in conn.execute(
                    "SELECT delivery, attempt, time_ms, url, status, error, latency_ms, "
                    "payload_json FROM callback_attempts WHERE task_id = %s ORDER BY id",
                    (task_id,))]
        return attach_attempts(deliveries, attempts)
