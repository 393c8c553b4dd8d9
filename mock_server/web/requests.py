"""Reading a request: its JSON body and its query parameters, with errors that name the field."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from mock_server.domain.errors import InvalidRequest, UnsupportedMediaType, field_error


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


def int_arg(name: str, default: int | None = None, *, low: int = 0,
            high: int | None = None) -> int | None:
    """Return query parameter `name` as a whole number within bounds, or `default` if absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise field_error(name, "integer", f"{name} must be a whole number {bound}, got {raw!r}")
    return int(raw)
