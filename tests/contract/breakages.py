"""For every check, a target that breaks exactly that promise (and the suite options to run)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from .relay import Mutation
from .wsgi_target import Req, Resp, Rewrite, data_of, edit_data

KEY = "flux2-mock-key"
RequestRule = Callable[[Rewrite, Req], "Req | Resp"]
ResponseRule = Callable[[Rewrite, Req, Resp], Resp]


@dataclass(frozen=True)
class Breakage:
    """How to break one promise: rewrites, mock settings, a callback mutation, suite options."""

    on_request: RequestRule | None = None
    on_response: ResponseRule | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    callback: Mutation | None = None
    options: dict[str, Any] = field(default_factory=dict)
    also: tuple[str, ...] = ()  # checks to run beside it (traffic for exchange checks)


def _input(req: Req) -> dict[str, Any]:
    body = req.json
    params = body.get("input") if isinstance(body, dict) else None
    return params if isinstance(params, dict) else {}


def _fix_auth(kinds: Callable[[str | None], bool], where: Callable[[Req], bool]) -> RequestRule:
    def rule(_: Rewrite, req: Req) -> Req:
        if where(req) and kinds(req.headers.get("Authorization")):
            req.headers["Authorization"] = f"Bearer {KEY}"
        return req
    return rule


def _on_submit_input(change: Callable[[dict[str, Any], dict[str, Any]], None]) -> RequestRule:
    """Let `change(body, input)` edit every submission's JSON before the mock sees it."""
    def rule(_: Rewrite, req: Req) -> Req:
        body = req.json
        if req.is_submit and isinstance(body, dict):
            params = body.get("input")
            change(body, params if isinstance(params, dict) else {})
            req.with_json(body)
        return req
    return rule


def _reject_submit(when: Callable[[dict[str, Any], dict[str, Any]], bool]) -> RequestRule:
    def rule(_: Rewrite, req: Req) -> Req | Resp:
        body = req.json
        if req.is_submit and isinstance(body, dict) and when(body, _input(req)):
            return Resp.error(400, "Invalid request")
        return req
    return rule


def _status_data(change: Callable[[Rewrite, dict[str, Any]], None]) -> ResponseRule:
    def rule(target: Rewrite, req: Req, resp: Resp) -> Resp:
        if req.is_status and resp.status == 200:
            return edit_data(resp, lambda data: change(target, data))
        return resp
    return rule


def _errors(change: Callable[[Resp], Resp]) -> ResponseRule:
    def rule(_: Rewrite, req: Req, resp: Resp) -> Resp:
        return change(resp) if resp.status >= 400 else resp
    return rule


def _pad_prompt(body: dict[str, Any], params: dict[str, Any]) -> None:
    prompt = params.get("prompt")
    if isinstance(prompt, str) and len(prompt) == 2:
        params["prompt"] = prompt + "!"


def _nine_to_eight(body: dict[str, Any], params: dict[str, Any]) -> None:
    if isinstance(params.get("image_urls"), list):
        params["image_urls"] = params["image_urls"][:8]


