"""Send a client's request on to the upstream with the client's own key; bring the answer back."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Protocol

import requests

from mock_server.proxy.exchange import KEPT_RESPONSE_HEADERS, Exchange, masked_headers

# Hop-by-hop headers (RFC 9110 7.6.1) and those the HTTP library sets itself.
_NOT_FORWARDED = frozenset({"host", "connection", "keep-alive", "proxy-authorization",
                            "proxy-authenticate", "te", "trailer", "transfer-encoding",
                            "upgrade", "content-length", "accept-encoding"})
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class Clock(Protocol):
    def now_ms(self) -> int: ...


class Forwarder:
    """One keep-alive session per thread to the upstream; never follows redirects."""

    def __init__(self, upstream: str, clock: Clock, *, timeout_s: float = 60.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.clock = clock
        self.timeout_s = timeout_s
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never through an environment proxy: only the upstream
            self._local.session = session
        return session

    def forward(self, method: str, path: str, query: str, headers: Mapping[str, str],
                body: bytes, *, key: str, shown_body: object) -> Exchange:
        """Send one request upstream; a failure to reach it is an exchange without a status."""
        sent = {name: value for name, value in headers.items()
                if name.lower() not in _NOT_FORWARDED}
        url = self.upstream + path + (f"?{query}" if query else "")
        started_ms, started = self.clock.now_ms(), time.monotonic()
        status: int | None = None
        kept: dict[str, str] = {}
        raw, error = b"", None
        try:
            with self._session().request(method, url, headers=sent, data=body or None,
                                         timeout=self.timeout_s, allow_redirects=False,
                                         stream=True) as response:
                raw = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
                if len(raw) > MAX_ANSWER_BYTES:
                    raise ValueError(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
                status = response.status_code
                kept = {name: response.headers[name] for name in KEPT_RESPONSE_HEADERS
                        if name in response.headers}
        except (requests.RequestException, OSError, ValueError) as exc:
            status, raw, error = None, b"", f"{type(exc).__name__}: {exc}"[:300]
        return Exchange(started_ms, method, path, query, masked_headers(headers.items()),
                        shown_body, status, kept, raw, round((time.monotonic() - started)
                                                              * 1000), key, error)
