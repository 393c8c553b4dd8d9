"""Ctrl-C and SIGTERM stop `flux2-mock serve` gracefully: a request in flight is answered."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support.serve import ServeProcess, auth, submit, text_request

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("to_group", [False, True], ids=["master", "process-group"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_request_in_flight_is_answered_before_the_server_stops(
        tmp_path: Path, sig: signal.Signals, to_group: bool) -> None:
    server = ServeProcess("--profile", "instant", "--workers", "1",
                          store=tmp_path / "tasks.sqlite3").start()
    try:
        task_id = submit(server.base_url, text_request()).json()["data"]["taskId"]
        answers: list[requests.Response] = []

        def slow_status() -> None:  # the fault holds the request in the worker for 1.5 s
            answers.append(requests.get(
                f"{server.base_url}/api/v1/statusTask/flux-2", params={"taskId": task_id},
                headers={**auth(), "X-Mock-Scenario": "latency=1500"}, timeout=20))

        client = threading.Thread(target=slow_status)
        client.start()
        time.sleep(0.5)  # the request is now inside the worker
        assert server.proc is not None
        if to_group:  # a terminal's Ctrl-C reaches the master and every worker
            os.killpg(server.proc.pid, sig)
        else:
            server.proc.send_signal(sig)
        client.join(20)
        # One signal only: a second Ctrl-C is gunicorn's deliberate request to quit at once.
        assert server.proc.wait(20) == 0
    finally:
        server.kill()
    assert len(answers) == 1, "the request in flight got no answer"
    assert answers[0].status_code == 200
    assert answers[0].json()["data"]["taskId"] == task_id
    assert "Traceback" not in "".join(server.output)
