"""The durable callback outbox and delivery journal.

Every callback-mode task gets one delivery row (two with `callback-duplicate`;
`callback-drop` marks it dropped). Rows are found by scanning the tasks table
past a cursor: a task is committed together with its sequence number, so a
scan can never miss one, even one accepted just before a crash. A row is due at
its task's completeTime (read from the current plan, so a forced outcome moves
it) plus `callback-delay`, or at its next retry. A dispatcher claims due rows
with a lease in one atomic UPDATE, so of several worker processes exactly one
makes each attempt; a lease held by a dead process is taken over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mock_server.domain.deliveries import (
    WAITING,
    Attempt,
    Delivery,
    Finished,
    Job,
    attach_attempts,
    first_rows,
)
from mock_server.domain.tasks import TaskRecord
from mock_server.storage.paging import iter_tasks
from mock_server.storage.protocols import TaskStore


class MemoryOutbox:
    """The outbox of a one-process app: dicts behind a lock, over any TaskStore."""

    shared = False

    def __init__(self, store: TaskStore) -> None:
        self.store = store
        self._rows: dict[tuple[str, int], dict[str, Any]] = {}
        self._attempts: dict[str, list[Attempt]] = {}
        self._cursor = 0
        self._lock = threading.Lock()

    def register_new(self) -> int:
        added = 0
        with self._lock:
            while batch := self.store.list_tasks(after_seq=self._cursor, limit=500):
                for record in batch:
                    if record.request.get("request_type") == "callback":
                        for delivery, reason, state, delay in first_rows(record.scenario):
                            self._rows[(record.task_id, delivery)] = {
                                "reason": reason, "url": str(record.request["callback_url"]),
                                "state": state, "delay": delay, "attempts": 0, "next": None,
                                "owner": None, "until": None}
                            added += 1
                self._cursor = batch[-1].seq
        return added

    def idle(self) -> bool:
        with self._lock:
            waiting = any(r["state"] == WAITING for r in self._rows.values())
        return not waiting and not self.store.list_tasks(after_seq=self._cursor, limit=1)

    def _due(self, task_id: str, row: dict[str, Any]) -> int | None:
        if row["next"] is not None:
            return int(row["next"])
        record = self.store.get_task(task_id)
        complete = None if record is None else record.plan.complete_ms
        return None if complete is None else complete + int(row["delay"])

    def claim_due(self, now_ms: int, owner: str, lease_ms: int, limit: int) -> list[Job]:
        jobs: list[tuple[int, Job]] = []
        with self._lock:
            for (task_id, delivery), row in self._rows.items():
                if row["state"] != WAITING or (row["until"] is not None
                                               and row["until"] > now_ms):
                    continue
                due = self._due(task_id, row)
                if due is not None and due <= now_ms:
                    jobs.append((due, Job(task_id, delivery, row["url"], row["attempts"])))
            jobs = sorted(jobs, key=lambda pair: pair[0])[:limit]
            for _due, job in jobs:
                self._rows[(job.task_id, job.delivery)].update(owner=owner,
                                                               until=now_ms + lease_ms)
        return [job for _due, job in jobs]

    def finish_many(self, done: list[Finished]) -> None:
        with self._lock:
            for item in done:
                job = item.job
                self._attempts.setdefault(job.task_id, []).append(item.attempt)
                row = self._rows.get((job.task_id, job.delivery))
                if row is not None and row["owner"] == item.owner:
                    row.update(attempts=row["attempts"] + 1, state=item.state,
                               next=item.next_ms, owner=None, until=None)

    def release(self, job: Job, owner: str) -> None:
        with self._lock:
            row = self._rows.get((job.task_id, job.delivery))
            if row is not None and row["owner"] == owner:
                row.update(owner=None, until=None)

    def reap(self, alive: Callable[[str], bool]) -> int:
        return 0  # one process: its leases die with it

    def add_delivery(self, record: TaskRecord, reason: str, due_ms: int) -> int:
        self.register_new()
        with self._lock:
            number = 1 + max((d for t, d in self._rows if t == record.task_id), default=0)
            self._rows[(record.task_id, number)] = {
                "reason": reason, "url": str(record.request["callback_url"]), "state": WAITING,
                "delay": 0, "attempts": 0, "next": due_ms, "owner": None, "until": None}
            return number

    def reset(self, *, api_key: str | None = None) -> None:
        with self._lock:
            if api_key is None:
                self._rows.clear()
                self._attempts.clear()
                return
            gone = {r.task_id for r in iter_tasks(self.store, api_key=api_key)}
            self._rows = {k: v for k, v in self._rows.items() if k[0] not in gone}
            self._attempts = {k: v for k, v in self._attempts.items() if k not in gone}

    def journal(self, task_id: str) -> list[Delivery]:
        with self._lock:
            rows = sorted((d, r) for (t, d), r in self._rows.items() if t == task_id)
            attempts = list(self._attempts.get(task_id, []))
        out = [Delivery(d, r["reason"], r["url"], r["state"], self._due(task_id, r))
               for d, r in rows]
        return attach_attempts(out, attempts)


