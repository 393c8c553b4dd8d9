"""The control plane under /_mock/: the whole mock (health, reset, clock, settings, queue).

Views parse the request and call one method of the control service; errors use the
API's envelope. With an admin token set, every endpoint but health requires
`Authorization: Bearer <admin token>` (control/auth.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mock_server.control.params import api_key_arg, checked_body
from mock_server.control.service import ControlService
from mock_server.domain import scenarios
from mock_server.domain.errors import InvalidRequest, field_error
from mock_server.domain.keys import mask_key
from mock_server.domain.runtime import RUNTIME_SETTINGS
from mock_server.settings import SettingsError
from mock_server.state import mock_state
from mock_server.web.requests import json_body

bp = Blueprint("control", __name__, url_prefix="/_mock")
MAX_QUEUED = 10_000


def control() -> ControlService:
    return mock_state().control


def key_arg(args: Mapping[str, str]) -> str | None:
    """The key `apiKeyId` or `apiKey` (id, masked form or key) names; 404 for none of ours."""
    return api_key_arg(args, mock_state().settings.api_keys)


@bp.get("/health")
def health() -> Response:
    return jsonify(control().health())


@bp.post("/reset")
def reset() -> Response:
    """Forget everything (tasks, queue, run-time settings, journal, clock) or one key's part."""
    api_key = key_arg(request.args)
    done = control().reset(api_key)
    return jsonify({"reset": done, "apiKey": None if api_key is None else mask_key(api_key)})


@bp.get("/clock")
def clock() -> Response:
    return jsonify(control().clock_view())


@bp.post("/clock/advance")
def advance() -> Response:
    """Move the clock forward by `seconds` (or `ms`) for every worker process."""
    body = json_body()
    if not isinstance(body, dict) or not (("seconds" in body) ^ ("ms" in body)):
        raise InvalidRequest('send one of {"seconds": <number>} or {"ms": <integer>}')
    checked_body("controlAdvanceClock", body)  # types, bounds; 167166.0 is a whole ms
    seconds = float(body["seconds"]) if "seconds" in body else int(body["ms"]) / 1000
    return jsonify(control().advance(seconds))


@bp.post("/callbacks/deliver-due")
def deliver_due() -> Response:
    """Make every callback attempt due now; answer once each was made (delivered or failed)."""
    return jsonify(control().deliver_due())


@bp.get("/settings")
def settings() -> Response:
    return jsonify(control().settings_view())


@bp.patch("/settings")
def change_settings() -> Response:
    """Change settings at run time; a null value returns that setting to the configured one."""
    body = json_body()
    if not isinstance(body, dict) or not body:
        raise InvalidRequest("send a JSON object of settings to change: "
                             f"{', '.join(RUNTIME_SETTINGS)}")
    unknown = sorted(set(body) - set(RUNTIME_SETTINGS))
    if unknown:
        raise field_error(unknown[0], "setting", f"{unknown[0]!r} cannot be changed at run "
                          f"time; these can: {', '.join(RUNTIME_SETTINGS)}")
    checked_body("controlChangeSettings", body)
    try:
        values = checked_overrides(body)
    except SettingsError as exc:
        name = next((n for n in body if n in str(exc)), "settings")
        raise field_error(name, "setting", str(exc)) from None
    return jsonify(control().change_settings(values))


def checked_overrides(values: dict[str, Any]) -> dict[str, Any]:
    """Return `values` coerced as settings, or raise SettingsError naming the bad one."""
    from mock_server.config import check_settings

    unknown = sorted(set(values) - set(RUNTIME_SETTINGS))
    if unknown:
        raise SettingsError(f"{unknown[0]!r} cannot be changed at run time; "
                            f"these can: {', '.join(RUNTIME_SETTINGS)}")
    base = mock_state().settings
    present = {k: v for k, v in values.items() if v is not None}
    checked = check_settings(base.updated(present, source="settings")) if present else base
    for name in ("pending_ms", "processing_ms"):
        value = getattr(checked, name)
        if value is not None and value < 0:
            raise SettingsError(f"settings: {name} must not be negative, got {value}")
    return {k: (getattr(checked, k) if v is not None else None) for k, v in values.items()}


@bp.get("/scenario-queue")
def scenario_queue() -> Response:
    return jsonify({"queue": [e.as_dict() for e in control().queue()]})


@bp.post("/scenario-queue")
def enqueue_scenario() -> Response:
    """Give the next `count` submissions (of `apiKey`, or of any key) the scenario."""
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest('send {"scenario": "fail:CONTENT_VIOLATION", "count": 1}')
    checked_body("controlEnqueueScenario", body)
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
    if isinstance(count, bool) or not isinstance(count, int | float) \
            or not 1 <= count <= MAX_QUEUED or count != int(count):
        raise field_error("count", "range", f"count must be a whole number from 1 to "
                          f"{MAX_QUEUED}, got {count!r}")
    api_key = key_arg({"apiKey": body.get("apiKey") or ""})
    response = jsonify(control().enqueue(text.strip(), int(count), api_key).as_dict())
    response.status_code = 201
    return response


@bp.delete("/scenario-queue")
def clear_scenario_queue() -> Response:
    """Drop every queued scenario, or those of `?apiKey=`."""
    control().clear_queue(key_arg(request.args))
    return scenario_queue()
