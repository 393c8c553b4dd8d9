"""One request the proxy forwarded and what came back, with every secret masked.

An exchange is what findings quote as evidence and what a recording keeps; it is
built already masked, so no code path can store the client's key by mistake.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from mock_server.domain.keys import key_id, mask_headers, mask_key

# Query parameters that carry credentials or signatures (pre-signed result URLs, tokens).
_SECRET_PARAM = re.compile(r"key|token|secret|auth|sig|credential|password|policy",
                           re.IGNORECASE)
MAX_BODY_CHARS = 16_000
# Answer headers worth keeping: the rest are hop-by-hop or say nothing about the API.
KEPT_RESPONSE_HEADERS = ("Content-Type", "Retry-After", "X-RateLimit-Limit",
                         "X-RateLimit-Remaining", "X-RateLimit-Reset")


def mask_query(query: str) -> str:
    """Return a query string with every credential-looking value masked."""
    if not query or not _SECRET_PARAM.search(query):
        return query
    return "&".join(f"{name}={mask_key(value) if _SECRET_PARAM.search(name) else value}"
                    for name, value in parse_qsl(query, keep_blank_values=True))


def mask_url(url: str) -> str:
    """Return `url` with its user info dropped and secret query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, mask_query(parts.query), parts.fragment))


def mask_body(value: Any) -> Any:
    """Return a JSON value with every URL string in it masked (callback_url, image_urls...)."""
    if isinstance(value, dict):
        return {k: mask_body(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_body(v) for v in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return mask_url(value)
    return value


def parse_json(raw: bytes) -> Any:
    """Return the JSON value of `raw`, or None when it is not JSON."""
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None


def shown_body(raw: bytes) -> Any:
    """What evidence and recordings show of a body: its JSON, else its text (cut)."""
    parsed = parse_json(raw)
    if parsed is not None:
        return mask_body(parsed)
    text = raw.decode("utf-8", "replace")
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "…"


@dataclass
class Exchange:
    """One forwarded request and the upstream's answer (or why there was none)."""

    time_ms: int
    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    request_body: Any
    status: int | None
    response_headers: dict[str, str]
    response_raw: bytes
    elapsed_ms: int
    key: str = field(default="", repr=False)  # in memory only: never stored or shown
    error: str | None = None

    @property
    def json(self) -> Any:
        return parse_json(self.response_raw)

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    def summary(self) -> dict[str, Any]:
        """The exchange as findings quote it: request line, status, answer body."""
        return {"time": self.time_ms, "method": self.method,
                "path": self.path + (f"?{mask_query(self.query)}" if self.query else ""),
                "apiKey": mask_key(self.key), "status": self.status, "error": self.error,
                "elapsedMs": self.elapsed_ms, "answer": shown_body(self.response_raw)}

    def record(self) -> dict[str, Any]:
        """The exchange as a recording keeps it (docs/proxy-and-replay.md, format 1)."""
        return {"time": self.time_ms, "elapsedMs": self.elapsed_ms, "keyId": self.key_id,
                "request": {"method": self.method, "path": self.path,
                            "query": mask_query(self.query), "headers": self.request_headers,
                            "body": self.request_body},
                "response": {"status": self.status, "error": self.error,
                             "headers": self.response_headers,
                             "body": shown_body(self.response_raw)}}


def masked_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Request headers as exchanges keep them: credentials masked (the journal's rule)."""
    return mask_headers((name, value) for name, value in headers
                        if name.lower() not in ("host", "content-length", "connection"))
