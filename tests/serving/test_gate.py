"""The event loop hands a request to a thread only once it is whole (or must be refused)."""

from __future__ import annotations

import pytest

from mock_server.serving import gate

HEAD = b"POST /api/v1/generateTask/flux-2 HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(("raw", "ready"), [
    (b"", False),
    (b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n", False),  # the blank line is missing
    (b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n", True),
    (b"GET /_mock/health HTTP/1.1\nHost: x\n\n", True),  # bare LF: the parser judges it
    (HEAD + b"Content-Length: 10\r\n\r\n12345", False),  # half the body
    (HEAD + b"Content-Length: 10\r\n\r\n1234567890", True),
    (HEAD + b"content-length:10\r\n\r\n1234567890", True),
    (HEAD + b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n", True),  # waits for 100
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", False),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", True),
    (HEAD + b"Content-Length: 99999999999\r\n\r\n", False),  # read up to BODY_LIMIT first
    (HEAD + b"Content-Length: 99999999999\r\n\r\n" + b"x" * gate.BODY_LIMIT, True),
    (b"GET /" + b"a" * gate.HEAD_LIMIT, True),  # too long a head: the parser answers 414
])
def test_a_request_is_ready_when_whole_or_refusable(raw: bytes, ready: bool) -> None:
    assert gate.is_ready(raw) is ready
