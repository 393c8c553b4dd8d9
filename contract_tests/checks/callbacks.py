"""Callbacks: 'When the task is completed, the system will send a POST request to your
callBackUrl', checked through a receiver on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flux2_spec.validation import schema_set

from ..context import Context, NotApplicable
from ..receiver import Delivery
from ..registry import CheckFailed, check
from ..tracker import TrackedTask
from .results import result_urls

SECTION = "Callback Response"
WHEN = ("When the task is completed, the system will send a POST request to your callBackUrl "
        "in the following format")
FAILURE_SCHEMAS = {"flux-2": ["callback-failure.json"],
                   "webhooks": ["callback-failure-webhooks.json"],
                   "either": ["callback-failure.json", "callback-failure-webhooks.json"]}
TERMINAL = ("success", "failed")
EARLY_TOLERANCE_MS = {True: 250, False: 5_000}
# taskId is callback_task_id's; a state that is not terminal is callback_terminal_state's.
COMPARED = ("state", "createTime", "completeTime", "costTime", "failCode", "failMsg")


@dataclass
class CallbackCase:
    """A callback-mode task, every request its callback URL received, and its final status."""

    task: TrackedTask
    expected: str
    deliveries: list[Delivery]
    status: dict[str, Any] | None
    waited_s: float


def deliveries_of(case: CallbackCase) -> list[Delivery]:
    if not case.deliveries:
        raise NotApplicable
    return case.deliveries


_deliveries = deliveries_of


def _fail(message: str, delivery: Delivery, case: CallbackCase) -> CheckFailed:
    submitted = case.task.submission
    return CheckFailed(message + "\n" + delivery.describe(), *([submitted] if submitted else []))


@check(on="callback", section=SECTION, needs="callbacks", quote=WHEN)
def callback_delivered(ctx: Context, case: CallbackCase) -> None:
    """A callback arrives for every completed callback-mode task."""
    if not case.deliveries:
        raise CheckFailed(f"no callback arrived for task {case.task.task_id} "
                          f"({case.expected}) within {case.waited_s:.0f} s of its completion")


@check(on="callback", section=SECTION, needs="callbacks", quote=WHEN)
def callback_is_post_json(ctx: Context, case: CallbackCase) -> None:
    """Each callback is a POST whose body is a JSON object (its Content-Type is
    callback_content_type_json's)."""
    for delivery in _deliveries(case):
        if delivery.method != "POST":
            raise _fail(f"the callback came as {delivery.method}, not POST", delivery, case)
        if not isinstance(delivery.json, dict):
            raise _fail("the callback body is not a JSON object", delivery, case)


callback_failure = _fail


def _schema_problems(names: list[str], body: Any) -> list[str]:
    problems: list[str] = []
    for name in names:
        found = schema_set().errors(name, body)
        if not found:
            return []
        problems += [p.message for p in found[:3]]
    return problems


@check(on="callback", section=SECTION, needs="callbacks",
       quote='Success Callback: {"code": 200, "message": "success", "data": {taskId, state, '
             "resultJson, completeTime, createTime, costTime}}")
def callback_success_envelope(ctx: Context, case: CallbackCase) -> None:
    """A success callback has exactly the documented envelope and fields."""
    deliveries = [d for d in _deliveries(case) if isinstance(d.json, dict)
                  and (d.json.get("data") or {}).get("state") == "success"]
    if not deliveries:
        raise NotApplicable
    for delivery in deliveries:
        problems = _schema_problems(["callback-success.json"], delivery.json)
        if problems:
            raise _fail("the success callback does not match the docs: " + "; ".join(problems),
                        delivery, case)


@check(on="callback", section=SECTION, needs="failure-callback",
       quote='Failure Callback: {"code": 400, "message": "failed", "data": {taskId, state, '
             "failCode, failMsg, completeTime, createTime, costTime}} (or 200/success with "
             "--failure-callback-envelope webhooks)")
def callback_failure_envelope(ctx: Context, case: CallbackCase) -> None:
    """A failure callback has the chosen documented envelope and fields."""
    deliveries = [d for d in _deliveries(case) if isinstance(d.json, dict)
                  and (d.json.get("data") or {}).get("state") == "failed"]
    if not deliveries:
        raise NotApplicable
    names = FAILURE_SCHEMAS[ctx.options.failure_callback_envelope]
    for delivery in deliveries:
        problems = _schema_problems(names, delivery.json)
        if problems:
            raise _fail(f"the failure callback does not match the "
                        f"{ctx.options.failure_callback_envelope} reading: "
                        + "; ".join(problems), delivery, case)


def _data(delivery: Delivery) -> dict[str, Any]:
    body = delivery.json
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


@check(on="callback", section=SECTION, needs="callbacks",
       quote='"data": {"taskId": "task_12345678", ...} (the task the callback is about)')
def callback_task_id(ctx: Context, case: CallbackCase) -> None:
    """The callback names the task whose callback_url it was sent to."""
    for delivery in _deliveries(case):
        if _data(delivery).get("taskId") != case.task.task_id:
            raise _fail(f"the callback for task {case.task.task_id} names taskId "
                        f"{_data(delivery).get('taskId')!r}", delivery, case)


@check(on="callback", section=SECTION, needs="callbacks",
       quote=WHEN + ' ("state": "success" or "state": "failed")')
def callback_terminal_state(ctx: Context, case: CallbackCase) -> None:
    """A callback reports a completed task: success or failed, as the task ended."""
    for delivery in _deliveries(case):
        state = _data(delivery).get("state")
        if state not in ("success", "failed"):
            raise _fail(f"the callback reports state {state!r}; only a completed task is "
                        f"called back", delivery, case)


@check(on="callback", section=SECTION, needs="callbacks", quote=WHEN)
def callback_after_completion(ctx: Context, case: CallbackCase) -> None:
    """No callback arrives before the task is completed (by its status and completeTime)."""
    tolerance = EARLY_TOLERANCE_MS[ctx.options.loopback]
    for delivery in _deliveries(case):
        status = delivery.status_after
        state = status.get("state") if isinstance(status, dict) else None
        if isinstance(status, dict) and "error" not in status and \
                state not in ("success", "failed"):
            raise _fail(f"when the callback arrived the status endpoint said {state!r}: the "
                        f"callback came before completion", delivery, case)
        complete = _data(delivery).get("completeTime")
        if isinstance(complete, int) and delivery.received_ms < complete - tolerance:
            raise _fail(f"the callback arrived {complete - delivery.received_ms} ms before its "
                        f"own completeTime", delivery, case)


def _result_paths(data: dict[str, Any]) -> list[str] | None:
    try:
        return [urlsplit(u).path for u in result_urls(data) if isinstance(u, str)]
    except ValueError:
        return None


@check(on="callback", section=SECTION, needs="callbacks",
       quote="Callback Response: the same data as the Status Query Response of the task "
             "(compared with every status answer given after the callback arrived)")
def callback_agrees_with_status(ctx: Context, case: CallbackCase) -> None:
    """The callback's data agrees with every status answer for the task given after it."""
    judged = False
    for delivery in _deliveries(case):
        if _data(delivery).get("state") not in TERMINAL:
            continue
        # A status still unfinished after the callback is callback_after_completion's.
        later = [o for o in case.task.history if o.state in TERMINAL
                 and o.exchange.sent_ms >= delivery.received_ms]
        for observation in later:
            judged = True
            status = observation.data or {}
            data = _data(delivery)
            for name in COMPARED:
                if name in data and name in status and data[name] != status[name]:
                    after = observation.exchange.sent_ms - delivery.received_ms
                    raise _fail(f"the callback says {name}={data[name]!r}, the status "
                                f"endpoint {after} ms later {name}={status[name]!r}",
                                delivery, case)
            if "resultJson" in data and "resultJson" in status and \
                    _result_paths(data) != _result_paths(status):
                raise _fail("the callback's resultUrls are not the status endpoint's",
                            delivery, case)
    if not judged:
        raise NotApplicable
