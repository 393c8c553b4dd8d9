"""Every accepted task is in the store before its answer: SIGKILL of the server loses none."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support.serve import ServeProcess, status, text_request

pytestmark = pytest.mark.e2e

CLIENTS = 8


def test_sigkill_under_submit_load_loses_no_accepted_task(tmp_path: Path) -> None:
    store = tmp_path / "t.sqlite3"
    server = ServeProcess("--profile", "instant", store=store).start()
    accepted: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    answer = session.post(server.url("/api/v1/generateTask/flux-2"),
                                          json=text_request(), timeout=10,
                                          headers={"Authorization": "Bearer flux2-mock-key"})
                except requests.RequestException:
                    return  # the server is gone
                if answer.status_code == 200:
                    accepted.append(answer.json()["data"]["taskId"])

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(accepted) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # SIGKILL to the master and every worker, mid-load
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        server.kill()
    assert len(accepted) >= 200
    restarted = ServeProcess("--profile", "instant", store=store).start()
    try:
        lost = [t for t in accepted if status(restarted.base_url, t).status_code != 200]
    finally:
        restarted.kill()
    assert lost == []
