"""Rewrites and callback mutations that break one promise each (used by breakages.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from contract_tests.payloads import ascii_prompt, multibyte_prompt

from .relay import Mutation
from .wsgi_target import Req, Resp, Rewrite, edit_data

KEY = "flux2-mock-key"
RequestRule = Callable[[Rewrite, Req], "Req | Resp"]
ResponseRule = Callable[[Rewrite, Req, Resp], Resp]


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
