"""Read and parse a JSON request body so that no byte sequence gets past the door unnamed.

Every way a body can be wrong ends in an ApiError naming the problem: a
framing the server could not read (a chunk size like `zz`), a body over
`max_body_bytes` however it is framed, bytes that are not UTF-8, text that is
not JSON, numbers the mock cannot keep (NaN, 1e400, integers of 5,000 digits;
each field's own bounds are its schema's), and lone UTF-16 surrogates
(`"\\ud800"`), which are no Unicode text and which SQLite cannot hand back.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mock_server.domain.errors import InvalidRequest

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what SQLite's INTEGER holds
_READ_SIZE = 65_536
# A \uD800-\uDFFF escape: a surrogate half, valid only as one of a pair.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class BodyTooLarge(RequestEntityTooLarge):
    """A body longer than the limit, whether its length was declared or not."""


def read_limited(stream: Any, limit: int | None) -> bytes:
    """Read `stream` to its end, refusing (413) as soon as it passes `limit` bytes."""
    pieces: list[bytes] = []
    size = 0
    try:
        while piece := stream.read(_READ_SIZE):
            size += len(piece)
            if limit is not None and size > limit:
                raise BodyTooLarge()
            pieces.append(piece)
    except HTTPException:
        raise
    except Exception as exc:  # the server's chunk parser, a reset connection, ...
        raise InvalidRequest(f"the request body could not be read: {_reason(exc)}") from None
    return b"".join(pieces)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}"[:200] if text else name


def _bad_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON (RFC 8259) has no such values.
    raise InvalidRequest(f"the request body is not valid JSON: {name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidRequest(f"the request body holds the number {_short(text)}, too large "
                             f"for a 64-bit float")
    return value


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-6:]}"


def parse_json(raw: bytes) -> Any:
    """Parse `raw` as one JSON value the mock can store and read back, or raise InvalidRequest."""
    if not raw.strip():
        raise InvalidRequest("the request body is empty; send a JSON object")
    try:
        value = json.loads(raw, parse_constant=_bad_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise InvalidRequest("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc.msg} at line "
                             f"{exc.lineno} column {exc.colno}") from None
    except ValueError:  # int() of more digits than Python converts (4,300)
        raise InvalidRequest(f"the request body holds an integer of more than "
                             f"{sys.get_int_max_str_digits()} digits") from None
    except RecursionError:
        raise InvalidRequest("the request body is nested too deeply to process") from None
    if _SURROGATE_ESCAPE.search(raw):  # rare: only then is every string walked
        where = lone_surrogate_at(value)
        if where is not None:
            raise InvalidRequest(f"{where} holds a lone UTF-16 surrogate escape (\\ud800-\\udfff "
                                 f"without its pair); JSON text must be Unicode", data={
                                     "errors": [{"field": where, "rule": "unicode",
                                                 "message": "a lone surrogate is not text"}]})
    return value


def lone_surrogate_at(value: Any) -> str | None:
    """Return the path of the first string (or key) holding a lone surrogate, else None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:  # iterative: a hostile body may nest thousands deep
        path, node = stack.pop()
        if isinstance(node, str):
            if not _is_text(node):
                return path or "request body"
        elif isinstance(node, dict):
            for key, item in node.items():
                child = f"{path}.{key}" if path else str(key)
                if not _is_text(key):
                    return (path or "request body") + " (a key)"
                stack.append((child, item))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))
    return None


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
