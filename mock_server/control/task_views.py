"""The control plane's tasks: list, one in full, force an outcome, callbacks, the journal."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from mock_server.control.tasks import TaskFilter, parse_force
from mock_server.control.views import control
from mock_server.domain.errors import field_error
from mock_server.domain.lifecycle import STATES
from mock_server.web.requests import int_arg, json_body

bp = Blueprint("control_tasks", __name__, url_prefix="/_mock")
MAX_PAGE = 500


@bp.get("/tasks")
def tasks() -> Response:
    """List tasks, filtered by state, apiKey and createTime range, one page at a time."""
    wanted = request.args.get("state") or None
    if wanted is not None and wanted not in STATES:
        raise field_error("state", "enum", f"state must be one of {', '.join(STATES)}; "
                          f"got {wanted!r}")
    order = request.args.get("order", "asc")
    if order not in ("asc", "desc"):
        raise field_error("order", "enum", f"order must be asc or desc; got {order!r}")
    where = TaskFilter(wanted, request.args.get("apiKey") or None,
                       int_arg("since"), int_arg("until"))
    limit = int_arg("limit", 50, low=1, high=MAX_PAGE) or 50
    return jsonify(control().tasks(where, after_seq=int_arg("after", 0) or 0, limit=limit,
                                   newest_first=order == "desc"))


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> Response:
    """One task in full: plan, state timeline, the requests seen, the callback attempts."""
    return jsonify(control().task(task_id))


@bp.post("/tasks/<task_id>/force")
def force(task_id: str) -> Response:
    """End a task now (success, or failed with a failCode) or make it stuck."""
    outcome, fail_code = parse_force(json_body())
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
    limit = int_arg("limit", 200, low=1, high=10_000) or 200
    return jsonify(control().journal_page(api_key=request.args.get("apiKey") or None,
                                          task_id=request.args.get("taskId") or None,
                                          after_seq=int_arg("after", 0) or 0, limit=limit))
