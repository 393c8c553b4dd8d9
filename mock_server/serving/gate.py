"""Whether the bytes a client sent so far make a whole request a thread can serve at once.

The worker's event loop reads each request into memory before any thread sees it:
a client that sends half a request (slowly, or never the rest) then holds no thread.
"""

from __future__ import annotations

import re

# A head without its blank line by then is handed over anyway: gunicorn's parser
# refuses it (414/431) in the API's JSON envelope.
HEAD_LIMIT = 64 * 1024
# Bodies up to this size are read whole before a thread takes the request; a larger
# one is read by the thread (the app refuses bodies over max_body_bytes with 413).
BODY_LIMIT = 1024 * 1024
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d{1,15})[ \t]*\r?(?:\n|$)")
_CHUNKED = re.compile(rb"\ntransfer-encoding[ \t]*:[^\n]*chunked", re.IGNORECASE)
_EXPECT = re.compile(rb"\nexpect[ \t]*:", re.IGNORECASE)


def head_end(buf: bytes | bytearray) -> int:
    """Return where the body starts (after the blank line), or -1 while the head goes on."""
    crlf = buf.find(b"\r\n\r\n")
    if crlf >= 0:
        return crlf + 4
    lf = buf.find(b"\n\n")  # a bare-LF head: the parser answers it, so hand it over
    return lf + 2 if lf >= 0 else -1


def is_ready(buf: bytes | bytearray) -> bool:
    """Whether `buf` holds a whole request, or enough that the parser must judge it now."""
    end = head_end(buf)
    if end < 0:
        return len(buf) >= HEAD_LIMIT
    head = bytes(buf[:end])
    if _EXPECT.search(head):  # the client waits for "100 Continue" before its body
        return True
    body = len(buf) - end
    if _CHUNKED.search(head):
        # The last chunk (or a trailer) ends in a blank line.
        return buf.endswith(b"\r\n\r\n") or body >= BODY_LIMIT
    found = _CONTENT_LENGTH.search(head.lower())
    if found is None:
        return True
    return body >= min(int(found.group(1)), BODY_LIMIT)
