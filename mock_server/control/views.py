"""The control plane under /_mock/: see and steer the mock; never part of the API.

Answers are plain JSON objects; errors use the API's envelope. Bound to a
non-loopback address (or with an admin token set) every endpoint but health
requires `Authorization: Bearer <admin token>` (admin_auth.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from mock_server import __version__
from mock_server.api.service import profile_of
from mock_server.api.views import json_body
from mock_server.control import service as control_sources
from mock_server.control.metrics import exposition
from mock_server.control.tasks import (
    TaskConflict,
    TaskFilter,
    count_by_state,
    every_task,
    field_error,
    find_tasks,
    forced_plan,
    parse_force,
    plan_dict,
    summary,
    timeline,
)
from mock_server.domain import scenarios
from mock_server.domain.errors import InvalidRequest, TaskNotFound
from mock_server.domain.lifecycle import STATES
from mock_server.domain.profiles import profile_names
from mock_server.journal.buffer import key_id, mask_key
from mock_server.settings import SettingsError
from mock_server.storage.memory.runtime import RUNTIME_SETTINGS, checked_overrides

bp = Blueprint("control", __name__, url_prefix="/_mock")
MAX_PAGE = 500
MAX_QUEUED = 10_000


def state() -> Any:
    return current_app.extensions["flux2_mock"]


def component(name: str) -> Any:
    """Return an optional part of the mock (journal, callbacks, ...) or None when absent."""
    return getattr(state(), name, None)


@bp.get("/health")
def health() -> Response:
    mock = state()
    return jsonify({
        "ready": True,
        "version": __version__,
        "store": "memory" if mock.settings.store_path == "memory" else "sqlite",
        "profile": mock.backend.profile.name,
    })


@bp.post("/reset")
def reset() -> Response:
    """Forget everything (tasks, queue, run-time settings, journal, ...) or one key's part."""
    api_key = request.args.get("apiKey") or None
    if api_key is not None and api_key not in state().settings.api_keys:
        raise field_error("apiKey", "known", f"apiKey {api_key!r} is not one of the "
                          "server's API keys")
    done = []
    for name, part in vars(state()).items():
        if callable(getattr(part, "reset", None)):
            part.reset(api_key=api_key)
            done.append(name)
    return jsonify({"reset": done, "apiKey": None if api_key is None else mask_key(api_key)})


# -- tasks ---------------------------------------------------------------------------


def _int_arg(name: str, default: int | None = None, *, low: int = 0,
             high: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise field_error(name, "integer", f"{name} must be a whole number {bound}, got {raw!r}")
    return int(raw)


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
                       _int_arg("since"), _int_arg("until"))
    limit = _int_arg("limit", 50, low=1, high=MAX_PAGE) or 50
    mock = state()
    now = mock.clock.now_ms()
    page, cursor = find_tasks(mock.store, where, now, after_seq=_int_arg("after", 0) or 0,
                              limit=limit, newest_first=order == "desc")
    return jsonify({"now": now, "tasks": [summary(r, now) for r in page], "next": cursor})


def _record(task_id: str) -> Any:
    record = state().store.get_task(task_id)
    if record is None:
        raise TaskNotFound(f"no task with taskId {task_id!r}")
    return record


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> Response:
    """One task in full: plan, state timeline, the requests seen, the callback attempts."""
    record = _record(task_id)
    now = state().clock.now_ms()
    return jsonify({**summary(record, now), "now": now, "plan": plan_dict(record.plan),
                    "timeline": timeline(record.plan, now), "request": record.request,
                    "requests": _requests_seen(task_id), "callbacks": _callbacks_of(task_id)})


def _requests_seen(task_id: str) -> list[dict[str, Any]] | None:
    journal = component("journal")
    if journal is None:
        return None
    return [e.as_dict() for e in journal.entries(api_keys=[], task_ids=[task_id])]


def _callbacks_of(task_id: str) -> list[dict[str, Any]] | None:
    return control_sources.callback_deliveries(state(), task_id)


@bp.post("/tasks/<task_id>/force")
def force(task_id: str) -> Response:
    """End a task now (success, or failed with a failCode) or make it stuck."""
    outcome, fail_code = parse_force(json_body())
    mock = state()
    record = _record(task_id)
    now = mock.clock.now_ms()
    plan = forced_plan(record.plan, now, outcome, fail_code,
                       mock.settings.fail_code_vocabulary)
    mock.store.replace_plan(task_id, plan)
    control_sources.plan_changed(mock)
    updated = _record(task_id)
    return jsonify({**summary(updated, now), "now": now, "plan": plan_dict(updated.plan),
                    "timeline": timeline(updated.plan, now)})


# -- clock, settings, scenario queue ---------------------------------------------------


@bp.get("/clock")
def clock() -> Response:
    mock = state()
    offset = getattr(mock.clock, "offset_ms", None)
    return jsonify({"now": mock.clock.now_ms(),
                    "offsetMs": offset() if callable(offset) else None})


