"""Typed records the `flux2_mock` fixture's helpers return, read from the control plane's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The kinds of API request, by path prefix (what `requests(kind=...)` filters on).
KINDS = {"submit": "/api/v1/generateTask/", "status": "/api/v1/statusTask/",
         "balance": "/api/v1/apikeys/", "result": "/output/"}


def kind_of(path: str) -> str:
    """Name the kind of an API request by its path: submit, status, balance, result or other."""
    return next((kind for kind, prefix in KINDS.items() if path.startswith(prefix)), "other")


@dataclass(frozen=True)
class Step:
    """One state of a task's timeline: when the plan puts the task in it, and whether it has."""

    state: str
    at_ms: int | None
    reached: bool

    @classmethod
    def of(cls, data: dict[str, Any]) -> Step:
        return cls(str(data["state"]), data["at"], bool(data["reached"]))


@dataclass(frozen=True)
class CallbackAttempt:
    """One attempt to deliver a task's callback: when, where, and what the receiver answered."""

    task_id: str
    delivery: int
    attempt: int
    time_ms: int
    url: str
    status: int | None
    error: str | None
    latency_ms: int
    payload: dict[str, Any]

    @property
    def delivered(self) -> bool:
        """Whether the receiver answered 200."""
        return self.status == 200

    @classmethod
    def of(cls, task_id: str, data: dict[str, Any]) -> CallbackAttempt:
        return cls(task_id, int(data["delivery"]), int(data["attempt"]), int(data["time"]),
                   str(data["url"]), data["status"], data["error"], int(data["latencyMs"]),
                   dict(data["payload"]))


@dataclass(frozen=True)
class TaskView:
    """One task as the control plane sees it: state, plan, timeline and callback attempts."""

    task_id: str
    state: str
    outcome: str
    fail_code: str | None
    create_ms: int
    start_ms: int | None
    complete_ms: int | None
    result_urls: tuple[str, ...]
    request_type: str | None
    timeline: tuple[Step, ...]
    callbacks: tuple[CallbackAttempt, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    def reached(self, state: str) -> bool:
        """Whether the task has been in `state` (pending, processing, success, failed)."""
        return any(step.state == state and step.reached for step in self.timeline)

    @classmethod
    def of(cls, data: dict[str, Any]) -> TaskView:
        task_id = str(data["taskId"])
        attempts = [CallbackAttempt.of(task_id, a) for d in data.get("callbacks", [])
                    for a in d["attempts"]]
        return cls(task_id, str(data["state"]), str(data["outcome"]), data.get("failCode"),
                   int(data["createTime"]), data.get("startTime"), data.get("completeTime"),
                   tuple(data.get("resultUrls") or ()), data.get("requestType"),
                   tuple(Step.of(s) for s in data.get("timeline", [])),
                   tuple(sorted(attempts, key=lambda a: a.time_ms)), data)


@dataclass(frozen=True)
class RequestRecord:
    """One API request the mock journaled (the API key masked), and how it answered."""

    seq: int
    time_ms: int
    method: str
    path: str
    query: str
    status: int
    task_id: str | None
    state: str | None
    kind: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> RequestRecord:
        path = str(data["path"])
        return cls(int(data["seq"]), int(data["time"]), str(data["method"]), path,
                   str(data.get("query") or ""), int(data["status"]), data.get("taskId"),
                   data.get("state"), kind_of(path))


@dataclass(frozen=True)
class QueuedScenario:
    """A scenario queued for the next `remaining` submissions of the fixture's key."""

    id: int
    scenario: str
    remaining: int

    @classmethod
    def of(cls, data: dict[str, Any]) -> QueuedScenario:
        return cls(int(data["id"]), str(data["scenario"]), int(data["remaining"]))
