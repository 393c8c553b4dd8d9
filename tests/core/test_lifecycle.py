"""The lifecycle as a pure function of (plan, now): boundaries, monotonicity, terminal states."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.clock import SystemClock, VirtualClock
from mock_server.domain.lifecycle import STATES, TERMINAL, TaskPlan, state_at, status_at

T0 = 1_698_765_400_000


def plan(outcome: str = "success", pending: int = 1000, processing: int = 2000) -> TaskPlan:
    if outcome == "failed":
        return TaskPlan(T0, pending, processing, "failed", "CONTENT_VIOLATION", "bad")
    return TaskPlan(T0, pending, processing, outcome)  # type: ignore[arg-type]


@pytest.mark.parametrize(("offset", "state"), [
    (-5, "pending"), (0, "pending"), (999, "pending"),
    (1000, "processing"), (2999, "processing"),
    (3000, "success"), (10**9, "success"),
])
def test_success_plan_changes_state_at_exact_boundaries(offset: int, state: str) -> None:
    assert state_at(plan(), T0 + offset) == state


@pytest.mark.parametrize(("offset", "state"), [
    (999, "pending"), (1000, "processing"), (2999, "processing"), (3000, "failed"),
])
def test_failed_plan_changes_state_at_exact_boundaries(offset: int, state: str) -> None:
    assert state_at(plan("failed"), T0 + offset) == state


def test_zero_durations_finish_at_creation() -> None:
    assert state_at(plan(pending=0, processing=0), T0) == "success"
    assert state_at(plan(pending=0, processing=5), T0) == "processing"


def test_stuck_plan_never_becomes_terminal() -> None:
    stuck = plan("stuck")
    assert stuck.complete_ms is None
    assert state_at(stuck, T0 + 999) == "pending"
    for offset in (1000, 3000, 10**12):
        status = status_at(stuck, T0 + offset)
        assert status.state == "processing"
        assert not status.terminal
        assert status.cost_ms is None


def test_success_status_carries_times_and_cost() -> None:
    status = status_at(plan(), T0 + 5000)
    assert (status.state, status.create_ms, status.complete_ms) == ("success", T0, T0 + 3000)
    assert status.cost_ms == 3000 == T0 + 3000 - status.create_ms
    assert status.fail_code is None


def test_failed_status_carries_fail_code_and_message() -> None:
    status = status_at(plan("failed"), T0 + 3000)
    assert (status.fail_code, status.fail_msg) == ("CONTENT_VIOLATION", "bad")
    assert status.cost_ms == 3000


def test_non_terminal_status_has_no_completion() -> None:
    status = status_at(plan(), T0 + 1500)
    assert status.complete_ms is None and status.cost_ms is None and not status.terminal


@pytest.mark.parametrize(("pending", "processing"), [(-1, 0), (0, -1)])
def test_negative_durations_are_refused(pending: int, processing: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        TaskPlan(T0, pending, processing, "success")


def test_failing_plan_needs_a_code() -> None:
    with pytest.raises(ValueError, match="fail code"):
        TaskPlan(T0, 0, 0, "failed")


plans = st.builds(
    lambda pending, processing, outcome: plan(outcome, pending, processing),
    st.integers(0, 10**7), st.integers(0, 10**7), st.sampled_from(["success", "failed", "stuck"]),
)


@given(plans, st.lists(st.integers(-10**6, 3 * 10**7), min_size=1, max_size=30))
def test_state_never_goes_backwards_and_terminal_never_changes(
        task: TaskPlan, offsets: list[int]) -> None:
    order = {"pending": 0, "processing": 1, "success": 2, "failed": 2}
    seen = [status_at(task, T0 + t) for t in sorted(offsets)]
    for earlier, later in itertools.pairwise(seen):
        assert order[later.state] >= order[earlier.state]
        if earlier.terminal:
            assert later == earlier
    for status in seen:
        assert status.state in STATES
        if task.outcome == "stuck":
            assert status.state not in TERMINAL
        if status.terminal:
            assert status.state == task.outcome
            assert status.cost_ms == task.pending_ms + task.processing_ms


def test_virtual_clock_moves_only_forward_by_hand() -> None:
    clock = VirtualClock(T0)
    assert clock.now_ms() == T0
    assert clock.advance(1.5) == T0 + 1500 == clock.now_ms()
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-0.001)
    assert clock.now_ms() == T0 + 1500


def test_walking_a_virtual_clock_through_a_plan() -> None:
    clock = VirtualClock(T0)
    task = plan()
    states = []
    for _ in range(7):
        states.append(state_at(task, clock.now_ms()))
        clock.advance(0.5)
    assert states == ["pending", "pending", "processing", "processing", "processing", "processing",
                      "success"]


def test_system_clock_is_epoch_milliseconds() -> None:
    assert 1_600_000_000_000 < SystemClock().now_ms() < 4_000_000_000_000