@bp.post("/clock/advance")
def advance() -> Response:
    """Move the clock forward by `seconds` (or `ms`) for every worker process."""
    body = json_body()
    if not isinstance(body, dict) or not (("seconds" in body) ^ ("ms" in body)):
        raise InvalidRequest('send one of {"seconds": <number>} or {"ms": <integer>}')
    value = body.get("seconds", body.get("ms"))
    name = "seconds" if "seconds" in body else "ms"
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 \
            or (name == "ms" and not isinstance(value, int)):
        raise field_error(name, "minimum", f"{name} must be a number of at least 0, "
                          f"got {value!r}")
    mock = state()
    move = getattr(mock.clock, "advance", None)
    if move is None:
        raise TaskConflict("this server's clock cannot be advanced")
    seconds = value if name == "seconds" else value / 1000
    move(seconds)
    return clock()


def _settings_view() -> dict[str, Any]:
    mock = state()
    current = mock.backend.current_settings()
    return {"profile": profile_of(current).name, "failure_rate": current.failure_rate,
            "pending_ms": current.pending_ms, "processing_ms": current.processing_ms,
            "overrides": mock.runtime.overrides(),
            "api_keys": [mask_key(k) for k in current.api_keys],
            "apiKeyIds": [key_id(k) for k in current.api_keys],
            "profiles": profile_names()}


@bp.get("/settings")
def settings() -> Response:
    return jsonify(_settings_view())


@bp.patch("/settings")
def change_settings() -> Response:
    """Change settings at run time; a null value returns that setting to the configured one."""
    body = json_body()
    if not isinstance(body, dict) or not body:
        raise InvalidRequest("send a JSON object of settings to change: "
                             f"{', '.join(RUNTIME_SETTINGS)}")
    mock = state()
    try:
        values = checked_overrides(mock.settings, body)
    except SettingsError as exc:
        name = next((n for n in body if n in str(exc)), "settings")
        raise field_error(name, "setting", str(exc)) from None
    mock.runtime.set_overrides(values)
    return jsonify(_settings_view())


@bp.get("/scenario-queue")
def scenario_queue() -> Response:
    return jsonify({"queue": [e.as_dict() for e in state().runtime.queue()]})


@bp.post("/scenario-queue")
def enqueue_scenario() -> Response:
    """Give the next `count` submissions (of `apiKey`, or of any key) the scenario."""
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest('send {"scenario": "fail:CONTENT_VIOLATION", "count": 1}')
    text = body.get("scenario")
    if not isinstance(text, str) or not text.strip():
        raise field_error("scenario", "required", "scenario must be a non-empty scenario "
                          "string like 'fail:CONTENT_VIOLATION; processing=200'")
    try:
        parsed = scenarios.parse(text, source="scenario")
    except scenarios.ScenarioError as exc:
        raise field_error("scenario", "scenario", str(exc)) from None
    if parsed.has_fault:  # faults belong to one request, answered before any task exists
        raise field_error("scenario", "task-only", "the queue gives tasks a scenario; fault "
                          "tokens (http=, latency=, close, truncate, malformed) apply to one "
                          "request: send them in X-Mock-Scenario or set fault_rate")
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_QUEUED:
        raise field_error("count", "range", f"count must be a whole number from 1 to "
                          f"{MAX_QUEUED}, got {count!r}")
    api_key = body.get("apiKey")
    if api_key is not None and api_key not in state().settings.api_keys:
        raise field_error("apiKey", "known", "apiKey must be one of the server's API keys")
    entry = state().runtime.enqueue(text.strip(), count, api_key)
    response = jsonify(entry.as_dict())
    response.status_code = 201
    return response


@bp.delete("/scenario-queue")
def clear_scenario_queue() -> Response:
    """Drop every queued scenario, or those of `?apiKey=`."""
    state().runtime.clear_queue(api_key=request.args.get("apiKey") or None)
    return scenario_queue()


# -- journal and metrics ---------------------------------------------------------------


@bp.get("/journal")
def journal() -> Response:
    """The request journal: every API request the mock answered, oldest first."""
    log = component("journal")
    if log is None:
        raise TaskConflict("this server keeps no request journal")
    api_key = request.args.get("apiKey") or None
    limit = _int_arg("limit", 200, low=1, high=10_000) or 200
    task_ids = [t for t in [request.args.get("taskId")] if t]
    # Given a task only, ask for no key's entries but that task's.
    keys = [api_key] if api_key is not None else ([] if task_ids else None)
    entries = log.entries(api_keys=keys, task_ids=task_ids,
                          after_seq=_int_arg("after", 0) or 0, limit=limit)
    return jsonify({"entries": [e.as_dict() for e in entries],
                    "next": entries[-1].seq if len(entries) == limit else None})


@bp.get("/metrics")
def metrics() -> Response:
    mock = state()
    tasks = list(every_task(mock.store))
    text = exposition(mock.metrics.combined(), count_by_state(tasks, mock.clock.now_ms()),
                      control_sources.callback_outcomes(mock, tasks))
    return Response(text, mimetype="text/plain", content_type="text/plain; version=0.0.4")
