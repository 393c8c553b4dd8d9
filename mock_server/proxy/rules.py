"""The upstream's documented promises, named as the contract suite names its checks.

Each rule is data: its name, the section of the Flux-2 page, and the sentence it
rests on. `judge.py` holds the small function that checks each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

On = Literal["exchange", "submit", "poll", "callback"]
STATE = "data.state | string | Task state: pending, processing, success, failed"


@dataclass(frozen=True)
class UpstreamRule:
    """One promise of the documentation about what the API answers."""

    name: str
    on: On
    section: str
    doc: str


RULES: tuple[UpstreamRule, ...] = (
    UpstreamRule("answers_are_json", "exchange", "Response Format",
                 'Response Format: every answer is a JSON object such as {"code": 200, '
                 '"message": "success", "data": {...}}'),
    UpstreamRule("envelope_fields_typed", "exchange", "Response Format",
                 "code | integer | HTTP status code (200 = success); every answer carries "
                 "code, message and data"),
    UpstreamRule("code_is_http_status", "exchange", "Response Format",
                 "code | integer | HTTP status code (200 = success)"),
    UpstreamRule("submit_answer", "submit", "Task Submission Response",
                 'Task Submission Response: {"code": 200, "message": "success", '
                 '"data": {"taskId": "task_12345678"}}'),
    UpstreamRule("state_documented", "poll", "Status Query Response", STATE),
    UpstreamRule("status_fields_typed", "poll", "Status Query Response",
                 "Status Query Response: processing {taskId, state, createTime}; success "
                 "{taskId, state, resultJson, costTime, createTime, completeTime}; failed "
                 "{taskId, state, failCode, failMsg, createTime, completeTime} (field types "
                 "per Response Fields)"),
    UpstreamRule("task_id_echoed", "poll", "Status Query Response",
                 "data.taskId | string | Unique task identifier"),
    UpstreamRule("state_only_forward", "poll", "Status Query Response",
                 STATE + " (a task moves forward: pending, processing, then success or "
                 "failed)"),
    UpstreamRule("terminal_state_final", "poll", "Status Query Response",
                 "Status Query Response: Success ... Failed (a completed task stays "
                 "completed)"),
    UpstreamRule("create_time_stable", "poll", "Status Query Response",
                 '"createTime": 1698765400000 (the same in every answer about a task)'),
    UpstreamRule("create_time_epoch_ms", "poll", "Status Query Response",
                 '"createTime": 1698765400000 (epoch milliseconds)'),
    UpstreamRule("complete_time_not_before_create", "poll", "Status Query Response",
                 '"createTime": 1698765400000, "completeTime": 1698765412000 (completion '
                 "follows creation)"),
    UpstreamRule("cost_time_non_negative", "poll", "Response Fields",
                 "data.costTime | integer | Generation time in milliseconds"),
    UpstreamRule("success_result_json", "poll", "Response Fields",
                 "data.resultJson | string | JSON string with resultUrls array (on success)"),
    UpstreamRule("failed_has_code_and_message", "poll", "Response Fields",
                 "data.failCode | string | Error code (on failure); data.failMsg | string | "
                 "Error message (on failure)"),
    UpstreamRule("finishes_within_limit", "poll", "Performance Tips",
                 "Timeout: Set maximum wait time to 3 minutes"),
    UpstreamRule("callback_is_post_json", "callback", "Callback Response",
                 "When the task is completed, the system will send a POST request to your "
                 "callBackUrl in the following format"),
    UpstreamRule("callback_success_envelope", "callback", "Callback Response",
                 'Success Callback: {"code": 200, "message": "success", "data": {taskId, '
                 "state, resultJson, completeTime, createTime, costTime}}"),
    UpstreamRule("callback_failure_envelope", "callback", "Callback Response",
                 'Failure Callback: {"code": 400, "message": "failed", "data": {taskId, '
                 "state, failCode, failMsg, completeTime, createTime, costTime}} (or "
                 "200/success with failure_callback_envelope = webhooks)"),
    UpstreamRule("callback_task_id", "callback", "Callback Response",
                 '"data": {"taskId": "task_12345678", ...} (the task the callback is about)'),
    UpstreamRule("callback_terminal_state", "callback", "Callback Response",
                 "When the task is completed, the system will send a POST request to your "
                 'callBackUrl ("state": "success" or "state": "failed")'),
    UpstreamRule("callback_agrees_with_status", "callback", "Callback Response",
                 "Callback Response: the same data as the Status Query Response of the task"),
)
BY_NAME = {rule.name: rule for rule in RULES}


def rules_on(*kinds: On) -> list[str]:
    """Names of the rules checked on these kinds of traffic."""
    return [rule.name for rule in RULES if rule.on in kinds]
