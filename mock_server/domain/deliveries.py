"""Callback deliveries as records: what is due, each attempt, and a delivery's journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WAITING, DELIVERED, ABANDONED, DROPPED = "waiting", "delivered", "abandoned", "dropped"


@dataclass(frozen=True)
class Job:
    """One claimed attempt: which delivery of which task, and how many attempts came before."""

    task_id: str
    delivery: int
    url: str
    attempts: int

@dataclass(frozen=True)
class Attempt:
    """One journaled delivery attempt."""

    delivery: int
    attempt: int
    time_ms: int
    url: str
    status: int | None
    error: str | None
    latency_ms: int
    payload: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"delivery": self.delivery, "attempt": self.attempt, "time": self.time_ms,
                "url": self.url, "status": self.status, "error": self.error,
                "latencyMs": self.latency_ms, "payload": self.payload}

@dataclass(frozen=True)
class Finished:
    """An attempt made under a lease, waiting to be journaled with the delivery's new state."""

    job: Job
    owner: str
    attempt: Attempt
    state: str
    next_ms: int | None

@dataclass
class Delivery:
    """One delivery of a task's callback and its attempts so far."""

    delivery: int
    reason: str
    url: str
    state: str
    due_ms: int | None
    attempts: list[Attempt] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"delivery": self.delivery, "reason": self.reason, "url": self.url,
                "state": self.state, "dueTime": self.due_ms if self.state == WAITING else None,
                "attempts": [a.as_json() for a in self.attempts]}

def first_rows(scenario: dict[str, Any]) -> list[tuple[int, str, str, int]]:
    """Return (delivery, reason, state, delay_ms) rows for a newly seen callback-mode task."""
    if scenario.get("callback_drop"):
        return [(1, "completion", DROPPED, 0)]
    delay = int(scenario.get("callback_delay_ms") or 0)
    rows = [(1, "completion", WAITING, delay)]
    if scenario.get("callback_duplicate"):
        rows.append((2, "duplicate", WAITING, delay))
    return rows

def attach_attempts(deliveries: list[Delivery], attempts: list[Attempt]) -> list[Delivery]:
    by_number = {d.delivery: d for d in deliveries}
    for attempt in attempts:
        if attempt.delivery in by_number:
            by_number[attempt.delivery].attempts.append(attempt)
    return deliveries
