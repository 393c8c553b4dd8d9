"""Targets that follow the docs differently from our mock pass the whole suite."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .breakages import Breakage
from .conftest import broken_target, failed, run_suite
from .rules import mutate_callback
from .wsgi_target import Req, Resp, Rewrite

pytestmark = pytest.mark.slow  # the whole suite against other legal readings


def _public_id(task_id: str) -> str:
    return "job-" + task_id.removeprefix("task_")[::-1].upper()


def _own_id(public: str) -> str:
    return "task_" + public.removeprefix("job-")[::-1].lower()


def _ids_in(req: Req) -> Req:
    if req.is_status and req.query.get("taskId", "").startswith("job-"):
        req.query["taskId"] = _own_id(req.query["taskId"])
    return req


def _other_envelope(resp: Resp) -> Resp:
    """Other ids, extra fields, another field order, another success message."""
    body = resp.json
    if not isinstance(body, dict):
        return resp
    data = body.get("data")
    if isinstance(data, dict):
        if isinstance(data.get("taskId"), str):
            data["taskId"] = _public_id(data["taskId"])
        data["model"] = "flux-2"
        body["data"] = dict(reversed(list(data.items())))
    if body.get("code") == 200:
        body["message"] = "OK"
    body["requestId"] = "req-123"
    return resp.with_json(dict(reversed(list(body.items()))))


def _callback_ids(body: dict[str, Any]) -> None:
    data = body.get("data")
    if isinstance(data, dict) and isinstance(data.get("taskId"), str):
        data["taskId"] = _public_id(data["taskId"])


def _twice(method: str, body: Any) -> list[tuple[str, bytes]]:
    """Deliver every callback twice ('Deliveries can repeat')."""
    return [(method, json.dumps(body).encode())] * 2


ERRORS_AS_200 = Breakage(
    on_request=lambda target, req: _ids_in(req),
    on_response=lambda target, req, resp: _other_envelope(resp)
    if req.path.startswith("/api/") else resp,
    settings={"error_status": "200", "pending_ms": 0},
    callback=mutate_callback(_callback_ids),
)


def _unprocessable(target: Rewrite, req: Req, resp: Resp) -> Resp:
    """Input errors as 422 with other words and no data; 401 as a bare envelope."""
    if resp.status == 400:
        return Resp(422, {}, b"").with_json({"code": 422, "message": "Unprocessable Entity"})
    if resp.status == 401:
        return Resp(401, {}, b"").with_json({"code": 401, "message": "Unauthorized"})
    return resp


OTHER_ERRORS = Breakage(
    on_response=_unprocessable,
    settings={"failure_callback_envelope": "webhooks", "fail_code_vocabulary": "current"},
    callback=_twice,
    options={"failure_callback_envelope": "webhooks", "fail_codes": "documented",
             "hypothesis_profile": "live"},
)


def test_errors_as_http_200_no_pending_other_ids_and_extra_fields_pass() -> None:
    # "OK" for "success" is the reading --success-message any; the default reads the examples.
    with broken_target(ERRORS_AS_200) as url:
        result = run_suite(url, hypothesis_profile="live", success_message="any")
    assert failed(result) == {}
    assert not result.errors
    seen = {o.check.name: o.passed for o in result.outcomes}
    assert seen["auth_missing_rejected"] and seen["callback_task_id"]


def test_422_other_messages_and_the_webhooks_failure_envelope_pass() -> None:
    with broken_target(OTHER_ERRORS) as url:
        result = run_suite(url, **OTHER_ERRORS.options)
    assert failed(result) == {}
    assert not result.errors
    outcomes = {o.check.name: o for o in result.outcomes}
    assert outcomes["callback_failure_envelope"].status == "passed"
    assert outcomes["callback_is_post_json"].passed == 2  # both tasks' (repeated) callbacks


def test_429_with_retry_after_is_waited_out_not_judged() -> None:
    seen: list[int] = []

    def every_third_limited(target: Rewrite, req: Req) -> Req | Resp:
        seen.append(1)
        if len(seen) % 3 == 0:
            limited = Resp(429, {}, b"").with_json({"code": 429, "message": "Too many requests"})
            limited.headers["Retry-After"] = "0"
            return limited
        return req

    with broken_target(Breakage(on_request=every_third_limited)) as url:
        result = run_suite(url, select=("auth", "prompt_length", "enum_near"))
    assert failed(result) == {}
    assert all(o.status == "passed" for o in result.outcomes)
