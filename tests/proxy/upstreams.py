"""Deliberately broken upstreams: small WSGI fakes of the API, each breaking one promise.

A fake answers submits with a fresh task id and each status poll of a task with the next
data object of its script (the last one repeats). With a `callback`, it POSTs that payload
to the task's callback_url (always the proxy's relay on loopback in these tests).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

Data = dict[str, Any]
Step = Callable[[str, int], Any]  # (taskId, createTime) -> the data object (or raw body)
RESULT = json.dumps({"resultUrls": ["http://127.0.0.1:9/output/result.jpg"]})


def processing(task_id: str, created: int) -> Data:
    return {"taskId": task_id, "state": "processing", "createTime": created}


def success(task_id: str, created: int) -> Data:
    return {"taskId": task_id, "state": "success", "resultJson": RESULT, "costTime": 1000,
            "createTime": created, "completeTime": created + 1000}


def failed(task_id: str, created: int) -> Data:
    return {"taskId": task_id, "state": "failed", "failCode": "CONTENT_VIOLATION",
            "failMsg": "Content does not meet safety guidelines", "createTime": created,
            "completeTime": created + 1000, "costTime": 1000}


def edited(base: Step, **changes: Any) -> Step:
    """`base` with fields changed (a value of None removes the field)."""
    def step(task_id: str, created: int) -> Data:
        data = base(task_id, created)
        for name, value in changes.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value(task_id, created) if callable(value) else value
        return data
    return step


def envelope(data: Data, code: int = 200, message: str = "success") -> Data:
    return {"code": code, "message": message, "data": data}


@dataclass
class Breakage:
    """One broken promise: the fake's script and the rule the proxy must report."""

    name: str
    rule: str
    polls: list[Step] = field(default_factory=lambda: [processing, success])
    callback: Callable[[str, int], Any] | None = None
    submit: Callable[[str], tuple[int, Any]] | None = None
    also: frozenset[str] = frozenset()  # other rules the same breach may break

    def __str__(self) -> str:
        return self.name


class FakeUpstream:
    """The API as a script: submit, then status answers in order; optional callback."""

    def __init__(self, breakage: Breakage, callback_delay_s: float = 0.3) -> None:
        self.breakage = breakage
        self.callback_delay_s = callback_delay_s
        self.tasks: dict[str, tuple[int, int]] = {}  # taskId -> (createTime, polls so far)
        self.submits = 0
        self.callbacks_sent: list[int] = []
        self.callback_payloads: list[Any] = []
        self.called_back = threading.Event()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "POST" and request.path == "/api/v1/generateTask/flux-2":
            response = self._submit(request)
        elif request.method == "GET" and request.path == "/api/v1/statusTask/flux-2":
            response = self._status(request.args.get("taskId", ""))
        else:
            response = _json({"code": 404, "message": "Not found"}, 404)
        return response(environ, start_response)

    def _submit(self, request: Request) -> Response:
        with self._lock:
            self.submits += 1
            task_id = f"task_{next(self._ids):08x}"
            created = time.time_ns() // 1_000_000
            self.tasks[task_id] = (created, 0)
        body = request.get_json(silent=True) or {}
        url = body.get("callback_url")
        if self.breakage.callback is not None and isinstance(url, str):
            payload = self.breakage.callback(task_id, created)
            self.callback_payloads.append(payload)
            threading.Thread(target=self._call_back, args=(url, payload), daemon=True).start()
        if self.breakage.submit is not None:
            status, answer = self.breakage.submit(task_id)
            return _json(answer, status)
        return _json(envelope({"taskId": task_id}))

    def _status(self, task_id: str) -> Response:
        with self._lock:
            if task_id not in self.tasks:
                return _json({"code": 404, "message": "Task not found"}, 404)
            created, polls = self.tasks[task_id]
            self.tasks[task_id] = (created, polls + 1)
        script = self.breakage.polls
        data = script[min(polls, len(script) - 1)](task_id, created)
        if isinstance(data, bytes):
            return Response(data, status=200, mimetype="text/html")
        return _json(envelope(data))

    def _call_back(self, url: str, payload: Any) -> None:
        assert url.startswith("http://127.0.0.1:"), url  # tests never leave loopback
        time.sleep(self.callback_delay_s)
        answer = requests.post(url, data=json.dumps(payload), timeout=10,
                               headers={"Content-Type": "application/json"})
        self.callbacks_sent.append(answer.status_code)
        self.called_back.set()


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


def callback_of(step: Step, code: int = 200, message: str = "success") -> Callable[[str, int],
                                                                                   Any]:
    return lambda task_id, created: envelope(step(task_id, created), code, message)


SHAPE = frozenset({"status_fields_typed"})
BREAKAGES = [
    Breakage("state moves back", "state_only_forward", [processing, success, processing],
             also=frozenset({"terminal_state_final"})),
    Breakage("resultJson an object", "success_result_json",
             [processing, edited(success, resultJson={"resultUrls": ["http://127.0.0.1:9/r.jpg"]})],
             also=SHAPE),
    Breakage("failure without failCode", "failed_has_code_and_message",
             [processing, edited(failed, failCode=None)], also=SHAPE),
    Breakage("finished task changes its outcome", "terminal_state_final",
             [processing, success, failed]),
    Breakage("createTime changes", "create_time_stable",
             [processing, edited(success, createTime=lambda t, c: c + 5000,
                                 completeTime=lambda t, c: c + 6000)]),
    Breakage("createTime in seconds", "create_time_epoch_ms",
             [edited(processing, createTime=lambda t, c: c // 1000),
              edited(success, createTime=lambda t, c: c // 1000,
                     completeTime=lambda t, c: c // 1000 + 1)]),
    Breakage("completeTime before createTime", "complete_time_not_before_create",
             [processing, edited(success, completeTime=lambda t, c: c - 1000)]),
    Breakage("negative costTime", "cost_time_non_negative",
             [processing, edited(success, costTime=-5)], also=SHAPE),
    Breakage("an undocumented state", "state_documented", [edited(processing, state="queued")],
             also=SHAPE),
    Breakage("another task's id", "task_id_echoed",
             [edited(processing, taskId="task_somebody_else")]),
    Breakage("an HTML status page", "answers_are_json", [lambda t, c: b"<html>busy</html>"]),
    Breakage("code 200 with HTTP 202", "code_is_http_status",
             submit=lambda task_id: (202, envelope({"taskId": task_id}))),
    Breakage("submit answer without taskId", "submit_answer",
             submit=lambda task_id: (200, envelope({"id": task_id}))),
    Breakage("a wrong success callback envelope", "callback_success_envelope",
             [processing], callback=callback_of(edited(success, resultJson=None))),
    Breakage("a failure callback as success", "callback_failure_envelope",
             [processing], callback=callback_of(failed, 200, "success")),
    Breakage("a callback before completion", "callback_terminal_state",
             [processing], callback=callback_of(processing)),
    Breakage("a callback about another task", "callback_task_id",
             [processing], callback=callback_of(edited(success, taskId="task_other"))),
    Breakage("a callback that contradicts the status", "callback_agrees_with_status",
             [success], callback=callback_of(edited(success, completeTime=lambda t, c: c + 7))),
]
