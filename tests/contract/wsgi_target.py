"""Targets for the contract suite built in the test: the mock app with one promise broken.

A `Rewrite` wraps a WSGI app: `on_request` may change a request (or answer it itself),
`on_response` may change the answer. Targets are served on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

SUBMIT = "/api/v1/generateTask/flux-2"
STATUS = "/api/v1/statusTask/flux-2"


def parsed(body: bytes) -> Any:
    """Return a body's JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


@dataclass
class Req:
    """A request as a rewrite sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host_url: str

    @property
    def json(self) -> Any:
        return parsed(self.body)

    def with_json(self, value: Any) -> Req:
        self.body = json.dumps(value).encode()
        return self

    @property
    def is_submit(self) -> bool:
        return self.method == "POST" and self.path == SUBMIT

    @property
    def is_status(self) -> bool:
        return self.method == "GET" and self.path == STATUS


@dataclass
class Resp:
    """An answer as a rewrite sees it."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return parsed(self.body)

    def with_json(self, value: Any, status: int | None = None) -> Resp:
        self.body = json.dumps(value).encode()
        self.headers["Content-Type"] = "application/json"
        if status is not None:
            self.status = status
        return self

    @classmethod
    def error(cls, status: int, message: str) -> Resp:
        return cls(status, {}, b"").with_json({"code": status, "message": message})


OnRequest = Callable[[Req], "Req | Resp"]
OnResponse = Callable[[Req, Resp], Resp]


@dataclass
class Rewrite:
    """The inner app behind request and answer rewrites."""

    inner: Any
    on_request: OnRequest | None = None
    on_response: OnResponse | None = None
    memory: dict[str, Any] = field(default_factory=dict)  # per-task state for a rewrite

    def forward(self, req: Req) -> Resp:
        headers = {k: v for k, v in req.headers.items()
                   if k.lower() not in ("content-length", "host")}
        answer = Client(self.inner, Response).open(
            req.path, method=req.method, query_string=req.query, headers=headers,
            data=req.body if req.method != "GET" else None, base_url=req.host_url)
        return Resp(answer.status_code, dict(answer.headers), answer.get_data())

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        req = Req(request.method, request.path, dict(request.args), dict(request.headers),
                  request.get_data(), request.host_url)
        changed = self.on_request(req) if self.on_request else req
        resp = changed if isinstance(changed, Resp) else self.forward(changed)
        if self.on_response and isinstance(changed, Req):
            resp = self.on_response(changed, resp)
        headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
        return Response(resp.body, status=resp.status, headers=headers)(environ, start_response)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # hundreds of requests per run; the suite's report says what matters


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port for the block; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def data_of(resp: Resp) -> dict[str, Any] | None:
    body = resp.json
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else None


def edit_data(resp: Resp, change: Callable[[dict[str, Any]], None]) -> Resp:
    """Apply `change` to the answer's data object, when there is one."""
    body = resp.json
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        change(body["data"])
        resp.with_json(body)
    return resp
