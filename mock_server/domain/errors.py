"""Domain errors (each answered as `{code, message, data}`) and the envelope itself."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as `{code, message, data}` with `code` as the HTTP status."""

    status = 500
    message = "Internal server error"

    def __init__(self, detail: str | None = None, *, data: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.message)
        self.data: dict[str, Any] | None = data
        if detail is not None:
            self.data = {"error": detail, **(data or {})}
        self.headers = headers or {}


class InvalidRequest(ApiError):
    status, message = 400, "Invalid request"


class Unauthorized(ApiError):
    status, message = 401, "Invalid or missing API key"


class NotFound(ApiError):
    status, message = 404, "Not found"


class TaskNotFound(NotFound):
    message = "Task not found"


class ResultExpired(ApiError):
    status, message = 410, "Result URL expired"


class UnsupportedMediaType(ApiError):
    status, message = 415, "Unsupported media type"


def envelope(code: int, message: str, data: Any = None) -> dict[str, Any]:
    """Return the documented answer shape; `data` is left out when there is none."""
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return body




class Conflict(ApiError):
    """The request is valid but the target's state does not allow it now."""

    status, message = 409, "Conflict"


def field_error(field: str, rule: str, message: str) -> InvalidRequest:
    """Return a 400 whose data names the field and the rule, like the API's own."""
    return InvalidRequest(message, data={"errors": [{"field": field, "rule": rule,
                                                     "message": message}]})
