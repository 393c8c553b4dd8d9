"""What the proxy is told: where the upstream is, its own public URL, a spending cap, a
recording folder. Every URL is checked before anything is served."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ProxyOptionError(ValueError):
    """An option the proxy cannot work with; the message names the option."""


def checked_http_url(url: str, *, option: str) -> str:
    """Return `url` without a trailing slash, or raise naming `option` unless it is http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise ProxyOptionError(f"{option} must be an http:// or https:// URL, got "
                               f"{parts.scheme + ':' if parts.scheme else 'no scheme'} "
                               f"in {url!r}")
    if not parts.hostname:
        raise ProxyOptionError(f"{option} must name a host, got {url!r}")
    if parts.username or parts.password:
        # A credential in a URL ends up in logs, recordings and findings: keys travel in headers.
        raise ProxyOptionError(f"{option} must not carry a user or password; the client's "
                               f"API key travels in its Authorization header")
    if parts.query or parts.fragment:
        raise ProxyOptionError(f"{option} must be a base URL without query or fragment, "
                               f"got {url!r}")
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class ProxyOptions:
    """The proxy's own options (the serving ones are the mock's Settings)."""

    upstream: str
    public_url: str | None = None
    max_spend_usd: float | None = None
    record_dir: str | None = None
    # Seconds the proxy waits for the upstream before answering 502 (the client's own
    # time-out usually ends first).
    upstream_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "upstream", checked_http_url(self.upstream, option="--upstream"))
        if self.public_url is not None:
            object.__setattr__(self, "public_url",
                               checked_http_url(self.public_url, option="--public-url"))
        if self.max_spend_usd is not None and not self.max_spend_usd >= 0:
            raise ProxyOptionError(f"--max-spend must be 0 or more USD, got {self.max_spend_usd}")
        if self.record_dir is not None:
            folder = Path(self.record_dir)
            if folder.exists() and not folder.is_dir():
                raise ProxyOptionError(f"--record must name a folder, {folder} is a file")
        if not self.upstream_timeout_s > 0:
            raise ProxyOptionError("upstream_timeout_s must be above 0")
