"""The SQLite outbox: claims exclude each other, leases expire, dead holders are overtaken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_server.domain.deliveries import DELIVERED, WAITING, Attempt, Finished
from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.tasks import TaskRecord
from mock_server.storage.memory.outbox import MemoryOutbox
from mock_server.storage.memory.tasks import MemoryStore
from mock_server.storage.protocols import Outbox, TaskStore
from mock_server.storage.sqlite.outbox import SQLiteOutbox
from mock_server.storage.sqlite.tasks import SQLiteStore

T0 = 1_000_000


def add_task(store: TaskStore, *, mode: str = "callback", complete_in: int = 100,
             scenario: dict[str, Any] | None = None) -> TaskRecord:
    def build(seq: int) -> TaskRecord:
        request = {"request_type": mode, "callback_url": f"http://127.0.0.1:9/{seq}",
                   "input": {"prompt": "a test task"}}
        return TaskRecord(f"task_{seq:04d}", seq, "key", request,
                          TaskPlan(T0, 0, complete_in, "success"), "http://mock/", 8, 8,
                          scenario or {})

    return store.create_task(build)


@pytest.fixture(params=["sqlite", "memory"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[TaskStore, Outbox, Outbox]:
    """A store and two outboxes over it (two processes' views, for SQLite)."""
    if request.param == "memory":
        store: TaskStore = MemoryStore()
        outbox = MemoryOutbox(store)
        return store, outbox, outbox
    store = SQLiteStore(tmp_path / "tasks.sqlite3")
    return store, SQLiteOutbox(store.path), SQLiteOutbox(store.path)


def attempt(n: int = 1) -> Attempt:
    return Attempt(1, n, T0, "http://127.0.0.1:9/", 200, None, 1, {"code": 200})


def test_only_callback_tasks_are_registered_once(pair: tuple[TaskStore, Outbox, Outbox]) -> None:
    store, one, two = pair
    add_task(store)
    add_task(store, mode="async")
    add_task(store, scenario={"callback_duplicate": True})
    assert one.register_new() == 3
    assert two.register_new() == 0
    assert not one.idle()


def test_a_due_row_is_claimed_by_one_claimant_only(pair: tuple[TaskStore, Outbox, Outbox]) -> None:
    store, one, two = pair
    for _ in range(10):
        add_task(store)
    one.register_new()
    assert one.claim_due(T0 + 99, "a", 1000, 100) == []  # not due yet
    first = one.claim_due(T0 + 100, "a", 1000, 6)
    second = two.claim_due(T0 + 100, "b", 1000, 100)
    assert len(first) == 6 and len(second) == 4
    assert not {j.task_id for j in first} & {j.task_id for j in second}
    assert two.claim_due(T0 + 500, "b", 1000, 100) == []  # still leased


def test_an_expired_lease_is_taken_over(pair: tuple[TaskStore, Outbox, Outbox]) -> None:
    store, one, two = pair
    add_task(store)
    one.register_new()
    (job,) = one.claim_due(T0 + 100, "a", 1000, 10)
    (again,) = two.claim_due(T0 + 1100, "b", 1000, 10)
    assert again.task_id == job.task_id
    # The overtaken holder journals its attempt but cannot settle the delivery.
    one.finish_many([Finished(job, "a", attempt(), DELIVERED, None)])
    (delivery,) = two.journal(job.task_id)
    assert delivery.state == WAITING
    two.finish_many([Finished(again, "b", attempt(), DELIVERED, None)])
    (delivery,) = two.journal(job.task_id)
    assert delivery.state == DELIVERED and len(delivery.attempts) == 2
    assert one.idle()


def test_a_dead_holders_lease_is_reaped(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "tasks.sqlite3")
    outbox = SQLiteOutbox(store.path)
    add_task(store)
    outbox.register_new()
    outbox.claim_due(T0 + 100, "dead-one", 60_000, 10)
    outbox.claim_due(T0 + 100, "alive", 60_000, 10)
    assert outbox.reap(lambda owner: owner != "dead-one") == 1
    assert len(outbox.claim_due(T0 + 100, "alive", 60_000, 10)) == 1


def test_due_times_follow_the_current_plan(pair: tuple[TaskStore, Outbox, Outbox]) -> None:
    store, one, _ = pair
    record = add_task(store, complete_in=10_000)
    one.register_new()
    assert one.claim_due(T0 + 100, "a", 1000, 10) == []
    store.replace_plan(record.task_id, TaskPlan(T0, 0, 100, "success"))  # forced to finish
    assert len(one.claim_due(T0 + 100, "a", 1000, 10)) == 1


def test_stuck_tasks_are_never_due(pair: tuple[TaskStore, Outbox, Outbox]) -> None:
    store, one, _ = pair
    record = add_task(store)
    store.replace_plan(record.task_id, TaskPlan(T0, 0, 100, "stuck"))
    one.register_new()
    assert one.claim_due(T0 + 10**9, "a", 1000, 10) == []
    assert one.journal(record.task_id)[0].due_ms is None


def test_reset_tasks_leave_nothing_to_deliver(pair: tuple[TaskStore, Outbox, Outbox]) -> None:
    store, one, _ = pair
    add_task(store)
    one.register_new()
    store.reset()
    assert one.claim_due(T0 + 100, "a", 1000, 10) == []
