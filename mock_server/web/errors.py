"""The one place that turns any error into the documented envelope, as JSON."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from mock_server.domain.errors import ApiError, InvalidRequest, envelope
from mock_server.storage import StorageUnavailable

log = logging.getLogger(__name__)


_HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}

def error_response(code: int, message: str, data: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """Answer an error; HTTP status equals `code` unless the app answers every error with 200."""
    response = jsonify(envelope(code, message, data))
    real_status = current_app.config.get("FLUX2_ERROR_STATUS", "http") == "http"
    response.status_code = code if real_status else 200
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response

def _http_detail(exc: HTTPException) -> str:
    if exc.code == 405:
        allowed = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        return f"this path accepts {allowed}" if allowed else "method not allowed here"
    if exc.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return f"the request body must be at most {limit} bytes"
    if exc.code == 404:
        return "no such route; the API answers POST /api/v1/generateTask/flux-2 and " \
               "GET /api/v1/statusTask/flux-2?taskId=..."
    return exc.description or exc.name

def register_error_handlers(app: Flask) -> None:
    """Make every error, expected or not, answer JSON in the documented envelope."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.data, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        message = _HTTP_MESSAGES.get(code, exc.name)
        response = error_response(code, message, {"error": _http_detail(exc)})
        allowed = getattr(exc, "valid_methods", None)
        if code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError) -> Response:
        # json.loads, copying and validating all recurse: only a hostile body nests this deep.
        return error_response(400, InvalidRequest.message,
                              {"error": "the request body is nested too deeply to process"})

    @app.errorhandler(StorageUnavailable)
    def _unavailable(exc: StorageUnavailable) -> Response:
        # The store went away mid-request (a database restarting): try again in a moment.
        log.warning("%s", exc)
        return error_response(503, "Service unavailable", {"error": str(exc)},
                              {"Retry-After": "1"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        return error_response(500, "Internal server error", {"error": type(exc).__name__})
