"""Fixtures for hostile-input tests: raw sockets to real servers, in-process apps."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.apps import make_app
from tests.support.serve import DEFAULT_KEY, ServeProcess

AUTH = {"Authorization": f"Bearer {DEFAULT_KEY}"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
SUBMIT = "/api/v1/generateTask/flux-2"


@dataclass(frozen=True)
class RawAnswer:
    """What a server sent back to bytes written on a socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_exchange(port: int, data: bytes, *, timeout: float = 10.0) -> RawAnswer:
    """Write `data` on a fresh loopback connection, half-close, and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        with contextlib.suppress(OSError):  # the server may have answered and closed already
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65_536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return RawAnswer(status, headers, body)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, body = out + rest[:size], rest[size + 2:]
    return out


def port_of(server: ServeProcess) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def served() -> Iterator[ServeProcess]:
    """One real `flux2-mock serve` (memory store) for a module's requests."""
    server = ServeProcess("--store", "memory").start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def client() -> FlaskClient:
    """An in-process mock (memory store) and its test client."""
    return make_app({"profile": "instant"}).test_client()


def assert_envelope(status: int, body: Any, expected: int | None = None) -> dict[str, Any]:
    """Assert a 4xx JSON envelope naming its problem; return it."""
    assert 400 <= status < 500, (status, body)
    if expected is not None:
        assert status == expected, (status, body)
    assert isinstance(body, dict) and body["code"] == status, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["data"]["error"], str) and body["data"]["error"], body
    return body


@pytest.fixture
def mock_defaults() -> dict[str, Any]:
    """Mocks here behave as the callback tests' do: tasks done in 1 s, quick retries."""
    return {"pending_ms": 0, "processing_ms": 1000, "seed": 7,
            "callback_retry_s": "30,120,600", "callback_timeout_s": 2}
