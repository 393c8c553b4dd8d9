"""What the proxy has seen of one task: every distinct answer on its timeline, and when
each state first showed. Pure: `seen_poll` and `seen_callback` return the updated record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

RANK = {"pending": 0, "processing": 1, "success": 2, "failed": 2}
TERMINAL = frozenset({"success", "failed"})
MAX_ANSWERS = 200


@dataclass(frozen=True)
class TaskSeen:
    """One task as observed through the proxy; times (`*_ms`) are ms since submission."""

    task_id: str
    key_id: str
    submitted_ms: int
    request: dict[str, Any]
    submit: dict[str, Any]
    answers: list[dict[str, Any]] = field(default_factory=list)
    first_seen: dict[str, int] = field(default_factory=dict)
    last_seen: dict[str, int] = field(default_factory=dict)
    last_unfinished_ms: int | None = None
    # The answer that showed the furthest state so far, and the first terminal one.
    furthest: dict[str, Any] | None = None
    terminal: dict[str, Any] | None = None
    create_time: int | None = None
    create_evidence: dict[str, Any] | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskSeen:
        return cls(**data)

    @property
    def terminal_data(self) -> dict[str, Any] | None:
        return None if self.terminal is None else _data(self.terminal["body"])

    @property
    def terminal_ms(self) -> int | None:
        return None if self.terminal is None else int(self.terminal["atMs"])


def _data(body: Any) -> dict[str, Any] | None:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else None


def seen_poll(task: TaskSeen, at_ms: int, status: int | None, body: Any,
              evidence: dict[str, Any], *, done_ms: int | None = None) -> TaskSeen:
    """Return `task` after one status answer to a poll sent at `at_ms` (epoch ms).

    `done_ms` is when the answer arrived: a later poll is compared with this answer only
    if it was sent after then (two polls in flight at once may come back in any order).
    """
    elapsed = at_ms - task.submitted_ms
    answer = {"atMs": elapsed, "status": status, "body": body}
    done = at_ms if done_ms is None else done_ms
    answers = task.answers
    # Consecutive equal answers are one: replay answers the latest one before a moment.
    if not answers or (answers[-1]["status"], answers[-1]["body"]) != (status, body):
        answers = [*answers, answer][-MAX_ANSWERS:]
    data = _data(body)
    state = data.get("state") if data else None
    changes: dict[str, Any] = {"answers": answers}
    if isinstance(state, str) and state in RANK:
        first = dict(task.first_seen)
        first.setdefault(state, elapsed)
        changes["first_seen"] = first
        changes["last_seen"] = {**task.last_seen, state: elapsed}
        if state not in TERMINAL:
            changes["last_unfinished_ms"] = elapsed
        furthest_state = _state(task.furthest)
        if furthest_state is None or RANK[state] > RANK.get(furthest_state, -1):
            changes["furthest"] = {**answer, "evidence": evidence, "doneMs": done}
        if state in TERMINAL and task.terminal is None:
            changes["terminal"] = {**answer, "evidence": evidence, "doneMs": done}
    created = data.get("createTime") if data else None
    if created is not None and task.create_time is None:
        changes.update(create_time=created, create_evidence=evidence)
    return replace(task, **changes)


def _state(answer: dict[str, Any] | None) -> str | None:
    data = _data(answer["body"]) if answer else None
    state = data.get("state") if data else None
    return state if isinstance(state, str) else None


def seen_callback(task: TaskSeen, at_ms: int, payload: Any) -> TaskSeen:
    """Return `task` after the upstream called back `at_ms` (epoch ms)."""
    entry = {"atMs": at_ms - task.submitted_ms, "payload": payload}
    return replace(task, callbacks=[*task.callbacks, entry][-20:])


def furthest_state(task: TaskSeen) -> str | None:
    return _state(task.furthest)
