"""Nothing a request waits on holds up another: latency sleepers and stalled clients."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.serve import ServeProcess, auth, serving, status, submit, text_request

pytestmark = pytest.mark.e2e

SLEEPERS = 8
STALLED = 8


def worker_pids(server: ServeProcess) -> list[int]:
    assert server.proc is not None
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    return sorted(int(p) for p in children.read_text().split())


def stalled_connection(base_url: str, partial: bytes) -> socket.socket:
    """Open a connection and send only part of a request."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((str(parts.hostname), int(parts.port or 80)), timeout=30)
    sock.sendall(partial)
    return sock


PARTIALS = [
    b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n",  # the head never ends
    b"POST /api/v1/generateTask/flux-2 HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
    b"Content-Type: application/json\r\n\r\n{\"input\": ",  # the body never ends
    b"",  # nothing at all
]


def test_health_and_status_answer_while_sleepers_and_stalled_clients_wait(
        tmp_path: Path) -> None:
    with serving("--profile", "instant", store=tmp_path / "t.sqlite3") as server:
        task_id = submit(server.base_url, text_request()).json()["data"]["taskId"]
        workers = worker_pids(server)
        assert len(workers) == 2
        stalled = [stalled_connection(server.base_url, PARTIALS[i % len(PARTIALS)])
                   for i in range(STALLED)]
        started = threading.Barrier(SLEEPERS + 1)
        slept: list[int] = []

        def sleeper() -> None:
            started.wait()
            answer = submit(server.base_url, text_request(), scenario="latency=4000",
                            timeout=60)
            slept.append(answer.status_code)

        threads = [threading.Thread(target=sleeper) for _ in range(SLEEPERS)]
        for thread in threads:
            thread.start()
        started.wait()
        try:
            for _ in range(10):
                # Answered (not timed: the shared machine's load is anyone's) while all wait.
                assert requests.get(server.url("/_mock/health"), timeout=20).ok
                assert status(server.base_url, task_id, timeout=20).json()["data"][
                    "state"] == "success"
            assert len(slept) < SLEEPERS  # the sleepers were indeed still asleep
        finally:
            for thread in threads:
                thread.join(60)
            for sock in stalled:
                sock.close()
        assert slept == [200] * SLEEPERS
        assert worker_pids(server) == workers  # no worker was killed or replaced
        assert "WORKER TIMEOUT" not in "".join(server.output)


def test_a_flood_of_sleepers_past_the_cap_is_answered_503_not_queued(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker keeps at most SLEEPERS latency sleepers; the mock says so, in JSON."""
    import mock_server.serving.worker as worker

    with serving("--profile", "instant", "--workers", "1",
                 store=tmp_path / "t.sqlite3") as server:
        answers: list[requests.Response] = []
        cap = worker.SLEEPERS

        def sleeper() -> None:
            answers.append(requests.get(
                server.url("/api/v1/statusTask/flux-2?taskId=x"), timeout=60,
                headers={**auth(), "X-Mock-Scenario": "latency=3000"}))

        threads = [threading.Thread(target=sleeper) for _ in range(cap + 8)]
        for thread in threads:
            thread.start()
        assert requests.get(server.url("/_mock/health"), timeout=20).ok
        for thread in threads:
            thread.join(90)
        refused = [a for a in answers if a.status_code == 503]
        assert len(answers) == cap + 8
        assert len(refused) >= 8
        assert refused[0].headers["Retry-After"] == "1"
        assert "too many latency faults" in refused[0].json()["data"]["error"]
        assert all(a.status_code in (404, 503) for a in answers)  # slept, then no such task
