"""One task's undeliverable callback never holds up another task's delivery.

The issue's poison: a stored callback_url holding a lone surrogate made the
outbox scan fail on every tick, so no callback of any task went out, across
restarts. The door now refuses such text, but a store written before (or by
anything else) may still hold it: the scan reads each row on its own.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server import VirtualClock
from mock_server.domain.lifecycle import TaskPlan
from mock_server.domain.tasks import TaskRecord
from mock_server.storage.sqlite.tasks import SQLiteStore
from tests.support.apps import make_app
from tests.support.mock_client import START_MS, callback_body
from tests.support.mock_client import MockClient as CallbackMock
from tests.support.receiver import HANG, Receiver
from tests.support.serve import DEFAULT_KEY, ServeProcess, submit

POISON = "http://127.0.0.1:9/\ud800"


def poison(path: Path, url: str = POISON, *, now_ms: int = START_MS) -> str:
    """Write a callback-mode task whose URL no UTF-8 reader can read back, as old stores hold."""
    store = SQLiteStore(path)
    try:
        def build(seq: int) -> TaskRecord:
            body = callback_body(url)
            return TaskRecord(f"task_poison{seq:08d}", seq, DEFAULT_KEY, body,
                              TaskPlan(now_ms, 0, 10, "success"), "http://127.0.0.1/", 1024,
                              1024, {})
        return store.create_task(build).task_id
    finally:
        store.close()


def test_a_poisoned_row_is_set_aside_and_every_other_callback_goes_out(
        tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "tasks.sqlite3"
    poisoned = poison(path)
    clock = VirtualClock(START_MS)
    app = make_app({"store": str(path), "profile": "instant", "pending_ms": 0,
                    "processing_ms": 1000, "callback_dispatch": "manual"}, clock=clock)
    mock = CallbackMock(app, clock)
    good = [mock.task(callback_body(f"{receiver.url}?n={n}")) for n in range(3)]
    assert mock.advance_and_deliver(2) == 3
    assert len(receiver.wait_for(3)) == 3
    assert sorted(r.json()["data"]["taskId"] for r in receiver.received) == sorted(good)
    (delivery,) = mock.callbacks(poisoned)["deliveries"]
    assert delivery["state"] == "abandoned" and delivery["attempts"] == []
    assert delivery["url"].startswith("http://127.0.0.1:9/\ufffd")  # shown, never sent
    # Later tasks still go out: the scan moved past the poison for good.
    mock.task(callback_body(receiver.url))
    assert mock.advance_and_deliver(2) == 1
    assert len(receiver.wait_for(4)) == 4


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A loopback port that answers any request with bytes that are no HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65_536)
                conn.sendall(b"\x00\xff garbage \r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/cb"
    stop.set()
    thread.join(2)
    listener.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/cb"


def test_hanging_refusing_garbled_and_forbidden_receivers_delay_nobody(
        garbage_server: str, receiver: Receiver) -> None:
    hanging = Receiver([HANG] * 5)
    try:
        clock = VirtualClock(START_MS)
        app = make_app({"profile": "instant", "pending_ms": 0, "processing_ms": 1000,
                        "callback_dispatch": "manual", "callback_timeout_s": 1}, clock=clock)
        mock = CallbackMock(app, clock)
        urls = (hanging.url, garbage_server, closed_port_url(), "http://192.0.2.1/cb",
                POISON.replace("\ud800", "x"))
        bad = [mock.task(callback_body(url)) for url in urls]
        good = mock.task(callback_body(receiver.url))
        assert mock.advance_and_deliver(2) == len(bad) + 1
        assert [r.json()["data"]["taskId"] for r in receiver.received] == [good]
        states = {t: mock.callbacks(t)["deliveries"][0] for t in bad}
        assert all(d["state"] in ("waiting", "abandoned") for d in states.values())
        assert all(d["attempts"][0]["error"] for d in states.values())
    finally:
        hanging.close()


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.e2e
def test_a_server_started_on_a_poisoned_store_delivers_every_other_callback(
        tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "tasks.sqlite3"
    poison(path, now_ms=int(time.time() * 1000))
    server = ServeProcess("--profile", "instant", store=path).start()
    try:
        ids = [submit(server.base_url, callback_body(receiver.url)).json()["data"]["taskId"]
               for _ in range(3)]
        wait_for(lambda: len(receiver.received) >= 3)
        assert sorted(r.json()["data"]["taskId"] for r in receiver.received) == sorted(ids)
        health = requests.get(server.url("/_mock/health"), timeout=5)
        assert health.status_code == 200
        time.sleep(0.5)  # a failing tick would log ~100 lines a second
        assert sum("Traceback" in line for line in server.output) == 0, "".join(server.output)
    finally:
        server.kill()
