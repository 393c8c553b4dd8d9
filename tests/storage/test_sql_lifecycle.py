"""The SQL that selects tasks by state agrees with `state_at`, for every plan and time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.lifecycle import TaskPlan, state_at
from mock_server.storage.sqlite import lifecycle

COLUMNS = "create_ms INTEGER, pending_ms INTEGER, processing_ms INTEGER, outcome TEXT"
MS = st.integers(min_value=0, max_value=10**12)
DURATION = st.integers(min_value=0, max_value=10**9)


@st.composite
def plans(draw: st.DrawFn) -> TaskPlan:
    outcome = draw(st.sampled_from(["success", "failed", "stuck"]))
    failed = outcome == "failed"
    return TaskPlan(draw(MS), draw(DURATION), draw(DURATION), outcome,  # type: ignore[arg-type]
                    "INTERNAL_ERROR" if failed else None, "boom" if failed else None)


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE tasks ({COLUMNS})")
    yield conn
    conn.close()


def ask(db: sqlite3.Connection, plan: TaskPlan, expression: str, *args: int) -> object:
    db.execute("DELETE FROM tasks")
    db.execute("INSERT INTO tasks VALUES (?, ?, ?, ?)",
               (plan.create_ms, plan.pending_ms, plan.processing_ms, plan.outcome))
    return db.execute(f"SELECT {expression} FROM tasks", args).fetchone()[0]


@given(plan=plans())
def test_complete_time_is_the_plans(db: sqlite3.Connection, plan: TaskPlan) -> None:
    assert ask(db, plan, lifecycle.complete_ms()) == plan.complete_ms


@given(plan=plans(), offset=st.integers(min_value=-10**9, max_value=3 * 10**9))
def test_active_and_finished_agree_with_state_at(db: sqlite3.Connection, plan: TaskPlan,
                                                 offset: int) -> None:
    now = plan.create_ms + offset
    state = state_at(plan, now)
    assert bool(ask(db, plan, lifecycle.active(), now)) == (state in ("pending", "processing"))
    assert bool(ask(db, plan, lifecycle.finished(), now)) == (state in ("success", "failed"))


@given(plan=plans(), delay=DURATION, offset=st.integers(min_value=-10**9, max_value=3 * 10**9))
def test_a_callback_is_due_once_its_task_finished_plus_its_delay(
        db: sqlite3.Connection, plan: TaskPlan, delay: int, offset: int) -> None:
    now = plan.create_ms + offset
    due = ask(db, plan, f"{lifecycle.complete_ms()} + ? <= ?", delay, now)
    finished = state_at(plan, now - delay) in ("success", "failed")
    assert bool(due) == finished
