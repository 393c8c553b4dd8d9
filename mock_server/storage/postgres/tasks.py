"""Tasks in PostgreSQL, shared by every instance and every worker process.

No read cache: on SQLite a process may answer from memory while a shared
version cell stands still, but a cell that several hosts share costs a query to
read, as much as the task itself, so every read goes to the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.tasks import TaskRecord

from .db import PgDatabase

COLUMNS = ("seq, task_id, api_key, request_json, base_url, create_ms, pending_ms, "
           "processing_ms, outcome, fail_code, fail_msg, width, height, scenario_json")


class PgTaskStore:
    """Tasks in one PostgreSQL database."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def create_task(self, build: Callable[[int], TaskRecord]) -> TaskRecord:
        with self.db.transaction() as conn:
            # The counter row stays locked until COMMIT: tasks commit in sequence order.
            row = conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'task_seq' "
                               "RETURNING value").fetchone()
            assert row is not None
            record = build(int(row[0]))
            plan = record.plan
            conn.execute(
                f"INSERT INTO tasks ({COLUMNS}) VALUES "
                "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (record.seq, record.task_id, record.api_key, json.dumps(record.request),
                 record.base_url, plan.create_ms, plan.pending_ms, plan.processing_ms,
                 plan.outcome, plan.fail_code, plan.fail_msg, record.width, record.height,
                 json.dumps(record.scenario)))
        return record

    def get_task(self, task_id: str) -> TaskRecord | None:
        with self.db.connection() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM tasks WHERE task_id = %s",
                               (task_id,)).fetchone()
        return None if row is None else record_from_row(row)

    def replace_plan(self, task_id: str, plan: TaskPlan) -> None:
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE tasks SET create_ms=%s, pending_ms=%s, processing_ms=%s, outcome=%s, "
                "fail_code=%s, fail_msg=%s WHERE task_id=%s",
                (plan.create_ms, plan.pending_ms, plan.processing_ms, plan.outcome,
                 plan.fail_code, plan.fail_msg, task_id))

    def list_tasks(self, *, api_key: str | None = None, limit: int = 100,
                   after_seq: int = 0) -> list[TaskRecord]:
        sql = f"SELECT {COLUMNS} FROM tasks WHERE seq > %s"
        args: list[Any] = [after_seq]
        if api_key is not None:
            sql += " AND api_key = %s"
            args.append(api_key)
        sql += " ORDER BY seq LIMIT %s"
        args.append(limit)
        with self.db.connection() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [record_from_row(row) for row in rows]

    def reset(self, *, api_key: str | None = None) -> None:
        with self.db.connection() as conn:
            if api_key is None:
                conn.execute("DELETE FROM tasks")
            else:
                conn.execute("DELETE FROM tasks WHERE api_key = %s", (api_key,))

    def close(self) -> None:
        self.db.close()


def record_from_row(row: tuple[Any, ...]) -> TaskRecord:
    (seq, task_id, api_key, request_json, base_url, create_ms, pending_ms, processing_ms,
     outcome, fail_code, fail_msg, width, height, scenario_json) = row
    plan = TaskPlan(int(create_ms), int(pending_ms), int(processing_ms), outcome, fail_code,
                    fail_msg)
    return TaskRecord(task_id, int(seq), api_key, json.loads(request_json), plan, base_url,
                      int(width), int(height), json.loads(scenario_json))
