"""The control plane's tasks: list, one in full, force an outcome, callbacks, the journal."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from mock_server.control.params import checked_body, query_args
from mock_server.control.tasks import TaskFilter, parse_force
from mock_server.control.views import control, key_arg
from mock_server.web.requests import json_body

bp = Blueprint("control_tasks", __name__, url_prefix="/_mock")
MAX_PAGE = 500


@bp.get("/tasks")
def tasks() -> Response:
    """List tasks, filtered by state, apiKey and createTime range, one page at a time."""
    args = query_args("controlListTasks", request.args)
    where = TaskFilter(args["state"], key_arg(request.args), args["since"], args["until"])
    return jsonify(control().tasks(where, after_seq=args["after"] or 0, limit=args["limit"],
                                   newest_first=args["order"] == "desc"))


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> Response:
    """One task in full: plan, state timeline, the requests seen, the callback attempts."""
    return jsonify(control().task(task_id))


@bp.post("/tasks/<task_id>/force")
def force(task_id: str) -> Response:
    """End a task now (success, or failed with a failCode) or make it stuck."""
    body = json_body()
    outcome, fail_code = parse_force(body)
    checked_body("controlForceTask", body)  # what parse_force does not name (extra fields)
    return jsonify(control().force(task_id, outcome, fail_code))


@bp.get("/tasks/<task_id>/callbacks")
def callbacks(task_id: str) -> Response:
    return jsonify(control().callbacks(task_id))


@bp.post("/tasks/<task_id>/callbacks/redeliver")
def redeliver(task_id: str) -> Response:
    response = jsonify(control().redeliver(task_id))
    response.status_code = 202
    return response


@bp.get("/journal")
def journal() -> Response:
    """The request journal: every API request the mock answered, oldest first."""
    args = query_args("controlJournal", request.args)
    return jsonify(control().journal_page(api_key=key_arg(request.args),
                                          task_id=args["taskId"] or None,
                                          after_seq=args["after"] or 0, limit=args["limit"]))
