"""The test suite's callback receiver on loopback: records every request, answers as scripted."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = "hang"


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    time_ms: int
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the mock sends bursts of concurrent callbacks


class Receiver:
    """A threaded HTTP server on 127.0.0.1:0.

    `script` lists the answers to the first requests: an HTTP status, or HANG
    (hold the request without answering until the receiver is released or
    closed); after the script it answers `then`. Every answer waits `delay` seconds first.
    """

    def __init__(self, script: list[int | str] | None = None, then: int = 200,
                 delay: float = 0.0) -> None:
        self.script = list(script or [])
        self.then = then
        self.delay = delay
        self.received: list[Received] = []
        self.arrived = threading.Condition()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = receiver._record(Received(time.time_ns() // 1_000_000, self.path,
                                                   dict(self.headers.items()), body))
                if answer == HANG:
                    receiver.release.wait(30)
                    return
                if receiver.delay:
                    receiver.release.wait(receiver.delay)
                self.send_response(int(answer))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    def _record(self, request: Received) -> int | str:
        with self.arrived:
            self.received.append(request)
            self.arrived.notify_all()
            return self.script.pop(0) if self.script else self.then

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until at least `count` requests arrived; return them all."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"receiver got {len(self.received)} of {count} requests "
                                     f"within {timeout} s")
            return list(self.received)

    def payloads(self) -> list[Any]:
        with self.arrived:
            return [r.json() for r in self.received]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def unused_port_url() -> str:
    """Return a loopback URL where nothing listens (a receiver that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/callback"


@contextmanager
def receiving(script: list[int | str] | None = None, then: int = 200,
              delay: float = 0.0) -> Iterator[Receiver]:
    """Run a receiver for the block."""
    receiver = Receiver(script, then, delay)
    try:
        yield receiver
    finally:
        receiver.close()
