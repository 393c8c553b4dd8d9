"""Retention: finished tasks and journal rows leave the store once old; live tasks stay."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.tasks import TaskRecord
from mock_server.serving import retention
from mock_server.storage.sqlite.journal import SQLiteSink
from mock_server.storage.sqlite.tasks import SQLiteStore
from tests.support.serve import serving, status, submit, text_request

HOUR_MS = 3_600_000


def add_task(store: SQLiteStore, create_ms: int, run_ms: int, outcome: str = "success") -> str:
    def build(seq: int) -> TaskRecord:
        plan = TaskPlan(create_ms, 0, run_ms, outcome, None, None)  # type: ignore[arg-type]
        return TaskRecord(f"task_{seq}", seq, "k", {"input": {"prompt": "p"}}, plan,
                          "http://127.0.0.1/", 1024, 1024)

    return store.create_task(build).task_id


def journal_row(time_ms: int, task_id: str) -> tuple[object, ...]:
    return (time_ms, "GET", "/api/v1/statusTask/flux-2", "", 200, "kid", "k…", task_id,
            "success", "[]", "{}")


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "t.sqlite3")


def test_old_finished_tasks_and_journal_rows_go_live_ones_stay(store: SQLiteStore) -> None:
    now = 100 * HOUR_MS
    old = add_task(store, now - 50 * HOUR_MS, 1000)
    old_stuck = add_task(store, now - 50 * HOUR_MS, 1000, outcome="stuck")
    still_running = add_task(store, now - 50 * HOUR_MS, 60 * HOUR_MS)
    recent = add_task(store, now - HOUR_MS, 1000)
    sink = SQLiteSink(store)
    sink.write([journal_row(now - 50 * HOUR_MS, old), journal_row(now - HOUR_MS, recent)])
    assert store.get_task(old) is not None  # cached now: the trim must drop the cache too

    trimmed = retention.trim(store, now, retention_s=36 * 3600, max_tasks=0)

    assert trimmed == retention.Trimmed(tasks=1, journal=1)
    assert store.get_task(old) is None
    for kept in (old_stuck, still_running, recent):
        assert store.get_task(kept) is not None
    assert [e.task_id for e in sink.read()] == [recent]


def test_beyond_the_newest_max_tasks_the_oldest_finished_go(store: SQLiteStore) -> None:
    now = 100 * HOUR_MS
    ids = [add_task(store, now - HOUR_MS, 1000) for _ in range(10)]
    unfinished = add_task(store, now, HOUR_MS)

    assert retention.trim(store, now, retention_s=0, max_tasks=4).tasks == 7
    assert [t for t in [*ids, unfinished] if store.get_task(t)] == [*ids[7:], unfinished]


def test_trims_in_batches_and_callback_rows_go_with_their_task(store: SQLiteStore) -> None:
    now = 100 * HOUR_MS
    ids = [add_task(store, now - 50 * HOUR_MS, 1000) for _ in range(retention.BATCH + 5)]
    with store.transaction() as conn:
        conn.execute("CREATE TABLE callback_attempts (task_id TEXT)")
        conn.executemany("INSERT INTO callback_attempts VALUES (?)", [(t,) for t in ids[:3]])
    assert retention.trim(store, now, retention_s=3600, max_tasks=0).tasks == len(ids)
    assert store.conn.execute("SELECT COUNT(*) FROM callback_attempts").fetchone()[0] == 0
    assert store.list_tasks(limit=10) == []


def test_zero_keeps_everything(store: SQLiteStore) -> None:
    add_task(store, 0, 1)
    assert retention.trim(store, 100 * HOUR_MS, retention_s=0, max_tasks=0).tasks == 0


@pytest.mark.e2e
def test_serve_forgets_finished_tasks_after_retention_s(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    with serving("--profile", "instant", store=db,
                 env={"FLUX2_MOCK_RETENTION_S": "1"}) as server:
        task_id = submit(server.base_url, text_request()).json()["data"]["taskId"]
        assert status(server.base_url, task_id).status_code == 200
        deadline = time.monotonic() + 30
        while status(server.base_url, task_id).status_code == 200:
            assert time.monotonic() < deadline, "the task was never trimmed"
            time.sleep(0.2)
        assert status(server.base_url, task_id).json()["code"] == 404
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == 0
