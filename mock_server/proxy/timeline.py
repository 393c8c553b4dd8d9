"""A recorded task's timeline: when it left pending and when it finished, relative to
submission, from what the polls saw and what the upstream said (createTime, completeTime).

Replay answers on this timeline and calibration draws from it, so both read one function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_server.domain.lifecycle import TaskPlan
from mock_server.proxy.observed import TaskSeen


@dataclass(frozen=True)
class Timeline:
    """ms after submission the task showed processing and finished; how it ended."""

    pending_ms: int
    processing_ms: int | None  # None: never seen finished
    outcome: str | None  # success, failed, or None when it never finished
    fail_code: str | None = None
    fail_msg: str | None = None

    def plan(self, create_ms: int) -> TaskPlan:
        """The mock's plan of a task submitted at `create_ms` that follows this timeline."""
        if self.outcome is None or self.processing_ms is None:
            return TaskPlan(create_ms, self.pending_ms, 0, "stuck")
        if self.outcome == "failed":
            return TaskPlan(create_ms, self.pending_ms, self.processing_ms, "failed",
                            self.fail_code or "UNKNOWN", self.fail_msg or "")
        return TaskPlan(create_ms, self.pending_ms, self.processing_ms, "success")

    def as_json(self) -> dict[str, Any]:
        return {"pendingMs": self.pending_ms, "processingMs": self.processing_ms,
                "outcome": self.outcome, "failCode": self.fail_code, "failMsg": self.fail_msg}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def timeline_of(seen: TaskSeen) -> Timeline:
    """Derive the timeline: observed bounds, narrowed by the upstream's own timestamps."""
    first = seen.first_seen
    done = seen.terminal_data
    terminal_ms = seen.terminal_ms
    last = seen.last_seen
    # The last unfinished poll before the first finished one: completion came after it.
    unfinished = [at for name, at in last.items() if name in ("pending", "processing")
                  and (terminal_ms is None or at < terminal_ms)]
    floor = max(unfinished) if unfinished else None
    finish: int | None = None
    if terminal_ms is not None and done is not None:
        created, completed = _int(done.get("createTime")), _int(done.get("completeTime"))
        estimate = completed - created if created is not None and completed is not None \
            else _int(done.get("costTime"))
        low = 0 if floor is None else floor + 1
        # The upstream's own duration, kept between the polls that bracket completion;
        # without one, the middle of those polls (replayed polls then fall on the same side).
        finish = min(terminal_ms, max(estimate, low)) if estimate is not None \
            else (low + terminal_ms) // 2
    if "pending" in first:
        # Left pending between its last pending poll and the next poll: the middle of them.
        after = first.get("processing", finish)
        start = last["pending"] if after is None else (last["pending"] + after + 1) // 2
    else:
        start = 0  # never seen pending: the first poll already saw it processing
    if finish is not None:
        start = min(start, finish)
    state = done.get("state") if done else None
    if finish is None or state not in ("success", "failed"):
        return Timeline(start, None, None)
    code, message = (done or {}).get("failCode"), (done or {}).get("failMsg")
    return Timeline(start, finish - start, str(state),
                    str(code) if state == "failed" and code else None,
                    str(message) if state == "failed" and message is not None else None)
