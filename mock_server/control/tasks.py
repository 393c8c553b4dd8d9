"""Tasks as the control plane shows and steers them: summaries, timelines, forced outcomes.

Everything here is pure: a record or plan and the time in, data out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

from flux2_spec.resources import fail_message, load
from mock_server.domain.errors import Conflict, InvalidRequest, field_error
from mock_server.domain.keys import key_id, mask_key
from mock_server.domain.lifecycle import STATES, Outcome, TaskPlan, state_at
from mock_server.domain.scenarios import FAIL_CODE
from mock_server.domain.tasks import TaskRecord, task_data
from mock_server.storage.paging import iter_tasks
from mock_server.storage.protocols import TaskStore

# What a force request may ask for, and the plan outcome each means.
FORCE_OUTCOMES = {"success": "success", "complete": "success", "failed": "failed",
                  "fail": "failed", "stuck": "stuck"}


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks a listing wants: by state now, API key, and creation time (epoch ms)."""

    state: str | None = None
    api_key: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def matches(self, record: TaskRecord, now_ms: int) -> bool:
        created = record.plan.create_ms
        return ((self.state is None or state_at(record.plan, now_ms) == self.state)
                and (self.since_ms is None or created >= self.since_ms)
                and (self.until_ms is None or created < self.until_ms))


def summary(record: TaskRecord, now_ms: int) -> dict[str, Any]:
    """Return what a task list shows of one task: the API's view plus its plan."""
    data = task_data(record, now_ms)
    plan = record.plan
    result = json.loads(data["resultJson"])["resultUrls"] if "resultJson" in data else []
    return {
        "taskId": record.task_id,
        "seq": record.seq,
        "apiKey": mask_key(record.api_key),  # keys never appear in full (docs/conformance.md)
        "apiKeyId": key_id(record.api_key),
        "state": data["state"],
        "createTime": plan.create_ms,
        "startTime": plan.start_ms,
        "completeTime": plan.complete_ms,
        "costTime": data.get("costTime"),
        "outcome": plan.outcome,
        "failCode": plan.fail_code,
        "failMsg": plan.fail_msg,
        "resultUrls": result,
        "prompt": record.prompt,
        "mode": record.request["input"].get("mode"),
        "aspectRatio": record.request["input"].get("aspect_ratio"),
        "resolution": record.request["input"].get("resolution"),
        "width": record.width,
        "height": record.height,
        "requestType": record.request.get("request_type"),
        "callbackUrl": record.request.get("callback_url"),
        "scenario": record.scenario,
    }


def timeline(plan: TaskPlan, now_ms: int) -> list[dict[str, Any]]:
    """Return when the plan puts the task in each state, and whether that time has come."""
    steps: list[tuple[str, int | None]] = [("pending", plan.create_ms),
                                           ("processing", plan.start_ms)]
    if plan.outcome == "stuck":
        steps.append(("stuck", None))
    else:
        steps.append((plan.outcome, plan.complete_ms))
    return [{"state": state, "at": at, "reached": at is not None and now_ms >= at}
            for state, at in steps]


def plan_dict(plan: TaskPlan) -> dict[str, Any]:
    return {"createTime": plan.create_ms, "pendingMs": plan.pending_ms,
            "processingMs": plan.processing_ms, "outcome": plan.outcome,
            "failCode": plan.fail_code, "failMsg": plan.fail_msg}


def forced_plan(plan: TaskPlan, now_ms: int, outcome: str, fail_code: str | None,
                vocabulary: str) -> TaskPlan:
    """Return the plan that gives the task `outcome` from `now_ms` on, moving only forward.

    `success` and `failed` end the task now (a pending task goes straight to its end);
    `stuck` keeps its timings but never ends. A task already ended cannot change.
    """
    state = state_at(plan, now_ms)
    if state in ("success", "failed"):
        raise Conflict(f"the task already ended ({state}); a finished task never changes")
    if outcome == "stuck":
        return replace(plan, outcome="stuck", fail_code=None, fail_msg=None)
    if state == "pending":
        pending, processing = max(0, now_ms - plan.create_ms), 0
    else:
        pending, processing = plan.pending_ms, max(0, now_ms - plan.start_ms)
    code = msg = None
    if outcome == "failed":
        code = fail_code or load("fail_codes")["default_fail_code"][vocabulary]
        msg = fail_message(vocabulary, code)
    return TaskPlan(plan.create_ms, pending, processing, cast(Outcome, outcome), code, msg)


