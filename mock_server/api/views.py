"""The API's HTTP face: parse the request, call one backend operation, wrap the envelope."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from mock_server.api.service import Flux2Backend
from mock_server.domain.errors import InvalidRequest, UnsupportedMediaType, envelope
from mock_server.domain.images import MIMETYPE
from mock_server.paid.http import PaidPart

bp = Blueprint("api", __name__)


def backend() -> Flux2Backend:
    backend: Flux2Backend = current_app.extensions["flux2_mock"].backend
    return backend


def paid() -> PaidPart:
    part: PaidPart = current_app.extensions["flux2_mock"].paid
    return part


def prompt_of(body: Any) -> str | None:
    """Return the request's prompt when it has one (its [mock:...] marker may ask a fault)."""
    params = body.get("input") if isinstance(body, dict) else None
    prompt = params.get("prompt") if isinstance(params, dict) else None
    return prompt if isinstance(prompt, str) else None


def ok(data: dict[str, Any]) -> Response:
    """Answer the documented success envelope (built directly: jsonify costs ~20 us more)."""
    body = json.dumps(envelope(200, "success", data), separators=(",", ":"))
    return Response(body, mimetype="application/json")


def _not_json(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON (RFC 8259) has no such values.
    raise InvalidRequest(f"the request body is not valid JSON: {name} is not a JSON value")


def json_body() -> Any:
    """Return the parsed JSON body, or raise the error that says what is wrong with it."""
    if not request.mimetype or not (request.mimetype == "application/json"
                                    or request.mimetype.endswith("+json")):
        got = request.headers.get("Content-Type") or "none"
        raise UnsupportedMediaType(f"Content-Type must be application/json, got {got}")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InvalidRequest("the request body is empty; send a JSON object")
    try:
        return json.loads(raw, parse_constant=_not_json)
    except UnicodeDecodeError:
        raise InvalidRequest("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc.msg} at line "
                             f"{exc.lineno} column {exc.colno}") from None


@bp.post("/api/v1/generateTask/<model>")
def generate_task(model: str) -> Response:
    service = backend()
    api_key = service.authenticate(request.headers.get("Authorization"))
    service.check_model(model)
    body = json_body()
    header = request.headers.get("X-Mock-Scenario")

    def submit() -> Response:
        record = service.submit(api_key=api_key, body=body, scenario_header=header,
                                base_url=request.host_url)
        return ok({"taskId": record.task_id})

    part, prompt = paid(), prompt_of(body)
    if part.engaged(api_key, header, prompt):  # limits or faults: see billing_api
        return part.answer(api_key, header, prompt, submit)
    return submit()


@bp.get("/api/v1/statusTask/<model>")
def status_task(model: str) -> Response:
    service = backend()
    api_key = service.authenticate(request.headers.get("Authorization"))
    service.check_model(model)
    header = request.headers.get("X-Mock-Scenario")

    def status() -> Response:
        return ok(service.status(api_key=api_key, task_id=request.args.get("taskId")))

    part = paid()
    if part.engaged(api_key, header):  # only fault tokens of the header matter here
        return part.answer(api_key, header, None, status)
    return status()


@bp.get("/output/<task_id>/<int:index>.jpg")
def result_image(task_id: str, index: int) -> Response:
    body = backend().result_image(task_id, index)
    response = Response(body, mimetype=MIMETYPE)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
