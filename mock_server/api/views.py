"""The API's HTTP face: parse the request, call one backend operation, wrap the envelope."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from mock_server.api.service import Flux2Backend
from mock_server.domain.errors import envelope
from mock_server.domain.images import MIMETYPE
from mock_server.paid.http import PaidPart
from mock_server.web.requests import json_body

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
