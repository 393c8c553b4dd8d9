"""A task's state as a pure function of its plan and the time.

Nothing runs for a task to advance: whoever reads a task computes where it is
from the plan fixed at submission and the clock. Reading never mutates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["pending", "processing", "success", "failed"]
Outcome = Literal["success", "failed", "stuck"]

STATES: tuple[State, ...] = ("pending", "processing", "success", "failed")
TERMINAL: frozenset[str] = frozenset({"success", "failed"})


@dataclass(frozen=True)
class TaskPlan:
    """When a task leaves pending, when it finishes, and how it ends."""

    create_ms: int
    pending_ms: int
    processing_ms: int
    outcome: Outcome
    fail_code: str | None = None
    fail_msg: str | None = None

    def __post_init__(self) -> None:
        if self.pending_ms < 0 or self.processing_ms < 0:
            raise ValueError("durations must not be negative")
        if self.outcome == "failed" and not (self.fail_code and self.fail_msg is not None):
            raise ValueError("a failing plan needs a fail code and message")

    @property
    def start_ms(self) -> int:
        """When the task moves from pending to processing."""
        return self.create_ms + self.pending_ms

    @property
    def complete_ms(self) -> int | None:
        """When the task reaches its terminal state; None for a task that never does."""
        if self.outcome == "stuck":
            return None
        return self.start_ms + self.processing_ms


@dataclass(frozen=True)
class TaskStatus:
    """What a task looks like at one instant."""

    state: State
    create_ms: int
    complete_ms: int | None = None
    fail_code: str | None = None
    fail_msg: str | None = None

    @property
    def cost_ms(self) -> int | None:
        if self.complete_ms is None:
            return None
        return self.complete_ms - self.create_ms

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


def state_at(plan: TaskPlan, now_ms: int) -> State:
    """Return the state the plan puts the task in at `now_ms`."""
    complete = plan.complete_ms
    if complete is not None and now_ms >= complete:
        return "failed" if plan.outcome == "failed" else "success"
    if now_ms >= plan.start_ms:
        return "processing"
    return "pending"


def status_at(plan: TaskPlan, now_ms: int) -> TaskStatus:
    """Return the task's full status at `now_ms`."""
    state = state_at(plan, now_ms)
    if state == "success":
        return TaskStatus(state, plan.create_ms, plan.complete_ms)
    if state == "failed":
        return TaskStatus(state, plan.create_ms, plan.complete_ms, plan.fail_code, plan.fail_msg)
    return TaskStatus(state, plan.create_ms)
