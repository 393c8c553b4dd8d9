"""A task as accepted (its record) and as documented at any moment (its `data` object)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.lifecycle import TaskPlan, status_at


@dataclass(frozen=True)
class TaskRecord:
    """Everything fixed about a task when it was accepted."""

    task_id: str
    seq: int
    api_key: str
    request: dict[str, Any]
    plan: TaskPlan
    base_url: str
    width: int
    height: int
    scenario: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        return str(self.request["input"]["prompt"])


def task_id_for(seed: str, seq: int) -> str:
    """Return the task id of sequence number `seq` under `seed`: unique, reproducible."""
    return "task_" + hashlib.sha256(f"{seed}:{seq}".encode()).hexdigest()[:16]

def result_urls(record: TaskRecord) -> list[str]:
    return [f"{record.base_url.rstrip('/')}/output/{record.task_id}/0.jpg"]

def task_data(record: TaskRecord, now_ms: int) -> dict[str, Any]:
    """Return the documented `data` object of a task at `now_ms`, in the docs' field order."""
    status = status_at(record.plan, now_ms)
    data: dict[str, Any] = {"taskId": record.task_id, "state": status.state}
    if status.state == "success":
        data["resultJson"] = json.dumps({"resultUrls": result_urls(record)},
                                        separators=(",", ":"))
    elif status.state == "failed":
        data["failCode"] = status.fail_code
        data["failMsg"] = status.fail_msg
    if status.terminal:
        data["costTime"] = status.cost_ms
    data["createTime"] = status.create_ms
    if status.terminal:
        data["completeTime"] = status.complete_ms
    return data
