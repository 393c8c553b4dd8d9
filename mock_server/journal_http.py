"""Record each request the mock answers into the journal (an after-request hook)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Flask, Request, Response, request

from .clock import Clock
from .journal import Journal, JournalEntry, bearer_key, key_id, mask_headers, mask_key

log = logging.getLogger(__name__)

_RESULT_PATH = re.compile(r"^/output/([^/]+)/")
CONTROL_PREFIX = "/_mock"


def install(app: Flask, journal: Journal, clock: Clock) -> None:
    """Make `app` journal every request outside the control plane."""

    @app.after_request
    def _journal_request(response: Response) -> Response:
        if not request.path.startswith(CONTROL_PREFIX):
            try:
                journal.record(entry_for(request, response, clock.now_ms()))
            except Exception:  # the journal must never cost a client its answer
                log.exception("could not journal %s %s", request.method, request.path)
        return response


def entry_for(req: Request, response: Response, now_ms: int) -> JournalEntry:
    """Return the journal entry of one answered request, with its secrets masked."""
    key = bearer_key(req.headers.get("Authorization"))
    body = _json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    data = data if isinstance(data, dict) else {}
    code = body.get("code") if isinstance(body, dict) else None
    # With error_status=200 the HTTP status is always 200: the envelope's code is what counts.
    status = code if isinstance(code, int) and not isinstance(code, bool) else \
        response.status_code
    task_id = _task_id(req, data)
    state = data.get("state") if isinstance(data.get("state"), str) else None
    return JournalEntry(
        time_ms=now_ms, method=req.method, path=req.path, status=status,
        key_id=key_id(key), key_hint=mask_key(key), task_id=task_id, state=state,
        errors=_errors(status, data), headers=mask_headers(req.headers.items()),
        query=_masked_query(req),
    )


def _json_body(response: Response) -> Any:
    if response.is_streamed or not response.is_json:
        return None
    try:
        return json.loads(response.get_data())
    except ValueError:  # a deliberately malformed answer (fault scenarios)
        return None


def _task_id(req: Request, data: dict[str, Any]) -> str | None:
    found = data.get("taskId") or req.args.get("taskId")
    if not found:
        match = _RESULT_PATH.match(req.path)
        found = match.group(1) if match else None
    return str(found)[:200] if found else None


def _errors(status: int, data: dict[str, Any]) -> tuple[dict[str, str], ...]:
    if status < 400:
        return ()
    listed = data.get("errors")
    if isinstance(listed, list) and listed:
        return tuple({k: str(v) for k, v in e.items() if k in ("field", "rule", "message")}
                     for e in listed if isinstance(e, dict))
    message = data.get("error")
    return ({"field": "", "rule": "", "message": str(message)},) if message else ()


def _masked_query(req: Request) -> str:
    if not req.query_string:
        return ""
    pairs = []
    for name, value in req.args.items(multi=True):
        if re.search(r"key|token|secret", name, re.IGNORECASE):
            value = mask_key(value)
        pairs.append(f"{name}={value}")
    return "&".join(pairs)[:500]
