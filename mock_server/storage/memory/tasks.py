"""Task storage: the record, the protocol, and the in-memory store for one-process runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.tasks import TaskRecord


class MemoryStore:
    """A dict behind a lock: for one process (the pytest fixture, `create_app` in tests)."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskRecord] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def create_task(self, build: Callable[[int], TaskRecord]) -> TaskRecord:
        with self._lock:
            self._seq += 1
            record = build(self._seq)
            if record.task_id in self._tasks:
                raise RuntimeError(f"task id collision: {record.task_id}")
            self._tasks[record.task_id] = record
            return record

    def get_task(self, task_id: str) -> TaskRecord | None:
        with self._lock:
            return self._tasks.get(task_id)

    def replace_plan(self, task_id: str, plan: TaskPlan) -> None:
        with self._lock:
            self._tasks[task_id] = replace(self._tasks[task_id], plan=plan)

    def list_tasks(self, *, api_key: str | None = None, limit: int = 100,
                   after_seq: int = 0) -> list[TaskRecord]:
        with self._lock:
            rows = sorted(self._tasks.values(), key=lambda r: r.seq)
        rows = [r for r in rows if r.seq > after_seq and (api_key is None or r.api_key == api_key)]
        return rows[:limit]

    def reset(self, *, api_key: str | None = None) -> None:
        with self._lock:
            self._tasks = {k: v for k, v in self._tasks.items()
                           if api_key is not None and v.api_key != api_key}

    def close(self) -> None:
        pass