def parse_force(body: Any) -> tuple[str, str | None]:
    """Return (outcome, failCode) of a force request body, or raise naming the bad field."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object like {\"outcome\": \"failed\"}")
    outcome = body.get("outcome")
    if not isinstance(outcome, str) or outcome not in FORCE_OUTCOMES:  # {} is unhashable
        raise field_error("outcome", "enum", "outcome must be one of "
                          f"{', '.join(FORCE_OUTCOMES)}; got {json.dumps(outcome)}")
    code = body.get("failCode")
    if code is not None and (not isinstance(code, str) or not FAIL_CODE.match(code)):
        raise field_error("failCode", "pattern", "failCode must be letters, digits and "
                          f"underscores, starting with a letter; got {json.dumps(code)}")
    if code is not None and FORCE_OUTCOMES[outcome] != "failed":
        raise field_error("failCode", "outcome", "failCode goes only with outcome failed")
    return FORCE_OUTCOMES[outcome], code


def find_tasks(store: TaskStore, where: TaskFilter, now_ms: int, *, after_seq: int = 0,
               limit: int = 50, newest_first: bool = False) -> tuple[list[TaskRecord], int | None]:
    """Return one page of matching tasks and the cursor of the next page (None at the end).

    Oldest first, a page starts after sequence number `after_seq`; newest first,
    it starts before `after_seq` (0: from the newest).
    """
    if not newest_first:
        found: list[TaskRecord] = []
        for record in iter_tasks(store, api_key=where.api_key, after_seq=after_seq):
            if where.matches(record, now_ms):
                found.append(record)
                if len(found) > limit:
                    break
        return found[:limit], (found[limit - 1].seq if len(found) > limit else None)
    # The store lists oldest first only: read windows of sequence numbers downwards from
    # the newest, so a page of the newest tasks costs about one page of rows.
    hi = after_seq or last_seq(store, where.api_key) + 1  # exclusive upper bound
    matches: list[TaskRecord] = []
    window = max(2 * limit, 100)
    while hi > 1 and len(matches) <= limit:
        lo = max(0, hi - 1 - window)
        rows = store.list_tasks(api_key=where.api_key, limit=hi - 1 - lo, after_seq=lo)
        matches += [r for r in reversed(rows) if r.seq < hi and where.matches(r, now_ms)]
        hi, window = lo + 1, window * 2  # sparse matches: widen the window
    return matches[:limit], (matches[limit - 1].seq if len(matches) > limit else None)


def last_seq(store: TaskStore, api_key: str | None = None) -> int:
    """Return the highest stored sequence number (0 when empty), in a few indexed lookups."""

    def after(seq: int) -> int | None:
        rows = store.list_tasks(api_key=api_key, limit=1, after_seq=seq)
        return rows[0].seq if rows else None

    first = after(0)
    if first is None:
        return 0
    known, probe = first, 2 * first
    while (found := after(probe)) is not None:  # gallop up past the newest
        known, probe = found, 2 * found
    low, high = known, probe  # a task has seq `known`; none has seq > `probe`
    while low < high:
        middle = (low + high + 1) // 2
        found = after(middle - 1)
        if found is not None:
            low = found
            if found >= high:
                break
        else:
            high = middle - 1
    return low


def count_by_state(tasks: Iterable[TaskRecord], now_ms: int) -> dict[str, int]:
    """Return how many of `tasks` are in each state now (stuck tasks count as processing)."""
    counts: dict[str, int] = dict.fromkeys(STATES, 0)
    for record in tasks:
        counts[state_at(record.plan, now_ms)] += 1
    return counts
