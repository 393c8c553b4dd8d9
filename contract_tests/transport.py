"""Sending requests to the target and remembering each exchange, to show and to replay."""

from __future__ import annotations

import json
import shlex
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

SUBMIT_PATH = "/api/v1/generateTask/flux-2"
STATUS_PATH = "/api/v1/statusTask/flux-2"
KEY_PLACEHOLDER = "$FLUX2_API_KEY"
SHOWN_BODY_CHARS = 600


@dataclass
class Exchange:
    """One request sent and what came back (status 0 when nothing came back)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    error: str | None = None
    sent_ms: int = 0
    elapsed_s: float = 0.0
    api_key: str = ""

    @property
    def json(self) -> Any:
        """Return the parsed answer, or None when it is not JSON."""
        try:
            return json.loads(self.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("Content-Type", "")

    def shown_headers(self) -> dict[str, str]:
        """Return the request headers with the user's own API key hidden."""
        out = {}
        for name, value in self.headers.items():
            if self.api_key and self.api_key in value:
                value = value.replace(self.api_key, KEY_PLACEHOLDER)
            out[name] = value
        return out

    def curl(self) -> str:
        """Return a curl command that sends this request again (the key read from the env)."""
        parts = ["curl", "-sS", "-X", self.method]
        for name, value in self.shown_headers().items():
            parts += ["-H", _header_arg(name, value)]
        if self.body is not None:
            parts += ["--data-binary", shlex.quote(self.body.decode("utf-8", "replace"))]
        parts.append(shlex.quote(self.url))
        return " ".join(parts)

    def describe(self) -> str:
        """Return what was sent and what came back, for a failure report."""
        sent = f"{self.method} {self.url}"
        for name, value in self.shown_headers().items():
            sent += f"\n    {name}: {value}"
        if self.body is not None:
            sent += "\n    " + _clip(self.body.decode("utf-8", "replace"))
        if self.error:
            got = f"no answer: {self.error}"
        else:
            got = f"HTTP {self.status} ({self.content_type or 'no Content-Type'})\n    " \
                  + _clip(self.content.decode("utf-8", "replace"))
        return f"  sent: {sent}\n  got:  {got}\n  curl: {self.curl()}"


def _header_arg(name: str, value: str) -> str:
    text = f"{name}: {value}"
    if KEY_PLACEHOLDER in text:
        # Double quotes so the shell expands the key; nothing else in a header needs them.
        return '"' + text.replace('"', '\\"') + '"'
    return shlex.quote(text)


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_BODY_CHARS else \
        text[:SHOWN_BODY_CHARS] + f"... ({len(text)} characters)"


def now_ms() -> int:
    return int(time.time() * 1000)


class Transport:
    """Sends requests to one base URL; the only place the suite touches the network."""

    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = 30.0,
                 retries_on_429: int = 5) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries_on_429 = retries_on_429
        self._local = threading.local()  # one Session per thread: drivers run side by side
        self._sessions: list[requests.Session] = []
        self._guard = threading.Lock()
        self.closed = False
        self.sent = 0

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._guard:
                self._sessions.append(session)
                if self.closed:
                    # Used after close (a late callback's hook): never leave a socket open,
                    # which would surface later as an unclosed-socket ResourceWarning.
                    session.close()
        return session

    @property
    def open_sessions(self) -> int:
        with self._guard:
            return 0 if self.closed else len(self._sessions)

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key if key is None else key}"}

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Exchange:
        """Send one request; a 429 is waited out and sent again (the caller counts it)."""
        for attempt in range(self.retries_on_429 + 1):
            exchange = self._send(method, url, headers or {}, body)
            if exchange.status != 429 or attempt == self.retries_on_429:
                return exchange
            time.sleep(_retry_after(exchange, attempt))
        return exchange

    def _send(self, method: str, url: str, headers: dict[str, str],
              body: bytes | None) -> Exchange:
        exchange = Exchange(method, url, dict(headers), body, sent_ms=now_ms(),
                            api_key=self.api_key)
        started = time.monotonic()
        self.sent += 1
        try:
            if self.closed:
                with requests.Session() as once:
                    response = once.request(method, url, headers=headers, data=body,
                                            timeout=self.timeout_s, allow_redirects=False)
            else:
                response = self.session.request(method, url, headers=headers, data=body,
                                                timeout=self.timeout_s, allow_redirects=False)
            exchange.status = response.status_code
            exchange.response_headers = dict(response.headers)
            exchange.content = response.content
        except requests.RequestException as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"
        exchange.elapsed_s = time.monotonic() - started
        return exchange

    def submit(self, payload: Any, *, headers: dict[str, str] | None = None,
               scenario: str | None = None, raw: bytes | None = None) -> Exchange:
        """POST a generation request; `headers` replaces the default auth when given."""
        sent = {"Content-Type": "application/json"}
        sent.update(self.auth() if headers is None else headers)
        if scenario:
            sent["X-Mock-Scenario"] = scenario
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        return self.request("POST", self.base_url + SUBMIT_PATH, headers=sent, body=body)

    def status(self, task_id: str, *, headers: dict[str, str] | None = None) -> Exchange:
        url = self.base_url + STATUS_PATH + "?" + urlencode({"taskId": task_id})
        return self.request("GET", url, headers=self.auth() if headers is None else headers)

    def fetch(self, url: str) -> Exchange:
        """GET a result URL, without credentials."""
        return self.request("GET", url)

    def close(self) -> None:
        with self._guard:
            self.closed = True
            sessions = list(self._sessions)
        for session in sessions:
            session.close()


def _retry_after(exchange: Exchange, attempt: int) -> float:
    """Wait as the target asks, else back off 2, 4, 8, ... seconds (at most a minute)."""
    value = exchange.response_headers.get("Retry-After", "")
    if value.strip().isdigit():
        return min(float(value), 60.0)
    return min(2.0 * 2 ** attempt, 60.0)
