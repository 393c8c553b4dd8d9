"""A callback relay on loopback: takes the mock's callback, changes it, passes it on."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests

# (method, parsed JSON body) -> (method, raw body) to send on, a list of them to send each
# (a repeated delivery), or None to drop the callback
Mutation = Callable[[str, Any], "tuple[str, bytes] | list[tuple[str, bytes]] | None"]


@contextmanager
def relay(mutate: Mutation, content_type: str = "application/json"
          ) -> Iterator[Callable[[str], str]]:
    """Yield a function turning a callback URL into the relay's URL for it."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            target = parse_qs(urlsplit(self.path).query)["to"][0]
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            changed = mutate("POST", parsed)
            for method, raw in [changed] if isinstance(changed, tuple) else changed or []:
                requests.request(method, target, data=raw, timeout=5,
                                 headers={"Content-Type": content_type})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/relay?to="
    try:
        yield lambda url: base + quote(url, safe="")
    finally:
        server.shutdown()
        server.server_close()
