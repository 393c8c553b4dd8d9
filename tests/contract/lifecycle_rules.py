"""Rules that break a task's lifecycle: terminal flips, the reference task, held callbacks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from contract_tests.payloads import quickstart_text_to_image

from .rules import KEY, ResponseRule, count
from .wsgi_target import Req, Resp, Rewrite, data_of, edit_data

QUICKSTART = quickstart_text_to_image()
# How long after a task's first terminal answer the flip rules change it: later than the
# one poll the suite used to make after a terminal state, well inside its terminal window.
FLIP_AFTER_S = 0.12
# How long a callback task's status still says processing after it ended: its callback, sent
# at the end, arrives well within that even when the machine is busy.
HOLD_S = 2.0


def callback_task(target: Rewrite, task_id: Any) -> bool:
    return f"callback-task:{task_id}" in target.memory


def remember_callback_tasks(then: ResponseRule | None = None) -> ResponseRule:
    """Note the taskIds of callback-mode submissions (flip rules leave those alone)."""
    def rule(target: Rewrite, req: Req, resp: Resp) -> Resp:
        data, body = data_of(resp), req.json
        if req.is_submit and data and isinstance(body, dict) and \
                body.get("request_type") == "callback":
            target.memory[f"callback-task:{data.get('taskId')}"] = True
        return then(target, req, resp) if then else resp
    return rule


def terminal_for(target: Rewrite, data: dict[str, Any], state: str) -> float | None:
    """Return how long ago this async task was first answered `state` (None: not yet)."""
    key = f"first-{state}:{data.get('taskId')}"
    if data.get("state") == state and key not in target.memory:
        target.memory[key] = time.monotonic()
    if callback_task(target, data.get("taskId")) or key not in target.memory:
        return None
    return time.monotonic() - float(target.memory[key])


def success_later_failed(target: Rewrite, data: dict[str, Any]) -> None:
    """Answer failed from a little while after a task's first success answer."""
    since = terminal_for(target, data, "success")
    if since is not None and since > FLIP_AFTER_S:
        data.pop("resultJson", None)
        data.update(state="failed", failCode="GENERATION_FAILED", failMsg="Generation failed")


def failed_later_processing(target: Rewrite, data: dict[str, Any]) -> None:
    """Answer processing again from a little while after a task's first failed answer."""
    since = terminal_for(target, data, "failed")
    if since is not None and since > FLIP_AFTER_S:
        for name in ("failCode", "failMsg", "completeTime", "costTime"):
            data.pop(name, None)
        data["state"] = "processing"


def processing_then_pending(target: Rewrite, data: dict[str, Any]) -> None:
    """Answer pending once, right after a task's first processing answer (whatever it is by
    then: a busy machine may see processing only once before the end)."""
    task = data.get("taskId")
    if callback_task(target, task):
        return
    if target.memory.get(f"after-processing:{task}") == 1:
        target.memory[f"after-processing:{task}"] = 2
        _as_processing(data)
        data["state"] = "pending"
    elif data.get("state") == "processing" and f"after-processing:{task}" not in target.memory:
        target.memory[f"after-processing:{task}"] = 1


def _is_reference(req: Req) -> bool:
    """The docs' Quick Start 1, sent as is with the run's key (the suite's reference task)."""
    return req.is_submit and req.json == QUICKSTART and "X-Mock-Scenario" not in req.headers \
        and req.headers.get("Authorization") == f"Bearer {KEY}"


def reference_answer(change: Callable[[dict[str, Any]], None]) -> ResponseRule:
    """Change the answer to the first accepted Quick Start 1 submission only."""
    def rule(target: Rewrite, req: Req, resp: Resp) -> Resp:
        body = resp.json
        if _is_reference(req) and data_of(resp) and "reference" not in target.memory:
            target.memory["reference"] = data_of(resp)
            change(body)
            return resp.with_json(body)
        return resp
    return rule


def refuse_first_status_of_reference(target: Rewrite, req: Req, resp: Resp) -> Resp:
    """Refuse the key once: the first status query for the reference task."""
    reference_answer(lambda body: None)(target, req, resp)
    task = (target.memory.get("reference") or {}).get("taskId")
    if req.is_status and task and req.query.get("taskId") == task and \
            req.headers.get("Authorization") == f"Bearer {KEY}" and \
            "refused" not in target.memory:
        target.memory["refused"] = True
        return Resp.error(401, "Invalid or missing API key")
    return resp


def unknown_after_first_answer(target: Rewrite, req: Req, resp: Resp) -> Resp:
    """Answer 404 (as for an unknown task) from the second status query of a task on."""
    task = req.query.get("taskId", "")
    if req.is_status and resp.status == 200 and count(target, f"{task}:status") >= 2:
        return Resp.error(404, "Task not found")
    return resp


def hold_callback_tasks(target: Rewrite, req: Req, resp: Resp) -> Resp:
    """Say processing for a while after a callback task ends (its callback comes first)."""
    remember_callback_tasks()(target, req, resp)
    data = data_of(resp)
    if not (req.is_status and data and callback_task(target, data.get("taskId"))):
        return resp
    key = f"ended:{data.get('taskId')}"
    if data.get("state") in ("success", "failed"):
        target.memory.setdefault(key, time.monotonic())
        if time.monotonic() - float(target.memory[key]) < HOLD_S:
            return edit_data(resp, _as_processing)
    return resp


def _as_processing(data: dict[str, Any]) -> None:
    for name in ("resultJson", "failCode", "failMsg", "completeTime", "costTime"):
        data.pop(name, None)
    data["state"] = "processing"


def slow_processing(_: Rewrite, req: Req) -> Req:
    """Ask the mock to keep every task processing for 1.5 s (several answers, even when busy)."""
    if req.is_submit:
        scenario = req.headers.get("X-Mock-Scenario")
        req.headers["X-Mock-Scenario"] = "; ".join(filter(None, [scenario, "processing=1500"]))
    return req
