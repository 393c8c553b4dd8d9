"""`flux2-mock serve` as a user meets it: a real process on a free loopback port."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

from mock_server.domain.tasks import task_id_for
from tests.support.serve import (
    ServeProcess,
    auth,
    serving,
    status,
    submit,
    text_request,
    wait_terminal,
)

pytestmark = pytest.mark.e2e


def test_submit_poll_success_and_fetch_the_image(store: Path) -> None:
    with serving("--profile", "fast", store=store) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        answer = submit(server.base_url, text_request(aspect_ratio="16:9")).json()
        assert answer["code"] == 200
        task_id = answer["data"]["taskId"]
        data = wait_terminal(server.base_url, task_id)
        assert data["state"] == "success"
        assert data["costTime"] == data["completeTime"] - data["createTime"]  # type: ignore[operator]
        url = json.loads(str(data["resultJson"]))["resultUrls"][0]
        assert url.startswith(server.base_url + "/output/")
        response = requests.get(url, timeout=10)
        assert response.headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(response.content)).size == (1360, 768)


def test_forced_failure_by_header_and_by_marker(store: Path) -> None:
    with serving("--profile", "instant", store=store) as server:
        by_header = submit(server.base_url, text_request(), scenario="fail:NSFW_DETECTED")
        by_marker = submit(server.base_url, text_request("A cat [mock:fail:CONTENT_VIOLATION]"))
        first = wait_terminal(server.base_url, by_header.json()["data"]["taskId"])
        second = wait_terminal(server.base_url, by_marker.json()["data"]["taskId"])
        assert (first["state"], first["failCode"]) == ("failed", "NSFW_DETECTED")
        assert (second["state"], second["failCode"]) == ("failed", "CONTENT_VIOLATION")
        bad = submit(server.base_url, text_request(), scenario="explode")
        assert bad.status_code == 400
        assert "unknown scenario token 'explode'" in bad.json()["data"]["error"]


def test_prints_base_url_key_and_settings(store: Path) -> None:
    with serving("--profile", "fast", store=store) as server:
        banner = "".join(server.output)
        assert f"serving {server.base_url}" in banner
        assert "API key: flux2-mock-key" in banner
        assert "workers: 2" in banner and f"store: {store}" in banner


def test_restart_answers_every_task_with_the_state_the_clock_says(store: Path) -> None:
    plans = {"done": "success; pending=0; processing=0", "failed": "fail; processing=0",
             "stuck": "stuck", "long": "pending=0; processing=600000",
             "soon": "pending=0; processing=1500"}
    first = ServeProcess("--profile", "instant", "--seed", "5", store=store).start()
    try:
        ids = {name: submit(first.base_url, text_request(), scenario=scenario).json()["data"]
               ["taskId"] for name, scenario in plans.items()}
        before = {name: status(first.base_url, i).json()["data"] for name, i in ids.items()}
    finally:
        assert first.stop(signal.SIGTERM) == 0
    assert before["soon"]["state"] == "processing"
    second = ServeProcess("--profile", "instant", "--seed", "5", store=store).start()
    try:
        after = {name: status(second.base_url, i).json()["data"] for name, i in ids.items()}
        assert after["done"] == before["done"] and after["done"]["state"] == "success"
        assert after["failed"] == before["failed"] and after["failed"]["state"] == "failed"
        assert after["stuck"]["state"] == after["long"]["state"] == "processing"
        assert after["long"]["createTime"] == before["long"]["createTime"]
        soon = wait_terminal(second.base_url, ids["soon"])
        assert soon["completeTime"] == before["soon"]["createTime"] + 1500
        # The old result URL now points at the old port; the same path answers on the new one.
        path = urlsplit(json.loads(str(after["done"]["resultJson"]))["resultUrls"][0]).path
        assert requests.get(second.url(path), timeout=10).status_code == 200
        fresh = submit(second.base_url, text_request()).json()["data"]["taskId"]
        assert fresh == task_id_for("5", len(plans) + 1)
        assert fresh not in ids.values()
    finally:
        assert second.stop(signal.SIGTERM) == 0


def worker_pids(server: ServeProcess, count: int = 2, timeout: float = 15.0) -> list[int]:
    """Return the server's worker pids once `count` have started (gunicorn forks after ready)."""
    assert server.proc is not None
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    deadline = time.monotonic() + timeout
    while True:
        pids = [int(p) for p in children.read_text().split()]
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def hold_a_worker(base_url: str, path: str) -> socket.socket:
    """Open a connection with an unfinished request: one sync worker waits on it."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    sock = socket.create_connection((str(host), int(port or 80)), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                 "Authorization: Bearer flux2-mock-key\r\n".encode())
    time.sleep(0.3)  # let a worker accept it; correctness does not depend on the wait's length
    return sock


def finish(sock: socket.socket) -> dict[str, object]:
    """Complete the held request and return its JSON answer."""
    sock.sendall(b"Connection: close\r\n\r\n")
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), raw[:300]
    answer: dict[str, object] = json.loads(body)
    return answer


@pytest.mark.parametrize("store_arg", ["sqlite", "memory"])
def test_a_task_made_by_one_worker_is_read_by_the_other(store: Path, store_arg: str) -> None:
    """Hold worker A with a half-sent status read, so worker B takes the submit; then A reads."""
    where = str(store) if store_arg == "sqlite" else "memory"
    with serving("--profile", "instant", "--seed", "9", "--store", where) as server:
        expected = task_id_for("9", 1)
        assert len(worker_pids(server)) == 2
        held = hold_a_worker(server.base_url, f"/api/v1/statusTask/flux-2?taskId={expected}")
        try:
            made = submit(server.base_url, text_request())  # only the other worker is free
            assert made.json()["data"]["taskId"] == expected
            other = hold_a_worker(server.base_url, "/_mock/health")  # now B is busy too
        finally:
            answer = finish(held)  # A answers, about a task B made
        finish(other)
        assert answer["data"] == status(server.base_url, expected).json()["data"]
        assert answer["data"]["state"] == "success"  # type: ignore[index]


@pytest.mark.parametrize("store_arg", ["sqlite", "memory"])
def test_two_workers_see_the_same_tasks(store: Path, store_arg: str) -> None:
    where = str(store) if store_arg == "sqlite" else "memory"
    with serving("--profile", "instant", "--workers", "2", "--store", where) as server:
        assert len(worker_pids(server)) == 2
        with requests.Session() as session:
            ids = [session.post(f"{server.base_url}/api/v1/generateTask/flux-2",
                                json=text_request(f"task number {n}"), headers=auth(),
                                timeout=10).json()["data"]["taskId"] for n in range(30)]
        assert len(set(ids)) == 30
        for _ in range(3):
            for task_id in ids:  # a new connection each time: either worker may answer
                answer = status(server.base_url, task_id)
                assert answer.status_code == 200, answer.text
                assert answer.json()["data"]["state"] == "success"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_cleanly_with_exit_code_0(store: Path, sig: signal.Signals) -> None:
    server = ServeProcess("--profile", "instant", store=store).start()
    try:
        assert submit(server.base_url, text_request()).status_code == 200
        pids = worker_pids(server)
        assert len(pids) == 2
        assert server.stop(sig) == 0
    finally:
        server.kill()
    assert "Traceback" not in "".join(server.output)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
            f"/proc/{pid}/status").read_text().lower()


def test_memory_store_leaves_no_file_behind(tmp_path: Path) -> None:
    server = ServeProcess("--profile", "instant", "--store", "memory",
                          env={"XDG_STATE_HOME": str(tmp_path)}).start()
    try:
        assert submit(server.base_url, text_request()).status_code == 200
    finally:
        assert server.stop() == 0
    banner = re.search(r"store: memory \(throwaway file (\S+)\)", "".join(server.output))
    assert banner, server.output
    scratch = Path(banner.group(1))
    assert scratch.name == "tasks.sqlite3"
    assert not scratch.parent.exists()
    assert not list(tmp_path.rglob("*.sqlite3"))


def test_api_key_is_repeatable(store: Path) -> None:
    with serving("--api-key", "alpha", "--api-key", "beta", "--profile", "instant",
                 store=store) as server:
        assert "API key: alpha, beta" in "".join(server.output)
        assert submit(server.base_url, text_request(), key="alpha").status_code == 200
        assert submit(server.base_url, text_request(), key="beta").status_code == 200
        refused = submit(server.base_url, text_request())
        assert refused.status_code == 401
        assert refused.json()["message"] == "Invalid or missing API key"


def test_profile_from_env_and_settings_from_a_config_file(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('api_keys = ["from-config"]\nprofile = "realistic"\n'
                      'processing_ms = 600000\n', "utf-8")
    with serving("--config", str(config), store=store,
                 env={"FLUX2_MOCK_PROFILE": "instant"}) as server:
        health = requests.get(server.url("/_mock/health"), timeout=10).json()
        assert health["profile"] == "custom"  # instant from env, processing_ms from the file
        task_id = submit(server.base_url, text_request(), key="from-config").json()["data"][
            "taskId"]
        assert status(server.base_url, task_id, key="from-config").json()["data"][
            "state"] == "processing"
    with serving(store=store, env={"FLUX2_MOCK_PROFILE": "instant"}) as server:
        assert requests.get(server.url("/_mock/health"), timeout=10).json()["profile"] == "instant"


def test_bad_setting_stops_with_a_message_naming_it(store: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", "0",
                           "--store", str(store)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "FLUX2_MOCK_FAILURE_RATE": "2"}, check=False)
    assert done.returncode == 2
    assert "environment: failure_rate must be between 0 and 1, got 2.0" in done.stderr
    assert "Traceback" not in done.stderr


def wait_for_output(server: ServeProcess, text: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in "".join(server.output):
            return True
        time.sleep(0.05)
    return False


def test_no_access_log_by_default_and_on_with_the_flag(store: Path) -> None:
    for args, logged in (((), False), (("--access-log",), True)):
        server = ServeProcess("--profile", "instant", *args, store=store).start()
        try:
            task_id = submit(server.base_url, text_request()).json()["data"]["taskId"]
            status(server.base_url, task_id)
            if logged:
                assert wait_for_output(server, "GET /api/v1/statusTask/flux-2")
        finally:
            assert server.stop() == 0
        output = "".join(server.output)
        assert ("/api/v1/statusTask" in output) is logged
        assert ("POST /api/v1/generateTask/flux-2" in output) is logged


@pytest.mark.parametrize("problem", ["not a database", "parent is a file"])
def test_unusable_store_stops_with_a_message_naming_it(tmp_path: Path, problem: str) -> None:
    if problem == "not a database":
        path = tmp_path / "tasks.sqlite3"
        path.write_text("this is not SQLite\n", "utf-8")
    else:
        (tmp_path / "a-file").write_text("", "utf-8")
        path = tmp_path / "a-file" / "tasks.sqlite3"
    done = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", "0",
                           "--store", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2  # a usage problem: the person can fix it
    assert f"flux2-mock: cannot use store {path}: " in done.stderr
    assert "--store memory" in done.stderr and len(done.stderr.strip().splitlines()) == 2
    assert "Traceback" not in done.stderr


def raw_exchange(base_url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes; return the status line, headers and body of the answer."""
    parts = urlsplit(base_url)
    with socket.create_connection((str(parts.hostname), int(parts.port or 80)),
                                  timeout=10) as sock:
        sock.sendall(request)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], headers, body


