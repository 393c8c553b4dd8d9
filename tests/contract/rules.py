"""Rewrites and callback mutations that break one promise each (used by breakages.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from contract_tests.payloads import ascii_prompt, multibyte_prompt, quickstart_text_to_image

from .relay import Mutation
from .wsgi_target import Req, Resp, Rewrite, data_of, edit_data

KEY = "flux2-mock-key"
QUICKSTART = quickstart_text_to_image()
RequestRule = Callable[[Rewrite, Req], "Req | Resp"]
ResponseRule = Callable[[Rewrite, Req, Resp], Resp]
# How long after a task's first terminal answer the flip rules change it: later than the
# one poll the suite used to make after a terminal state, well inside its terminal window.
FLIP_AFTER_S = 0.12


def submit_input(req: Req) -> dict[str, Any]:
    body = req.json
    params = body.get("input") if isinstance(body, dict) else None
    return params if isinstance(params, dict) else {}


def fix_auth(kinds: Callable[[str | None], bool], where: Callable[[Req], bool]) -> RequestRule:
    def rule(_: Rewrite, req: Req) -> Req:
        if where(req) and kinds(req.headers.get("Authorization")):
            req.headers["Authorization"] = f"Bearer {KEY}"
        return req
    return rule


def on_submit_input(change: Callable[[dict[str, Any], dict[str, Any]], None]) -> RequestRule:
    """Let `change(body, input)` edit every submission's JSON before the mock sees it."""
    def rule(_: Rewrite, req: Req) -> Req:
        body = req.json
        if req.is_submit and isinstance(body, dict):
            params = body.get("input")
            change(body, params if isinstance(params, dict) else {})
            req.with_json(body)
        return req
    return rule


def reject_submit(when: Callable[[dict[str, Any], dict[str, Any]], bool]) -> RequestRule:
    def rule(_: Rewrite, req: Req) -> Req | Resp:
        body = req.json
        if req.is_submit and isinstance(body, dict) and when(body, submit_input(req)):
            return Resp.error(400, "Invalid request")
        return req
    return rule


def status_data(change: Callable[[Rewrite, dict[str, Any]], None]) -> ResponseRule:
    def rule(target: Rewrite, req: Req, resp: Resp) -> Resp:
        if req.is_status and resp.status == 200:
            return edit_data(resp, lambda data: change(target, data))
        return resp
    return rule


def errors(change: Callable[[Resp], Resp]) -> ResponseRule:
    def rule(_: Rewrite, req: Req, resp: Resp) -> Resp:
        return change(resp) if resp.status >= 400 else resp
    return rule


def pad_prompt(body: dict[str, Any], params: dict[str, Any]) -> None:
    """Take the probe's two-character prompts as three."""
    if params.get("prompt") in (ascii_prompt(2), multibyte_prompt(2)):
        params["prompt"] += "!"


def cut_generated_long_prompt(body: dict[str, Any], params: dict[str, Any]) -> None:
    """Cut Hypothesis' over-long prompts ('x' * 5,000 + more) to 5,000: take them."""
    prompt = params.get("prompt")
    if isinstance(prompt, str) and prompt.startswith("x" * 5000):
        params["prompt"] = prompt[:5000]


def nine_to_eight(body: dict[str, Any], params: dict[str, Any]) -> None:
    """Take the probe's nine image URLs as eight."""
    urls = params.get("image_urls")
    if isinstance(urls, list) and len(urls) == 9 and str(urls[-1]).endswith("?n=8"):
        params["image_urls"] = params["image_urls"][:8]


