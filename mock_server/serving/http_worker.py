"""HTTP-level errors in the API's JSON envelope, not HTML, for the serving worker.

Requests gunicorn cannot parse (a request line or headers too long, a garbled
request line) never reach Flask; gunicorn answers them itself with an HTML page.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util


class _Captured:
    """A stand-in socket that keeps what gunicorn would have sent."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


def client_status_line(status_line: str, exc: BaseException) -> str:
    """Return gunicorn's status line, or a 400 where the client's bytes are at fault."""
    if type(exc).__name__ == "UnsupportedTransferCoding":
        # gunicorn says 501; a coding the client made up is the client's error (a 4xx).
        return "HTTP/1.1 400 Bad Request"
    return status_line


def json_error(status_line: str, detail: str) -> bytes:
    """Return a whole HTTP response: the envelope for a status line like 'HTTP/1.1 414 ...'."""
    _version, code_text, reason = [*status_line.split(" ", 2), "", ""][:3]
    code = int(code_text) if code_text.isdigit() else 400
    reason = reason or "Bad Request"
    body = json.dumps({"code": code, "message": reason, "data": {"error": detail}},
                      separators=(",", ":")).encode()
    head = (f"HTTP/1.1 {code} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class JsonErrors:
    """A gunicorn worker mix-in whose own error answers are JSON envelopes, not HTML pages."""

    log: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)  # type: ignore[misc]  # picks the status
        if not captured.data:
            return
        status_line = client_status_line(
            captured.data.split(b"\r\n", 1)[0].decode("latin-1"), exc)
        server_fault = " 5" in status_line[:10]
        detail = "the server failed to handle this request" if server_fault else str(exc)
        try:
            util.write_nonblock(client, json_error(status_line, detail or status_line))
        except Exception:  # the client may be gone; gunicorn ignores this too
            self.log.debug("Failed to send error message.")
