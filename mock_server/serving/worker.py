"""gunicorn's threaded worker, made so that no client and no latency fault can stall it.

- Its event loop reads each request whole before a thread takes it (see gate.py):
  stalled or slow clients hold a buffer, never a thread, and leave after
  `request_timeout_s`.
- Latency faults sleep in at most SLEEPERS threads of the SLEEPERS + RESERVE a worker
  has (see paid/sleepers.py): RESERVE threads always serve the other requests.
- gunicorn's own error answers (request line or headers too long, garbled
  requests) are the API's JSON envelope, not HTML; Ctrl-C is graceful, as SIGTERM.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import signal
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import TConn, ThreadWorker

from mock_server.paid import sleepers
from mock_server.serving import gate
from mock_server.serving.http_worker import JsonErrors

# Latency-fault sleepers per worker process beyond which a fault answers 503 at once.
SLEEPERS = sleepers.DEFAULT_SLEEPERS
# Threads a worker keeps for everything else however many sleep: one process runs
# Python on one core, so a few suffice (more only trade the GIL back and forth).
RESERVE = 16
# How long a client may take to send one whole request.
REQUEST_TIMEOUT_S = 30.0
READ_SIZE = 65536
CORK = hasattr(socket, "TCP_CORK")  # Linux


class ServingWorker(JsonErrors, ThreadWorker):
    """The worker class of `flux2-mock serve` (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gated: deque[TConn] = deque()
        self.sleepers = sleepers.Sleepers(SLEEPERS)

    def init_process(self) -> None:
        sleepers.install(self.sleepers)
        super().init_process()

    def init_signals(self) -> None:
        super().init_signals()
        # gunicorn quits at once on SIGINT, even mid-answer; a terminal's Ctrl-C reaches
        # every worker, and the mock finishes the request at hand first, as on SIGTERM.
        signal.signal(signal.SIGINT, self.handle_exit)

    # -- reading requests in the event loop ----------------------------------------------

    def accept(self, listener: Any) -> None:
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._gate(TConn(self.cfg, sock, client, listener.getsockname()))  # non-blocking

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection sends its next request: read it whole first, too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._gate(conn)

    def _gate(self, conn: TConn) -> None:
        conn.gate_buf = bytearray()
        conn.timeout = time.monotonic() + REQUEST_TIMEOUT_S
        self.gated.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_gated, conn))

    def _on_gated(self, conn: TConn, _client: Any) -> None:
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data and gate.head_end(conn.gate_buf) < 0:  # left before its head was whole
            self._ungate(conn)
            self.nr_conns -= 1
            conn.close()
            return
        # A whole head from a client that stopped sending (a half-close) is still answered:
        # the parser finds the body short and the client hears why (400, or 413 past the limit).
        conn.gate_buf += data
        if data and not gate.is_ready(conn.gate_buf):
            return
        self._ungate(conn)
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(conn.gate_buf))
        conn.gate_buf = None
        conn.data_ready = True
        self.enqueue_req(conn)

    def _ungate(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        self.gated.remove(conn)

    def murder_pending(self) -> None:
        """Close what gunicorn would, and connections whose request never came whole."""
        super().murder_pending()
        now = time.monotonic()
        while self.gated and self.gated[0].timeout <= now:
            conn = self.gated.popleft()
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            conn.close()

    # -- serving ------------------------------------------------------------------------

    def handle(self, conn: TConn) -> Any:
        # gunicorn writes the head and the body apart: corked, they leave as one segment.
        cork = CORK and conn.sock.family in (socket.AF_INET, socket.AF_INET6)
        if cork:
            with contextlib.suppress(OSError):
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        try:
            return super().handle(conn)
        finally:
            if cork:
                with contextlib.suppress(OSError):
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
