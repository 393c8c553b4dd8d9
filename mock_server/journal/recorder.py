"""Record each request the mock answers into the journal (an after-request hook).

The request path only copies the environ and the answer's bytes (about 5 us);
the journal's background thread turns them into a table row with cheap string
work, masking every credential before anything is stored.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from flask import Flask, Response, request

from mock_server.domain.clock import Clock
from mock_server.domain.journal_entries import Row
from mock_server.domain.keys import (
    MAX_HEADERS,
    MAX_VALUE,
    bearer_key,
    is_secret_header,
    key_id,
    mask_key,
    mask_secret,
)
from mock_server.domain.routes import is_control_path
from mock_server.journal.buffer import Journal

log = logging.getLogger(__name__)

_RESULT_PATH = re.compile(r"^/output/([^/]+)/")
_QUERY_TASK = re.compile(r"(?:^|&)taskId=([^&]*)")
_SECRET_PARAM = re.compile(r"key|token|secret|auth", re.IGNORECASE)
_CODE = re.compile(rb'^\s*\{"code":\s*(\d{3})\b')
MAX_BODY = 64 * 1024


def install(app: Flask, journal: Journal, clock: Clock) -> None:
    """Make `app` journal every request outside the control plane."""

    @app.after_request
    def _journal_request(response: Response) -> Response:
        environ, path = request.environ, request.path  # few trips through the proxy
        if not is_control_path(path):
            try:
                body = None
                if response.mimetype == "application/json" and not response.is_streamed:
                    body = response.get_data()
                    if len(body) > MAX_BODY:
                        body = None
                # A copy of the environ costs 0.1 us; picking the headers out of it, 3 us.
                journal.record(Captured(clock.now_ms(), path, response.status_code,
                                        environ.copy(), body))
            except Exception:  # the journal must never cost a client its answer
                log.exception("could not journal %s", path)
        return response


class Captured:
    """A request as the hook copied it; `row()` turns it into a journal row later."""

    __slots__ = ("body", "environ", "path", "status", "time_ms")

    def __init__(self, time_ms: int, path: str, status: int, environ: dict[str, Any],
                 body: bytes | None) -> None:
        self.time_ms, self.path, self.status = time_ms, path, status
        self.environ, self.body = environ, body

    def row(self) -> Row:
        """Mask, hash and pick out: the journal row of this request."""
        environ, body = self.environ, self.body or b""
        key = bearer_key(environ.get("HTTP_AUTHORIZATION"))
        query = str(environ.get("QUERY_STRING", ""))
        if _SECRET_PARAM.search(query):
            query = _masked_query(query)
        status = self.status
        code = _CODE.match(body)
        if code:  # with error_status=200 every HTTP status is 200: the envelope's code counts
            status = int(code.group(1))
        if status < 400:
            errors_json, task_id, state = "[]", _field(body, b"taskId"), _field(body, b"state")
        else:
            errors_json, task_id, state = json.dumps(_errors(body)), None, None
        if task_id is None:
            task_id = _task_in_request(self.path, query)
        return (self.time_ms, str(environ.get("REQUEST_METHOD", "")), self.path, query[:500],
                status, key_id(key), mask_key(key), task_id, state, errors_json,
                json.dumps(_headers(environ)))


@cache
def _header_name(environ_key: str) -> tuple[str, bool] | None:
    """('Header-Name', is secret) of an environ key, None when it is not a header."""
    if environ_key.startswith("HTTP_"):
        raw = environ_key[5:]
    elif environ_key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        raw = environ_key
    else:
        return None
    name = "-".join(part.capitalize() for part in raw.split("_"))
    return name, is_secret_header(name)


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        known = _header_name(key) if isinstance(value, str) and value else None
        if known is None:
            continue
        name, secret = known
        headers[name] = mask_secret(value) if secret else (
            value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…")
        if len(headers) >= MAX_HEADERS:
            break
    return headers


def _field(body: bytes, name: bytes) -> str | None:
    """A string field of the API's own compact JSON answer, without parsing all of it."""
    marker = b'"' + name + b'":"'
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = body.find(b'"', start)
    return body[start:end].decode("utf-8", "replace")[:200] if end > start else None


def _task_in_request(path: str, query: str) -> str | None:
    found = _QUERY_TASK.search(query)
    if found:
        return unquote(found.group(1))[:200] or None
    match = _RESULT_PATH.match(path)
    return match.group(1)[:200] if match else None


def _errors(body: bytes) -> list[dict[str, str]]:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:  # a deliberately malformed answer (fault scenarios)
        return []
    data = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(data, dict):
        return []
    listed = data.get("errors")
    if isinstance(listed, list) and listed:
        return [{k: str(v) for k, v in e.items() if k in ("field", "rule", "message")}
                for e in listed if isinstance(e, dict)]
    message = data.get("error")
    return [{"field": "", "rule": "", "message": str(message)}] if message else []


def _masked_query(query: str) -> str:
    pairs = [f"{name}={mask_key(value) if _SECRET_PARAM.search(name) else value}"
             for name, value in parse_qsl(query, keep_blank_values=True)]
    return "&".join(pairs)