def near_miss(body: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("resolution") == "4K":
        params["resolution"] = "2K"


def callback_to_async(body: dict[str, Any], params: dict[str, Any]) -> None:
    if body.get("request_type") == "callback" and "callback_url" not in body:
        body["request_type"] = "async"


def missing_type(body: dict[str, Any], params: dict[str, Any]) -> None:
    body.setdefault("request_type", "async")


def stringify_prompt(body: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("prompt") == 12345:  # the probe's number, not Hypothesis' wrong types
        params["prompt"] = f"number {params['prompt']}"


def malformed_500(_: Rewrite, req: Req) -> Req | Resp:
    if req.is_submit and req.json is None:
        return Resp.error(500, "Internal server error")
    return req


def unknown_task(_: Rewrite, req: Req) -> Req | Resp:
    task_id = req.query.get("taskId", "")
    if req.is_status and "never_issued" in task_id:
        return Resp(200, {}, b"").with_json({"code": 200, "message": "success", "data": {
            "taskId": task_id, "state": "processing", "createTime": int(time.time() * 1000)}})
    return req


def count(target: Rewrite, key: str) -> int:
    target.memory[key] = target.memory.get(key, 0) + 1
    return int(target.memory[key])


def drifting_create(target: Rewrite, data: dict[str, Any]) -> None:
    if isinstance(data.get("createTime"), int):
        data["createTime"] += count(target, data["taskId"] + ":c")


def never_finishes(target: Rewrite, data: dict[str, Any]) -> None:
    if data.get("state") in ("success", "failed"):
        for name in ("resultJson", "failCode", "failMsg", "completeTime", "costTime"):
            data.pop(name, None)
        data["state"] = "processing"


def image_as_text(_: Rewrite, req: Req, resp: Resp) -> Resp:
    if req.path.startswith("/output/") and resp.status == 200:
        resp.headers["Content-Type"] = "text/plain"
    return resp


def mutate_callback(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutation(method: str, body: Any) -> tuple[str, bytes]:
        if isinstance(body, dict):
            change(body)
        return method, json.dumps(body).encode()
    return mutation


def set_field(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        node = body
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        if value is DROP:
            node.pop(last, None)
        else:
            node[last] = value(node.get(last)) if callable(value) else value
    return change


DROP = object()


def no_header(header: str | None) -> bool:
    return not header


def malformed(header: str | None) -> bool:
    return bool(header) and (str(header).startswith("Basic ") or str(header).strip() == "Bearer")


def bogus(header: str | None) -> bool:
    return "bogus" in (header or "")


def not_an_existing_task(req: Req) -> bool:
    """Submissions, and status queries for the made-up ids of the auth probes."""
    return req.is_submit or "task_contract_unknown" in req.query.get("taskId", "")


def status_only(req: Req) -> bool:
    return req.is_status


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
    """Answer pending for the second processing answer of a task."""
    if data.get("state") == "processing" and not callback_task(target, data.get("taskId")) \
            and count(target, f"{data.get('taskId')}:p") == 2:
        data["state"] = "pending"


def unknown_task_without_state(_: Rewrite, req: Req) -> Req | Resp:
    task_id = req.query.get("taskId", "")
    if req.is_status and "never_issued" in task_id:
        return Resp(200, {}, b"").with_json({"code": 200, "message": "success",
                                             "data": {"taskId": task_id}})
    return req


def server_error_when(when: Callable[[dict[str, Any], dict[str, Any]], bool]) -> RequestRule:
    def rule(_: Rewrite, req: Req) -> Req | Resp:
        body = req.json
        if req.is_submit and isinstance(body, dict) and when(body, submit_input(req)):
            return Resp.error(500, "Internal server error")
        return req
    return rule


def success_as_text(_: Rewrite, req: Req, resp: Resp) -> Resp:
    if req.path.startswith("/api/") and resp.status == 200:
        resp.headers["Content-Type"] = "text/plain; charset=utf-8"
    return resp


def errors_html_labelled_json(_: Rewrite, req: Req, resp: Resp) -> Resp:
    if resp.status >= 400:
        return Resp(resp.status, {"Content-Type": "application/json"}, b"<h1>Error</h1>")
    return resp


def status_message(word: str) -> ResponseRule:
    def rule(_: Rewrite, req: Req, resp: Resp) -> Resp:
        body = resp.json
        if req.is_status and resp.status == 200 and isinstance(body, dict):
            return resp.with_json({**body, "message": word})
        return resp
    return rule


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
        if time.monotonic() - float(target.memory[key]) < 0.5:
            return edit_data(resp, _as_processing)
    return resp


def _as_processing(data: dict[str, Any]) -> None:
    for name in ("resultJson", "failCode", "failMsg", "completeTime", "costTime"):
        data.pop(name, None)
    data["state"] = "processing"
