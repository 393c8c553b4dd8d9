"""What the control plane reads from the mock's optional parts: the callback dispatcher.

Each function answers None when the part is absent, so the control plane works
with or without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mock_server.storage.memory.tasks import TaskRecord

# How a callback attempt ended, as /_mock/metrics counts it.
OUTCOMES = ("delivered", "rejected", "unreachable")


def _dispatcher(mock: Any) -> Any:
    return getattr(mock, "dispatcher", None)


def callback_deliveries(mock: Any, task_id: str) -> list[dict[str, Any]] | None:
    """Return the task's callback deliveries, each with its attempts; None without callbacks."""
    dispatcher = _dispatcher(mock)
    if dispatcher is None:
        return None
    return [delivery.as_json() for delivery in dispatcher.journal(task_id)]


def attempt_outcome(attempt: dict[str, Any]) -> str:
    """Name how one attempt ended: the receiver said 200, said something else, or never said."""
    status = attempt.get("status")
    if status == 200:
        return "delivered"
    return "unreachable" if status is None else "rejected"


def callback_outcomes(mock: Any, tasks: Iterable[TaskRecord]) -> dict[str, int] | None:
    """Return the callback attempts made for `tasks`, counted by outcome; None without callbacks."""
    dispatcher = _dispatcher(mock)
    if dispatcher is None:
        return None
    counts = dict.fromkeys(OUTCOMES, 0)
    for record in tasks:
        if record.request.get("request_type") != "callback":
            continue
        for delivery in dispatcher.journal(record.task_id):
            for attempt in delivery.attempts:
                counts[attempt_outcome(attempt.as_json())] += 1
    return counts


def plan_changed(mock: Any) -> None:
    """Wake the callback dispatcher: a forced task's callback may be due now."""
    dispatcher = _dispatcher(mock)
    if dispatcher is not None:
        dispatcher.notify()
