"""Server faults on demand: error answers, latency, dropped connections, damaged bodies.

A fault comes from the `X-Mock-Scenario` header (or a `[mock:...]` prompt marker on
submit), or is drawn at `fault_rate` from the key's request number and the seed, so
the same seed and the same sequence of requests give the same faults in any process.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from flask import Response

from mock_server.domain import scenarios
from mock_server.domain.errors import ApiError, InvalidRequest
from mock_server.domain.scenarios import Scenario
from mock_server.paid import sleepers
from mock_server.storage.protocols import UsageState

# The longest `latency=` a fault may ask: a sleeper holds a thread and a client's
# connection, and a minute covers any client timeout worth testing.
MAX_LATENCY_MS = 60_000
DEFAULT_KINDS = ("http=500", "http=503", "close", "truncate", "malformed")
# What stands in for a body that is not JSON: a proxy's error page, answered with 200.
MALFORMED_BODY = (b"<!DOCTYPE html>\n<html><head><title>Bad Gateway</title></head>"
                  b"<body><h1>502 Bad Gateway</h1><p>The upstream answer could not be "
                  b"relayed.</p></body></html>\n")


class InjectedError(ApiError):
    """The error answer an `http=<status>` fault asked for, in the documented envelope."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.message = _phrase(status)
        retry = {"Retry-After": "1"} if status in (429, 503) else None
        super().__init__(f"fault injected on request: http={status}", headers=retry)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class TooManySleepers(ApiError):
    """A latency fault asked while the worker has as many sleepers as it keeps."""

    status = 503
    message = "Service Unavailable"

    def __init__(self) -> None:
        super().__init__(f"too many latency faults under way at once (at most "
                         f"{sleepers.current.sleepers} per worker); retry later",
                         headers={"Retry-After": "1"})


def pause(latency_ms: int) -> None:
    """Wait out a latency fault as one of the capped sleepers (see paid/sleepers.py)."""
    if not sleepers.current.sleep(latency_ms / 1000):
        raise TooManySleepers()


def _check_latency(kind: Scenario, source: str) -> None:
    if kind.latency_ms is not None and kind.latency_ms > MAX_LATENCY_MS:
        message = (f"{source}: latency= must be at most {MAX_LATENCY_MS} ms, "
                   f"got {kind.latency_ms}")
        raise InvalidRequest(message, data={"errors": [
            {"field": "X-Mock-Scenario", "rule": "latency", "message": message}]})


def fault_kinds(tokens: Sequence[str]) -> tuple[Scenario, ...]:
    """Parse the `fault_kinds` setting: each entry one scenario of fault tokens."""
    kinds = []
    for token in tokens:
        try:
            kind = scenarios.parse(token, source="fault_kinds")
        except scenarios.ScenarioError as exc:
            raise ValueError(str(exc)) from None
        if not kind.has_fault or kind.outcome or kind.pending_ms or kind.processing_ms:
            raise ValueError(f"fault_kinds: {token!r} is not a fault; use http=<status>, "
                             f"latency=<ms>, close, truncate or malformed")
        if kind.latency_ms is not None and kind.latency_ms > MAX_LATENCY_MS:
            raise ValueError(f"fault_kinds: {token!r}: latency= must be at most "
                             f"{MAX_LATENCY_MS} ms")
        kinds.append(kind)
    return tuple(kinds)


def draw_fault(seed: str, api_key: str, number: int, rate: float,
               kinds: Sequence[Scenario]) -> Scenario | None:
    """Return the fault of the key's request `number` under `seed`, or None: pure."""
    if rate <= 0 or not kinds:
        return None
    digest = hashlib.sha256(f"{seed}:fault:{api_key}:{number}".encode()).digest()
    if int.from_bytes(digest[:8], "big") / 2**64 >= rate:
        return None
    return kinds[int.from_bytes(digest[8:16], "big") % len(kinds)]


def requested(header: str | None, prompt: str | None) -> Scenario:
    """Return the scenario a request asked for; a malformed one is a 400 naming the token."""
    try:
        asked = scenarios.resolve(header, prompt) if prompt else scenarios.parse(header)
    except scenarios.ScenarioError as exc:
        raise InvalidRequest(str(exc), data={"errors": [
            {"field": "X-Mock-Scenario", "rule": "scenario", "message": str(exc)}]}) from None
    _check_latency(asked, "X-Mock-Scenario")
    return asked


class FaultInjector:
    """Decides which fault, if any, a request gets."""

    def __init__(self, rate: float, kinds: Sequence[Scenario], seed: str,
                 usage: UsageState) -> None:
        self.rate = rate
        self.kinds = tuple(kinds)
        self.seed = seed
        self.usage = usage
        self.active = rate > 0 and bool(self.kinds)

    def for_request(self, api_key: str, header: str | None,
                    prompt: str | None) -> Scenario | None:
        """Return the request's fault: the one it asked for, else a drawn one, else None."""
        asked = requested(header, prompt) if header or prompt else Scenario()
        drawn = None
        if self.active:
            # Count every request, faulted or not, so that the draw sequence stays put.
            number = self.usage.next_request_number(api_key)
            drawn = draw_fault(self.seed, api_key, number, self.rate, self.kinds)
        if asked.has_fault:
            return asked
        return drawn


def drop_connection(environ: dict[str, Any]) -> bool:
    """Shut the client's socket without a word; False when the server exposes none.

    gunicorn (`gunicorn.socket`) and werkzeug's server (`werkzeug.socket`) both hand the
    socket to the app. After the shutdown the server's own write fails with EPIPE, which
    both ignore, and they close the socket as usual: the worker lives on.
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        return False
    with contextlib.suppress(OSError):  # the client left already: dropped either way
        sock.shutdown(socket.SHUT_RDWR)
    return True


def damage(response: Response, kind: str) -> Response:
    """Return the answer as a client would get it through the fault `kind`."""
    if kind == "malformed":
        return Response(MALFORMED_BODY, status=200, mimetype="text/html")
    body = response.get_data()
    cut = Response(body[:max(1, len(body) // 2)], status=response.status_code,
                   mimetype=response.mimetype)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "content-type"):
            cut.headers[name] = value
    # Promise the whole body and send half: the client's read ends early.
    cut.headers["Content-Length"] = str(len(body))
    return cut
