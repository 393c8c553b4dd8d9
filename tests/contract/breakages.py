"""For every check, a target that breaks exactly that promise (and the suite options to run)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from contract_tests.payloads import QUICKSTART_PROMPT, ascii_prompt, multibyte_prompt

from . import lifecycle_rules as lr
from . import rules as r
from .relay import Mutation
from .rules import KEY, RequestRule, ResponseRule

__all__ = ["BREAKAGES", "DEADLINE_OPTIONS", "KEY", "VARIANTS", "Breakage"]


@dataclass(frozen=True)
class Breakage:
    """How to break one promise: rewrites, mock settings, a callback mutation, suite options."""

    on_request: RequestRule | None = None
    on_response: ResponseRule | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    callback: Mutation | None = None
    callback_content_type: str = "application/json"
    options: dict[str, Any] = field(default_factory=dict)


def _ours(change: Any) -> Any:
    """Apply a submission change only to the suite's own probes (the Quick Start prompt),
    not to Hypothesis' generated requests."""
    def rule(body: dict[str, Any], params: dict[str, Any]) -> None:
        if params.get("prompt") == QUICKSTART_PROMPT:
            change(body, params)
    return rule


def _status(change: Any) -> ResponseRule:
    """Change the data of status answers, leaving callback-mode tasks alone (their callbacks
    are compared with the status: the change would break that promise too)."""
    def apply(target: Any, data: dict[str, Any]) -> None:
        if not lr.callback_task(target, data.get("taskId")):
            change(target, data)
    return lr.remember_callback_tasks(r.status_data(apply))


SHORTEST = (ascii_prompt(3), multibyte_prompt(3))  # prompt_length_bounds_accepted's
# Options that shorten a deadline: only the two promises that are about a deadline use them.
DEADLINE_OPTIONS = ("task_timeout", "callback_wait")

