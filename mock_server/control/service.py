"""The control service: everything `/_mock/` can see and steer, over the mock's parts.

Views under `/_mock/` parse a request, call one method here, and answer its result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mock_server import __version__
from mock_server.api.service import Flux2Backend, profile_of
from mock_server.callbacks.dispatcher import Dispatcher
from mock_server.conformance.report import ReportSources, build_report
from mock_server.control.metrics import Metrics, exposition
from mock_server.control.tasks import (
    TaskFilter,
    count_by_state,
    find_tasks,
    forced_plan,
    plan_dict,
    summary,
    timeline,
)
from mock_server.domain.clock import OffsetClock
from mock_server.domain.deliveries import WAITING
from mock_server.domain.errors import Conflict, TaskNotFound
from mock_server.domain.keys import key_id, mask_key
from mock_server.domain.profiles import profile_names
from mock_server.domain.runtime import QueuedScenario
from mock_server.domain.tasks import TaskRecord
from mock_server.journal.buffer import Journal
from mock_server.paid.credits import spend_summary, usd
from mock_server.paid.http import PaidPart
from mock_server.settings import Settings
from mock_server.storage import Storage
from mock_server.storage.paging import iter_tasks

# How a callback attempt ended, as /_mock/metrics counts it.
OUTCOMES = ("delivered", "rejected", "unreachable")


def attempt_outcome(attempt: dict[str, Any]) -> str:
    """Name how one attempt ended: the receiver said 200, said something else, or never said."""
    status = attempt.get("status")
    if status == 200:
        return "delivered"
    return "unreachable" if status is None else "rejected"


@dataclass(frozen=True)
class Resettable:
    """One part a reset goes over: its name, and how it forgets (all, or one key's part)."""

    name: str
    reset: Callable[..., None]


class ControlService:
    """See and steer one mock: tasks, clock, settings, scenario queue, journal, callbacks."""

    def __init__(self, settings: Settings, storage: Storage, clock: OffsetClock,
                 backend: Flux2Backend, paid: PaidPart, journal: Journal, metrics: Metrics,
                 dispatcher: Dispatcher) -> None:
        self.settings = settings
        self.storage = storage
        self.store = storage.tasks
        self.clock = clock
        self.backend = backend
        self.paid = paid
        self.journal = journal
        self.metrics = metrics
        self.dispatcher = dispatcher
        # Reset goes over this list, in this order: the outbox forgets a key's deliveries
        # while it can still tell which tasks were that key's.
        self.resettable = (
            Resettable("outbox", storage.outbox.reset),
            Resettable("store", storage.tasks.reset),
            Resettable("paid", paid.reset),
            Resettable("runtime", storage.runtime.reset),
            Resettable("journal", journal.reset),
        )

    # -- the whole mock --------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"ready": True, "version": __version__,
                "store": self.storage.label.split()[0],
                "profile": self.backend.profile.name}

    def reset(self, api_key: str | None = None) -> list[str]:
        """Forget every part's state (or one key's part); a full reset also resets the clock."""
        done = []
        for part in self.resettable:
            part.reset(api_key=api_key)
            done.append(part.name)
        if api_key is None:
            self.clock.reset()
            done.append("clock")
        self.dispatcher.notify()  # it re-reads the outbox, and goes idle when nothing is left
        return done

    # -- tasks ---------------------------------------------------------------------

    def record(self, task_id: str) -> TaskRecord:
        record = self.store.get_task(task_id)
        if record is None:
            raise TaskNotFound(f"no task with taskId {task_id!r}")
        return record

    def tasks(self, where: TaskFilter, *, after_seq: int, limit: int,
              newest_first: bool) -> dict[str, Any]:
        now = self.clock.now_ms()
        page, cursor = find_tasks(self.store, where, now, after_seq=after_seq, limit=limit,
                                  newest_first=newest_first)
        return {"now": now, "tasks": [summary(r, now) for r in page], "next": cursor}

    def task(self, task_id: str) -> dict[str, Any]:
        """One task in full: plan, state timeline, the requests seen, the callback attempts."""
        record = self.record(task_id)
        now = self.clock.now_ms()
        requests = [e.as_dict() for e in self.journal.entries(api_keys=[], task_ids=[task_id])]
        return {**summary(record, now), "now": now, "plan": plan_dict(record.plan),
                "timeline": timeline(record.plan, now), "request": record.request,
                "requests": requests,
                "callbacks": [d.as_json() for d in self.dispatcher.journal(task_id)]}

    def force(self, task_id: str, outcome: str, fail_code: str | None) -> dict[str, Any]:
        """End a task now (success, or failed with a failCode) or make it stuck."""
        record = self.record(task_id)
        now = self.clock.now_ms()
        plan = forced_plan(record.plan, now, outcome, fail_code,
                           self.settings.fail_code_vocabulary)
        self.store.replace_plan(task_id, plan)
        self.dispatcher.notify()  # the forced task's callback may be due now
        updated = self.record(task_id)
        return {**summary(updated, now), "now": now, "plan": plan_dict(updated.plan),
                "timeline": timeline(updated.plan, now)}

    # -- callbacks -------------------------------------------------------------------

    def callbacks(self, task_id: str) -> dict[str, Any]:
        """A task's callback deliveries and every attempt."""
        record = self.record(task_id)
        callback = record.request.get("request_type") == "callback"
        return {"taskId": record.task_id,
                "requestType": record.request.get("request_type"),
                "callbackUrl": record.request.get("callback_url") if callback else None,
                "deliveries": [d.as_json() for d in self.dispatcher.journal(task_id)]}

    def redeliver(self, task_id: str) -> dict[str, Any]:
        """Send a finished callback-mode task's callback once more."""
        record = self.record(task_id)
        if record.request.get("request_type") != "callback":
            raise Conflict(f"task {task_id} was submitted with request_type "
                           f"{record.request.get('request_type')!r}; only callback-mode "
                           f"tasks have a callback to deliver")
        complete = record.plan.complete_ms
        if complete is None or complete > self.clock.now_ms():
            raise Conflict(f"task {task_id} has not finished; its callback goes out when "
                           f"it does")
        number = self.dispatcher.redeliver(record)
        return {"taskId": task_id, "delivery": number, "state": "waiting"}

    def deliver_due(self, timeout_s: float | None = None) -> dict[str, Any]:
        """Make every callback attempt due now, and return once each was made (or time ran out).

        Attempts another worker's dispatcher already holds are waited for, not repeated: when
        this returns, every delivery due now was delivered or failed (and waits for a retry).
        """
        now = self.clock.now_ms()
        limit = self.dispatcher.policy.timeout_ms / 1000 + 5 if timeout_s is None else timeout_s
        deadline = time.monotonic() + limit
        made = self.dispatcher.deliver_due(now)
        while (waiting := self.due_deliveries(now)) and time.monotonic() < deadline:
            time.sleep(0.02)  # another process's attempt is in flight under its lease
            made += self.dispatcher.deliver_due(now)
        return {"now": now, "attempts": made, "waiting": waiting}

    def due_deliveries(self, now_ms: int) -> int:
        """Count the deliveries due at `now_ms` whose attempt has not been made yet."""
        return sum(1 for record in iter_tasks(self.store)
                   if record.request.get("request_type") == "callback"
                   for d in self.dispatcher.journal(record.task_id)
                   if d.state == WAITING and d.due_ms is not None and d.due_ms <= now_ms)

    def callback_outcomes(self, tasks: Iterable[TaskRecord]) -> dict[str, int]:
        """Return the callback attempts made for `tasks`, counted by outcome."""
        counts = dict.fromkeys(OUTCOMES, 0)
        for record in tasks:
            if record.request.get("request_type") != "callback":
                continue
            for delivery in self.dispatcher.journal(record.task_id):
                for attempt in delivery.attempts:
                    counts[attempt_outcome(attempt.as_json())] += 1
        return counts

    # -- clock -----------------------------------------------------------------------

    def clock_view(self) -> dict[str, Any]:
        return {"now": self.clock.now_ms(), "offsetMs": self.clock.offset_ms()}

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the clock forward for every worker process."""
        self.clock.advance(seconds)
        self.dispatcher.notify()
        return self.clock_view()

    # -- run-time settings and the scenario queue -----------------------------------

    def settings_view(self) -> dict[str, Any]:
        current = self.backend.current_settings()
        return {"profile": profile_of(current).name, "failure_rate": current.failure_rate,
                "pending_ms": current.pending_ms, "processing_ms": current.processing_ms,
                "overrides": self.storage.runtime.overrides(),
                "api_keys": [mask_key(k) for k in current.api_keys],
                "apiKeyIds": [key_id(k) for k in current.api_keys],
                "profiles": profile_names()}

    def change_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """Apply checked run-time overrides (a None value drops that override)."""
        self.storage.runtime.set_overrides(values)
        return self.settings_view()

    def queue(self) -> list[QueuedScenario]:
        return self.storage.runtime.queue()

    def enqueue(self, scenario: str, count: int, api_key: str | None) -> QueuedScenario:
        return self.storage.runtime.enqueue(scenario, count, api_key)

    def clear_queue(self, api_key: str | None) -> None:
        self.storage.runtime.clear_queue(api_key=api_key)

    # -- journal and metrics ---------------------------------------------------------

    def journal_page(self, *, api_key: str | None, task_id: str | None, after_seq: int,
                     limit: int) -> dict[str, Any]:
        """A page of the request journal, oldest first."""
        self.journal.settle()  # requests other worker processes answered are in the page
        task_ids = [task_id] if task_id else []
        # Given a task only, ask for no key's entries but that task's.
        keys = [api_key] if api_key is not None else ([] if task_ids else None)
        entries = self.journal.entries(api_keys=keys, task_ids=task_ids, after_seq=after_seq,
                                       limit=limit)
        return {"entries": [e.as_dict() for e in entries],
                "next": entries[-1].seq if len(entries) == limit else None}

    def spend(self, api_key: str | None, *, include_tasks: bool) -> dict[str, Any]:
        """The spend meter: what the tasks would have cost on the real API, and balances."""
        summary = spend_summary(self.store, api_key, include_tasks=include_tasks)
        for entry in summary["keys"]:
            left = self.paid.credits.balance_micro(entry["apiKey"])
            entry["balanceUsd"] = None if left is None else usd(left)
            entry["plan"] = self.paid.limits.plan_for(entry["apiKey"]).name
        for entry in [*summary["keys"], *summary.get("tasks", [])]:
            key = entry["apiKey"]  # keys never appear in full (docs/conformance.md)
            entry["apiKey"], entry["apiKeyId"] = mask_key(key), key_id(key)
        return summary

    def report_sources(self) -> ReportSources:
        return ReportSources(self.settings, self.store, self.journal, self.clock,
                             self.dispatcher.journal, self.backend.profile.time_scale)

    def conformance(self, api_key: str | None) -> dict[str, Any]:
        """The conformance report of `api_key`, or of every key."""
        return build_report(self.report_sources(), api_key=api_key)

    def key_named(self, wanted_id: str) -> str | None:
        """Return the server's API key whose key id is `wanted_id`, or None."""
        return next((k for k in self.settings.api_keys if key_id(k) == wanted_id), None)

    def metrics_text(self, *, every_instance: bool = False) -> str:
        tasks = list(iter_tasks(self.store))
        return exposition(self.metrics.combined(every_instance=every_instance),
                          count_by_state(tasks, self.clock.now_ms()),
                          self.callback_outcomes(tasks))
