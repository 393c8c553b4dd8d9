"""The two routes clients hammer, answered without Flask's request machinery.

A status GET or submit POST that is plain (a valid key, a known model, no
`X-Mock-Scenario` header, nothing of the paid part engaged) is served here with
the very backend calls and envelope of mock_server/api.py, journaled and counted
as Flask's path does. Anything else, and every error, goes through Flask: before
any side effect by handing the request over, after one by having Flask raise the
error the backend raised, so every answer is the one Flask's path gives.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from werkzeug.sansio.utils import get_current_url
from werkzeug.wsgi import get_host

from mock_server.control.metrics import METHODS, ROUTE_KEY
from mock_server.domain.errors import ApiError, envelope
from mock_server.journal.recorder import Captured
from mock_server.web.body import parse_json

STATUS_PREFIX = "/api/v1/statusTask/"
SUBMIT_PREFIX = "/api/v1/generateTask/"
STATUS_ROUTE = "/api/v1/statusTask/<model>"
SUBMIT_ROUTE = "/api/v1/generateTask/<model>"
_PLAIN_TASK_QUERY = re.compile(r"taskId=([A-Za-z0-9_\-.]+)")
_PLAIN_HOST = re.compile(r"[A-Za-z0-9.:\[\]\-]+")
_RAISE_KEY = "flux2_mock.raise"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Handover(Exception):
    """The request is not plain: Flask serves it (nothing was done yet)."""


def install(app: Flask) -> None:
    """Serve plain status and submit requests of `app` directly; Flask keeps the rest."""
    state = app.extensions["flux2_mock"]
    flask_path: WsgiApp = app.wsgi_app  # already counted by the metrics wrapper

    @app.before_request
    def _raise_handed_error() -> None:
        # Last of the before-request hooks: the route is noted, then the error Flask answers.
        error = request.environ.pop(_RAISE_KEY, None)
        if error is not None:
            raise error

    app.wsgi_app = HotRoutes(state, flask_path)  # type: ignore[method-assign]


class HotRoutes:
    """The WSGI app in front of Flask's (see the module docstring)."""

    def __init__(self, state: Any, flask_path: WsgiApp) -> None:
        self.state = state
        self.flask_path = flask_path
        self.max_body = state.settings.max_body_bytes

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        try:
            if method == "GET" and path.startswith(STATUS_PREFIX):
                return self._serve(environ, start_response, STATUS_ROUTE, self._status,
                                   path[len(STATUS_PREFIX):])
            if method == "POST" and path.startswith(SUBMIT_PREFIX):
                return self._serve(environ, start_response, SUBMIT_ROUTE, self._submit,
                                   path[len(SUBMIT_PREFIX):])
        except _Handover:
            pass
        return self.flask_path(environ, start_response)

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any], route: str,
               operation: Callable[[dict[str, Any], str], dict[str, Any]],
               model: str) -> Iterable[bytes]:
        started = time.perf_counter()
        if environ.get("HTTP_X_MOCK_SCENARIO") is not None:
            raise _Handover
        try:
            data = operation(environ, model)
        except _Handover:
            raise
        except Exception as exc:  # Flask answers it, as if it had raised there
            environ[_RAISE_KEY] = exc
            return self.flask_path(environ, start_response)
        body = json.dumps(envelope(200, "success", data), separators=(",", ":")).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        state = self.state
        with contextlib.suppress(Exception):  # the journal must never cost a client its answer
            state.journal.record(Captured(state.clock.now_ms(), environ["PATH_INFO"], 200,
                                          environ.copy(), body))
        method = environ["REQUEST_METHOD"]
        state.metrics.observe(route, method if method in METHODS else "OTHER", 200,
                              time.perf_counter() - started)
        environ[ROUTE_KEY] = route
        return [body]

    def _key(self, environ: dict[str, Any], model: str, prompt: str | None = None) -> str:
        backend, paid = self.state.backend, self.state.paid
        if model not in backend.models:
            raise _Handover
        try:
            api_key: str = backend.authenticate(environ.get("HTTP_AUTHORIZATION"))
        except ApiError:
            raise _Handover from None
        if paid.engaged(api_key, None, prompt):
            raise _Handover
        return api_key

    def _status(self, environ: dict[str, Any], model: str) -> dict[str, Any]:
        found = _PLAIN_TASK_QUERY.fullmatch(environ.get("QUERY_STRING", ""))
        if found is None:
            raise _Handover
        api_key = self._key(environ, model)
        data: dict[str, Any] = self.state.backend.status(api_key=api_key,
                                                         task_id=found.group(1))
        return data

    def _submit(self, environ: dict[str, Any], model: str) -> dict[str, Any]:
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type != "application/json" or "HTTP_TRANSFER_ENCODING" in environ:
            raise _Handover
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            raise _Handover from None
        if not 0 < length <= self.max_body:
            raise _Handover
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # Flask may read it yet
        environ["CONTENT_LENGTH"] = str(len(raw))
        try:
            # The one door (web/body.py): NaN, 1e400, 5,000 digits, lone surrogates refused.
            body = parse_json(raw)
        except Exception:  # refused: Flask's path says what is wrong, in the envelope
            raise _Handover from None
        params = body.get("input") if isinstance(body, dict) else None
        prompt = params.get("prompt") if isinstance(params, dict) else None
        api_key = self._key(environ, model, prompt if isinstance(prompt, str) else None)
        scheme, host = environ.get("wsgi.url_scheme", "http"), get_host(environ)
        # What request.host_url gives; its IRI decoding changes nothing of a plain host.
        base_url = f"{scheme}://{host}/" if _PLAIN_HOST.fullmatch(host) \
            and "xn--" not in host.lower() \
            else get_current_url(scheme, host)
        record = self.state.backend.submit(api_key=api_key, body=body, scenario_header=None,
                                           base_url=base_url)
        return {"taskId": record.task_id}