BREAKAGES: dict[str, Breakage] = {
    "auth_missing_rejected": Breakage(r.fix_auth(r.no_header, r.not_an_existing_task)),
    "auth_malformed_rejected": Breakage(r.fix_auth(r.malformed, r.not_an_existing_task)),
    "auth_bogus_key_rejected": Breakage(r.fix_auth(r.bogus, r.not_an_existing_task)),
    "status_requires_auth": Breakage(r.fix_auth(lambda h: h != f"Bearer {KEY}", r.status_only)),
    "api_key_accepted": Breakage(on_response=lr.refuse_first_status_of_reference),
    "answers_are_json": Breakage(on_response=r.errors_html_labelled_json),
    "answers_content_type_json": Breakage(on_response=r.success_as_text),
    "envelope_fields_typed": Breakage(on_response=r.errors(
        lambda x: x.with_json({k: v for k, v in (x.json or {}).items() if k != "message"}))),
    "code_is_http_status": Breakage(on_response=r.errors(
        lambda x: x.with_json({**(x.json or {}), "code": 1000 + x.status}))),
    "message_as_documented": Breakage(on_response=r.status_message("OK")),
    "submit_answer": Breakage(on_response=lr.reference_answer(
        lambda body: body["data"].update(taskId=12345678))),
    "quickstart_examples_accepted": Breakage(r.reject_submit(
        lambda b, i: i.get("prompt") == "Transform into a watercolor painting style")),
    "prompt_length_bounds_rejected": Breakage(r.on_submit_input(r.pad_prompt)),
    "prompt_length_bounds_accepted": Breakage(r.reject_submit(
        lambda b, i: i.get("prompt") == multibyte_prompt(5000))),
    "image_urls_over_max_rejected": Breakage(r.on_submit_input(r.nine_to_eight)),
    "image_urls_max_accepted": Breakage(r.reject_submit(
        lambda b, i: isinstance(i.get("image_urls"), list)
        and str(i["image_urls"][-1:]).endswith("?n=7']"))),
    "enum_near_misses_rejected": Breakage(r.on_submit_input(r.near_miss)),
    "enum_members_accepted": Breakage(r.reject_submit(
        lambda b, i: i.get("aspect_ratio") == "2:3" and i.get("prompt") == QUICKSTART_PROMPT)),
    "callback_without_url_rejected": Breakage(r.on_submit_input(_ours(r.callback_to_async))),
    "required_fields_rejected_when_missing": Breakage(r.on_submit_input(
        _ours(r.missing_type))),
    "field_types_enforced": Breakage(r.on_submit_input(r.stringify_prompt)),
    "malformed_body_rejected": Breakage(r.malformed_500),
    "omitted_fields_reading": Breakage(r.server_error_when(
        lambda b, i: bool(i) and "resolution" not in i and i.get("prompt") == QUICKSTART_PROMPT)),
    "i2i_image_urls_reading": Breakage(r.server_error_when(
        lambda b, i: "image-to-image" in str(i.get("mode")) and "image_urls" not in i
        and i.get("prompt") == QUICKSTART_PROMPT)),
    "unknown_task_not_reported": Breakage(r.unknown_task),
    "valid_requests_accepted": Breakage(r.reject_submit(
        lambda b, i: len(str(i.get("prompt", ""))) < 12 and i.get("prompt") not in SHORTEST)),
    "invalid_requests_rejected": Breakage(r.on_submit_input(r.cut_generated_long_prompt)),
    "status_answers_task": Breakage(on_response=lr.unknown_after_first_answer),
    "state_documented": Breakage(on_response=_status(
        lambda t, d: d.update(state="completed") if d.get("state") == "success" else None)),
    "status_fields_typed": Breakage(on_response=_status(
        lambda t, d: d.update(completeTime=str(d["completeTime"])) if "completeTime" in d
        else None)),
    "task_id_echoed": Breakage(on_response=r.status_data(
        lambda t, d: d.update(taskId=str(d.get("taskId")).upper()))),
    "state_only_forward": Breakage(lr.slow_processing,
                                   _status(lr.processing_then_pending)),
    "success_stays_final": Breakage(on_response=_status(lr.success_later_failed)),
    "failure_stays_final": Breakage(on_response=_status(lr.failed_later_processing)),
    "example_fields_present": Breakage(on_response=_status(
        lambda t, d: d.pop("createTime", None) if d.get("state") == "processing" else None)),
    "create_time_stable": Breakage(on_response=_status(r.drifting_create)),
    "create_time_epoch_ms": Breakage(on_response=_status(
        lambda t, d: d.update(createTime=d["createTime"] // 1000) if "createTime" in d
        else None)),
    "complete_time_not_before_create": Breakage(on_response=_status(
        lambda t, d: d.update(completeTime=d["createTime"] - 1000) if "completeTime" in d
        else None)),
    "cost_time_non_negative": Breakage(on_response=_status(
        lambda t, d: d.update(costTime=-5) if "costTime" in d else None)),
    "finishes_within_limit": Breakage(on_response=_status(r.never_finishes),
                                      options={"task_timeout": 1.5}),
    "success_result_json": Breakage(on_response=_status(
        lambda t, d: d.update(resultJson='{"resultUrls": []}') if "resultJson" in d
        else None)),
    "result_urls_serve_images": Breakage(on_response=r.image_as_text),
    "failed_has_code_and_message": Breakage(on_response=_status(
        lambda t, d: d.pop("failMsg") if "failMsg" in d else None)),
    "fail_code_vocabulary": Breakage(on_response=_status(
        lambda t, d: d.update(failCode="content_violation") if "failCode" in d else None)),
    "callback_mode_accepted": Breakage(r.reject_submit(
        lambda b, i: b.get("request_type") == "callback")),
    "callback_delivered": Breakage(callback=lambda method, body: None,
                                   options={"callback_wait": 1.0}),
    "callback_is_post_json": Breakage(callback=lambda method, body: ("PUT", json_bytes(body))),
    "callback_content_type_json": Breakage(callback=lambda method, body: (method,
                                                                          json_bytes(body)),
                                           callback_content_type="text/plain"),
    "callback_success_envelope": Breakage(callback=r.mutate_callback(
        lambda b: b["data"].pop("costTime") if b["data"]["state"] == "success" else None)),
    "callback_failure_envelope": Breakage(settings={"failure_callback_envelope": "webhooks"}),
    "callback_task_id": Breakage(callback=r.mutate_callback(
        r.set_field("data.taskId", "task_other"))),
    "callback_terminal_state": Breakage(callback=r.mutate_callback(
        r.set_field("data.state", "processing"))),
    "callback_after_completion": Breakage(on_response=lr.hold_callback_tasks),
    "callback_agrees_with_status": Breakage(callback=r.mutate_callback(
        r.set_field("data.createTime", lambda v: v + 7))),
}

# Further targets for a check that must catch more than one way of breaking its promise.
VARIANTS: dict[str, tuple[str, Breakage]] = {
    "unknown_task_not_reported/no state": ("unknown_task_not_reported",
                                           Breakage(r.unknown_task_without_state)),
    "message_as_documented/success callback": ("message_as_documented", Breakage(
        callback=r.mutate_callback(r.set_field("message", "OK")))),
}


def json_bytes(body: Any) -> bytes:
    return json.dumps(body).encode()