def _near_miss(body: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("resolution") == "4K":
        params["resolution"] = "2K"


def _callback_to_async(body: dict[str, Any], params: dict[str, Any]) -> None:
    if body.get("request_type") == "callback" and "callback_url" not in body:
        body["request_type"] = "async"


def _missing_type(body: dict[str, Any], params: dict[str, Any]) -> None:
    body.setdefault("request_type", "async")


def _stringify_prompt(body: dict[str, Any], params: dict[str, Any]) -> None:
    if isinstance(params.get("prompt"), int):
        params["prompt"] = f"number {params['prompt']}"


def _malformed_500(_: Rewrite, req: Req) -> Req | Resp:
    if req.is_submit and req.json is None:
        return Resp.error(500, "Internal server error")
    return req


def _unknown_task(_: Rewrite, req: Req) -> Req | Resp:
    task_id = req.query.get("taskId", "")
    if req.is_status and "never_issued" in task_id:
        return Resp(200, {}, b"").with_json({"code": 200, "message": "success", "data": {
            "taskId": task_id, "state": "processing", "createTime": int(time.time() * 1000)}})
    return req


def _count(target: Rewrite, key: str) -> int:
    target.memory[key] = target.memory.get(key, 0) + 1
    return int(target.memory[key])


def _backwards(target: Rewrite, data: dict[str, Any]) -> None:
    """Answer `processing` again after `success` (every task is seen in success twice)."""
    if data.get("state") == "success" and _count(target, data["taskId"] + ":s") >= 2:
        for name in ("resultJson", "completeTime", "costTime"):
            data.pop(name, None)
        data["state"] = "processing"


def _terminal_flip(target: Rewrite, data: dict[str, Any]) -> None:
    if data.get("state") == "success" and _count(target, data["taskId"] + ":s") >= 2:
        data.pop("resultJson", None)
        data.update(state="failed", failCode="GENERATION_FAILED", failMsg="Generation failed")


def _drifting_create(target: Rewrite, data: dict[str, Any]) -> None:
    if isinstance(data.get("createTime"), int):
        data["createTime"] += _count(target, data["taskId"] + ":c")


def _never_finishes(target: Rewrite, data: dict[str, Any]) -> None:
    if data.get("state") in ("success", "failed"):
        for name in ("resultJson", "failCode", "failMsg", "completeTime", "costTime"):
            data.pop(name, None)
        data["state"] = "processing"


def _image_as_text(_: Rewrite, req: Req, resp: Resp) -> Resp:
    if req.path.startswith("/output/") and resp.status == 200:
        resp.headers["Content-Type"] = "text/plain"
    return resp


def _early_callback(target: Rewrite, req: Req) -> Req:
    """Send a finished-looking callback as soon as a callback task is submitted."""
    body = req.json
    if req.is_submit and isinstance(body, dict) and body.get("request_type") == "callback":
        scenario = req.headers.get("X-Mock-Scenario")
        req.headers["X-Mock-Scenario"] = "; ".join(filter(None, [scenario, "processing=1500"]))
        url = str(body.get("callback_url"))

        def fire() -> None:
            time.sleep(0.3)
            task_id = target.memory.get(url)
            now = int(time.time() * 1000)
            requests.post(url, timeout=5, json={"code": 200, "message": "success", "data": {
                "taskId": task_id, "state": "success", "resultJson": json.dumps(
                    {"resultUrls": ["http://127.0.0.1:9/x.jpg"]}),
                "completeTime": now, "createTime": now - 300, "costTime": 300}})

        threading.Thread(target=fire, daemon=True).start()
    return req


def _remember_task(target: Rewrite, req: Req, resp: Resp) -> Resp:
    data, body = data_of(resp), req.json
    if req.is_submit and data and isinstance(body, dict):
        target.memory[str(body.get("callback_url"))] = data.get("taskId")
    return resp


def _mutate_callback(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutation(method: str, body: Any) -> tuple[str, bytes]:
        if isinstance(body, dict):
            change(body)
        return method, json.dumps(body).encode()
    return mutation


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        node = body
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        if value is _DROP:
            node.pop(last, None)
        else:
            node[last] = value(node.get(last)) if callable(value) else value
    return change


_DROP = object()


def no_header(header: str | None) -> bool:
    return not header


def malformed(header: str | None) -> bool:
    return bool(header) and (str(header).startswith("Basic ") or str(header).strip() == "Bearer")


def bogus(header: str | None) -> bool:
    return "bogus" in (header or "")


def anywhere(req: Req) -> bool:
    return True


def status_only(req: Req) -> bool:
    return req.is_status

BREAKAGES: dict[str, Breakage] = {
    "auth_missing_rejected": Breakage(_fix_auth(no_header, anywhere)),
    "auth_malformed_rejected": Breakage(_fix_auth(malformed, anywhere)),
    "auth_bogus_key_rejected": Breakage(_fix_auth(bogus, anywhere)),
    "status_requires_auth": Breakage(_fix_auth(lambda h: h != f"Bearer {KEY}", status_only)),
    "api_key_accepted": Breakage(on_response=lambda t, req, resp: Resp.error(401, "nope")
                                 if req.is_status and resp.status == 200 else resp),
    "answers_are_json": Breakage(on_response=_errors(
        lambda r: Resp(r.status, {"Content-Type": "text/html"}, b"<h1>Error</h1>")),
        also=("auth_missing_rejected",)),
    "envelope_fields_typed": Breakage(on_response=_errors(
        lambda r: r.with_json({k: v for k, v in (r.json or {}).items() if k != "message"})),
        also=("auth_missing_rejected",)),
    "code_is_http_status": Breakage(on_response=_errors(
        lambda r: r.with_json({**(r.json or {}), "code": 1000 + r.status})),
        also=("auth_missing_rejected",)),
    "submit_answer": Breakage(on_response=lambda t, req, resp: resp.with_json(
        {**resp.json, "message": 1}) if req.is_submit and resp.status == 200 else resp),
    "quickstart_examples_accepted": Breakage(_reject_submit(
        lambda b, i: i.get("prompt") == "Transform into a watercolor painting style")),
    "prompt_length_bounds_rejected": Breakage(_on_submit_input(_pad_prompt)),
    "prompt_length_bounds_accepted": Breakage(_reject_submit(
        lambda b, i: len(str(i.get("prompt", "")).encode()) > 5000)),
    "image_urls_over_max_rejected": Breakage(_on_submit_input(_nine_to_eight)),
    "image_urls_max_accepted": Breakage(_reject_submit(
        lambda b, i: len(i.get("image_urls") or []) > 7)),
    "enum_near_misses_rejected": Breakage(_on_submit_input(_near_miss)),
    "enum_members_accepted": Breakage(_reject_submit(lambda b, i: i.get("aspect_ratio") == "auto")),
    "callback_without_url_rejected": Breakage(_on_submit_input(_callback_to_async)),
    "required_fields_rejected_when_missing": Breakage(_on_submit_input(_missing_type)),
    "field_types_enforced": Breakage(_on_submit_input(_stringify_prompt)),
    "malformed_body_rejected": Breakage(_malformed_500),
    "omitted_fields_reading": Breakage(options={"omitted_fields": "reject"}),
    "i2i_image_urls_reading": Breakage(options={"i2i_image_urls": "optional"}),
    "unknown_task_not_reported": Breakage(_unknown_task),
    "valid_requests_accepted": Breakage(
        _reject_submit(lambda b, i: len(str(i.get("prompt", ""))) < 12),
        options={"hypothesis_profile": "dev"}),
    "invalid_requests_rejected": Breakage(_on_submit_input(_missing_type),
                                          options={"hypothesis_profile": "dev"}),
    "status_answers_task": Breakage(on_response=lambda t, req, resp: resp.with_json(
        {**resp.json, "data": None}) if req.is_status and resp.status == 200 else resp,
        options={"task_timeout": 1.0}),
    "state_documented": Breakage(on_response=_status_data(
        lambda t, d: d.update(state="completed") if d.get("state") == "success" else None),
        options={"task_timeout": 1.5}),
    "status_fields_typed": Breakage(on_response=_status_data(
        lambda t, d: d.update(createTime=str(d.get("createTime"))))),
    "task_id_echoed": Breakage(on_response=_status_data(
        lambda t, d: d.update(taskId=str(d.get("taskId")).upper()))),
    "state_only_forward": Breakage(on_response=_status_data(_backwards)),
    "terminal_state_final": Breakage(on_response=_status_data(_terminal_flip)),
    "create_time_stable": Breakage(on_response=_status_data(_drifting_create)),
    "create_time_epoch_ms": Breakage(on_response=_status_data(
        lambda t, d: d.update(createTime=d["createTime"] // 1000) if "createTime" in d
        else None)),
    "complete_time_not_before_create": Breakage(on_response=_status_data(
        lambda t, d: d.update(completeTime=d["createTime"] - 1000) if "completeTime" in d
        else None)),
    "cost_time_non_negative": Breakage(on_response=_status_data(
        lambda t, d: d.update(costTime=-5) if "costTime" in d else None)),
    "finishes_within_limit": Breakage(on_response=_status_data(_never_finishes),
                                      options={"task_timeout": 1.5}),
    "success_result_json": Breakage(on_response=_status_data(
        lambda t, d: d.update(resultJson='{"resultUrls": []}') if "resultJson" in d
        else None)),
    "result_urls_serve_images": Breakage(on_response=_image_as_text),
    "failed_has_code_and_message": Breakage(on_response=_status_data(
        lambda t, d: d.pop("failMsg", None))),
    "fail_code_vocabulary": Breakage(on_response=_status_data(
        lambda t, d: d.update(failCode="content_violation") if "failCode" in d else None)),
    "callback_mode_accepted": Breakage(_reject_submit(
        lambda b, i: b.get("request_type") == "callback")),
    "callback_delivered": Breakage(callback=lambda method, body: None,
                                   options={"callback_wait": 1.0}),
    "callback_is_post_json": Breakage(callback=lambda method, body: ("POST", b"state=success")),
    "callback_success_envelope": Breakage(callback=_mutate_callback(
        lambda b: b.update(message="ok") if b["data"]["state"] == "success" else None)),
    "callback_failure_envelope": Breakage(settings={"failure_callback_envelope": "webhooks"}),
    "callback_task_id": Breakage(callback=_mutate_callback(_set("data.taskId", "task_other"))),
    "callback_terminal_state": Breakage(callback=_mutate_callback(
        _set("data.state", "processing"))),
    "callback_after_completion": Breakage(_early_callback, _remember_task),
    "callback_agrees_with_status": Breakage(callback=_mutate_callback(
        _set("data.createTime", lambda v: v + 7))),
}
