"""API keys: the one Authorization parser, the key id that names a key, and masking."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_SECRET_HEADER = re.compile(r"auth|token|secret|key|cookie|password", re.IGNORECASE)
_SCHEME = re.compile(r"^(\s*\w+\s+)(\S+)(.*)$")
MAX_HEADERS = 40
MAX_VALUE = 200


def parse_authorization(header: str | None) -> tuple[str, str]:
    """Split an Authorization header into (scheme, credential); '' for what is missing."""
    parts = (header or "").strip().split(None, 1)
    if len(parts) == 2:
        return parts[0], parts[1].strip()
    return "", parts[0] if parts else ""


def bearer_token(header: str | None) -> str | None:
    """Return the token of an `Authorization: Bearer <token>` header, or None."""
    scheme, credential = parse_authorization(header)
    if scheme.lower() != "bearer" or not credential or any(c.isspace() for c in credential):
        return None
    return credential


def key_id(key: str) -> str:
    """Return the short hash that names an API key in the journal and reports."""
    return hashlib.sha256(key.encode()).hexdigest()[:12] if key else ""

def mask_key(key: str) -> str:
    """Return a key mostly hidden: at most a quarter (four characters) shows at each end."""
    if not key:
        return ""
    shown = min(4, len(key) // 4)
    if shown == 0:
        return "…" + key_id(key)[:6]
    return f"{key[:shown]}…{key[-shown:]}"

def bearer_key(authorization: str | None) -> str:
    """Return the credential of an Authorization header ('' when there is none)."""
    return parse_authorization(authorization)[1]

def is_secret_header(name: str) -> bool:
    """Whether a header (or query parameter) of this name may carry a credential."""
    return _SECRET_HEADER.search(name) is not None

def mask_secret(value: str) -> str:
    """Mask a credential, keeping an auth scheme ('Bearer flu…key')."""
    match = _SCHEME.match(value)
    return match.group(1) + mask_key(match.group(2)) if match else mask_key(value.strip())

def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return the headers with every credential-looking value masked and long values cut."""
    masked: dict[str, str] = {}
    for name, value in headers:
        if len(masked) >= MAX_HEADERS:
            break
        if is_secret_header(name):
            value = mask_secret(value)
        masked[name] = value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…"
    return masked