@pytest.mark.parametrize(("request_bytes", "status", "words"), [
    (b"GET /api/v1/statusTask/flux-2?taskId=" + b"x" * 10_000 + b" HTTP/1.1\r\n\r\n",
     414, "Request Line is too large"),
    (b"GET /_mock/health HTTP/1.1\r\nX-Big: " + b"y" * 10_000 + b"\r\n\r\n",
     431, "limit request headers"),
    (b"GARBAGE\r\n\r\n", 400, "Invalid HTTP request line"),
    (b"GET / HTTP/9.9\r\n\r\n", 400, "HTTP"),
])
def test_requests_the_server_cannot_parse_get_json_envelopes(
        store: Path, request_bytes: bytes, status: int, words: str) -> None:
    with serving("--profile", "instant", store=store) as server:
        status_line, headers, body = raw_exchange(server.base_url, request_bytes)
        assert status_line.startswith(f"HTTP/1.1 {status} ")
        assert headers["Content-Type"] == "application/json"
        assert int(headers["Content-Length"]) == len(body)
        answer = json.loads(body)
        assert answer["code"] == status and answer["message"]
        assert words in answer["data"]["error"]
        assert "<html" not in body.decode().lower()
        assert requests.get(server.url("/_mock/health"), timeout=10).ok


def test_memory_store_survives_a_worker_restart() -> None:
    """A worker that exits must not take the throwaway store with it (it did once)."""
    server = ServeProcess("--profile", "instant", "--store", "memory").start()
    try:
        task_id = submit(server.base_url, text_request()).json()["data"]["taskId"]
        first = worker_pids(server)
        assert len(first) == 2
        os.kill(first[0], signal.SIGTERM)  # gunicorn replaces a worker that leaves
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = worker_pids(server)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.05)
        assert first[0] not in worker_pids(server)
        for _ in range(6):  # new connections: both the old and the new worker answer
            assert status(server.base_url, task_id).json()["data"]["state"] == "success"
        assert submit(server.base_url, text_request()).status_code == 200
    finally:
        assert server.stop() == 0
    assert "unable to open database file" not in "".join(server.output)
