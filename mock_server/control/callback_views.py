"""The callback journal and redelivery, under the control plane's /_mock/ prefix.

The control plane's guard (admin_auth.py) covers every /_mock/ path, these too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from mock_server.callbacks.dispatcher import Dispatcher
from mock_server.domain.errors import ApiError, TaskNotFound
from mock_server.storage.memory.tasks import TaskRecord

bp = Blueprint("callbacks", __name__, url_prefix="/_mock")


class CallbackConflict(ApiError):
    status, message = 409, "Conflict"


def _dispatcher() -> Dispatcher:
    dispatcher: Dispatcher = current_app.extensions["flux2_mock"].dispatcher
    return dispatcher


def _task(task_id: str) -> TaskRecord:
    record = current_app.extensions["flux2_mock"].store.get_task(task_id)
    if record is None:
        raise TaskNotFound(f"no task with taskId {task_id!r}")
    return record


def journal_json(record: TaskRecord, dispatcher: Dispatcher) -> dict[str, Any]:
    """Return a task's callback deliveries and every attempt, as the journal endpoint shows."""
    callback = record.request.get("request_type") == "callback"
    return {"taskId": record.task_id,
            "requestType": record.request.get("request_type"),
            "callbackUrl": record.request.get("callback_url") if callback else None,
            "deliveries": [d.as_json() for d in dispatcher.journal(record.task_id)]}


@bp.get("/tasks/<task_id>/callbacks")
def callbacks(task_id: str) -> Response:
    return jsonify(journal_json(_task(task_id), _dispatcher()))


@bp.post("/tasks/<task_id>/callbacks/redeliver")
def redeliver(task_id: str) -> Response:
    record = _task(task_id)
    dispatcher = _dispatcher()
    if record.request.get("request_type") != "callback":
        raise CallbackConflict(f"task {task_id} was submitted with request_type "
                               f"{record.request.get('request_type')!r}; only callback-mode "
                               f"tasks have a callback to deliver")
    complete = record.plan.complete_ms
    if complete is None or complete > dispatcher.clock.now_ms():
        raise CallbackConflict(f"task {task_id} has not finished; its callback goes out when "
                               f"it does")
    number = dispatcher.redeliver(record)
    response = jsonify({"taskId": task_id, "delivery": number, "state": "waiting"})
    response.status_code = 202
    return response
