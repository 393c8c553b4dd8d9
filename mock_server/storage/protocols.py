"""What every storage engine provides: one small protocol per kind of shared state.

Services depend on these protocols only; `open_storage` picks the engine once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from mock_server.domain.deliveries import Delivery, Finished, Job
from mock_server.domain.journal_entries import JournalEntry, Row
from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.runtime import QueuedScenario
from mock_server.domain.tasks import TaskRecord


class TaskStore(Protocol):
    """Where tasks live; shared by every worker process of one server."""

    def create_task(self, build: Callable[[int], TaskRecord]) -> TaskRecord:
        """Allocate the next sequence number, build the record from it, and store it atomically."""
        ...

    def get_task(self, task_id: str) -> TaskRecord | None: ...

    def replace_plan(self, task_id: str, plan: TaskPlan) -> None: ...

    def list_tasks(self, *, api_key: str | None = None, limit: int = 100,
                   after_seq: int = 0) -> list[TaskRecord]: ...

    def reset(self, *, api_key: str | None = None) -> None: ...

    def close(self) -> None: ...


class Outbox(Protocol):
    """Where deliveries wait and what happened to them."""

    shared: bool  # whether other processes use it too

    def register_new(self) -> int:
        """Add rows for callback-mode tasks accepted since the last scan; return how many."""
        ...

    def idle(self) -> bool:
        """Whether nothing is waiting and no task is unscanned."""
        ...

    def claim_due(self, now_ms: int, owner: str, lease_ms: int, limit: int) -> list[Job]: ...

    def finish_many(self, done: list[Finished]) -> None:
        """Journal each attempt, move its delivery to its new state, and release its lease."""
        ...

    def release(self, job: Job, owner: str) -> None: ...

    def reap(self, alive: Callable[[str], bool]) -> int:
        """Drop leases whose owner is dead; return how many."""
        ...

    def add_delivery(self, record: TaskRecord, reason: str, due_ms: int) -> int: ...

    def journal(self, task_id: str) -> list[Delivery]: ...

    def reset(self, *, api_key: str | None = None) -> None:
        """Forget the deliveries and attempts of `api_key`'s tasks, or of every task."""
        ...


class UsageState(Protocol):
    """What the limits remember between requests, shared by every worker process."""

    def take_request_slot(self, api_key: str, now_ms: int, limit: int,
                          window: int) -> int | None:
        """Record a request if it fits the window and return None, else return the wait in ms."""
        ...

    def active_completions(self, api_key: str, now_ms: int) -> list[int | None]:
        """Return the completion times of the key's tasks not yet terminal at `now_ms`."""
        ...

    def next_request_number(self, api_key: str) -> int:
        """Count one more API request of this key and return its number (1, 2, ...)."""
        ...

    def admission(self) -> AbstractContextManager[None]:
        """Hold the lock under which a task is checked, created and charged."""
        ...

    def reset(self, *, api_key: str | None = None) -> None: ...


class Ledger(Protocol):
    """The charges made so far, shared by every worker process."""

    def spent_micro(self, api_key: str) -> int: ...

    def charge(self, task_id: str, api_key: str, micro: int, at_ms: int) -> bool:
        """Charge a task once; return False when it was charged already."""
        ...

    def reset(self, *, api_key: str | None = None) -> None: ...


class Runtime(Protocol):
    """Run-time state shared by the worker processes."""

    def overrides(self) -> dict[str, Any]:
        """Return the settings changed at run time, by setting name."""
        ...

    def set_overrides(self, values: dict[str, Any]) -> None:
        """Replace the given settings' run-time values; a None value drops the override."""
        ...

    def enqueue(self, scenario: str, count: int, api_key: str | None) -> QueuedScenario: ...

    def queue(self) -> list[QueuedScenario]: ...

    def take_scenario(self, api_key: str) -> str | None:
        """Consume one use of the oldest queued scenario that applies to `api_key`."""
        ...

    def clear_queue(self, *, api_key: str | None = None) -> None:
        """Drop the queued scenarios of `api_key`, or all of them."""
        ...

    def reset(self, *, api_key: str | None = None) -> None:
        """Forget the queue (one key's entries, or all) and, for a full reset, the overrides."""
        ...


class JournalSink(Protocol):
    """Where journal entries are kept."""

    def write(self, rows: Sequence[Row]) -> None: ...

    def read(self, *, key_ids: Sequence[str] | None = None, task_ids: Sequence[str] = (),
             after_seq: int = 0, limit: int = 100_000) -> list[JournalEntry]:
        """Entries of the given keys (all when None) plus those naming `task_ids`, by seq."""
        ...

    def reset(self, *, key_ids: Sequence[str] | None = None) -> None: ...


class MetricsSink(Protocol):
    """Where each process of one server leaves its request counts for the others to read."""

    def write(self, process: str, snapshot: dict[str, Any]) -> None: ...

    def read(self, *, skip: str) -> list[dict[str, Any]]:
        """Return the snapshots of this server's other processes."""
        ...

    def read_others(self) -> list[dict[str, Any]]:
        """Return the snapshots of every other server on the same store (a shared database)."""
        ...
