"""Reading a request: its JSON body and its query parameters, with errors that name the field."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from mock_server.domain.errors import UnsupportedMediaType, field_error
from mock_server.web.body import parse_json, read_limited


def json_body() -> Any:
    """Return the parsed JSON body, or raise the error that says what is wrong with it."""
    if not request.mimetype or not (request.mimetype == "application/json"
                                    or request.mimetype.endswith("+json")):
        got = request.headers.get("Content-Type") or "none"
        raise UnsupportedMediaType(f"Content-Type must be application/json, got {got}")
    return parse_json(body_bytes())


def body_bytes() -> bytes:
    """Return the raw body, however it is framed, never more than `max_body_bytes`."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.content_length is not None:  # werkzeug answers 413 past the limit itself
        return read_limited(request.stream, limit)
    environ = request.environ
    framed = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() \
        or environ.get("wsgi.input_terminated")
    if not framed or environ.get("wsgi.input") is None:
        return b""  # no length and no framing: HTTP/1.1 says there is no body
    # werkzeug may cut a chunked body at the limit without a word: the server's own input
    # is read instead, and refused (413) once it passes the limit.
    return read_limited(environ["wsgi.input"], limit)


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
