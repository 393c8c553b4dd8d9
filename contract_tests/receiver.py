"""A callback receiver on loopback: records every delivery, answers 200 at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/flux2-callbacks/"


@dataclass
class Delivery:
    """One request the target sent to a callback URL."""

    token: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_ms: int
    status_after: Any = None  # the status endpoint's data right after it arrived

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def describe(self) -> str:
        text = self.body.decode("utf-8", "replace")
        return f"  received: {self.method} {self.path} " \
               f"({self.headers.get('Content-Type', 'no Content-Type')})\n    {text[:600]}"


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1:0; `public_url` replaces its own URL when forwarded."""

    public_url: str | None = None
    # Called with each delivery before it is answered: the suite reads the task's status then.
    on_delivery: Callable[[Delivery], None] | None = None
    deliveries: dict[str, list[Delivery]] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                token = self.path[len(PREFIX):].split("?")[0] if \
                    self.path.startswith(PREFIX) else ""
                delivery = Delivery(token, self.command, self.path, dict(self.headers),
                                    body, int(time.time() * 1000))
                if receiver.on_delivery is not None:
                    try:
                        receiver.on_delivery(delivery)
                    except Exception as exc:  # a hook failure must not kill the receiver
                        delivery.status_after = {"error": repr(exc)}
                receiver._add(delivery)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "11")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

            do_POST = do_GET = do_PUT = do_PATCH = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a test receiver stays quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def local_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url_for(self, token: str) -> str:
        """Return the callback URL to give the target for one task."""
        return (self.public_url or self.local_url).rstrip("/") + PREFIX + token

    def _add(self, delivery: Delivery) -> None:
        with self._changed:
            self.deliveries.setdefault(delivery.token, []).append(delivery)
            self._changed.notify_all()

    def wait(self, token: str, timeout_s: float) -> list[Delivery]:
        """Return the deliveries for `token`, waiting up to `timeout_s` for the first."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not self.deliveries.get(token):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return list(self.deliveries.get(token, []))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
