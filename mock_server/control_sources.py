"""What the control plane reads from the mock's optional parts: the callback sender.

Each function answers None when the part is absent, so the control plane works
with or without it.
"""

from __future__ import annotations

from typing import Any


def callback_attempts(mock: Any, task_id: str) -> list[dict[str, Any]] | None:
    """Return the task's callback delivery attempts, oldest first, or None without a sender."""
    outbox = getattr(mock, "outbox", None)
    attempts = getattr(outbox, "attempts", None)
    if not callable(attempts):
        return None
    return [a if isinstance(a, dict) else a.as_dict() for a in attempts(task_id)]


def callback_outcomes(mock: Any) -> dict[str, int] | None:
    """Return callback attempts counted by outcome, or None without a sender."""
    outbox = getattr(mock, "outbox", None)
    counts = getattr(outbox, "attempt_counts", None)
    return dict(counts()) if callable(counts) else None


def plan_changed(mock: Any, task_id: str) -> None:
    """Tell the callback sender that a task's plan changed (its callback may be due now)."""
    outbox = getattr(mock, "outbox", None)
    hook = getattr(outbox, "plan_changed", None)
    if callable(hook):
        hook(task_id)
