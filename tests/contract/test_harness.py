"""The harness itself: broken targets built side by side, transports that leave nothing open."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from contract_tests.receiver import Receiver
from contract_tests.transport import Transport

from .breakages import KEY, Breakage
from .conftest import broken_target, prepare_in_process_mock


def _serve_and_ask(_: int) -> int:
    with broken_target(Breakage()) as url:
        return requests.get(url + "/api/v1/statusTask/flux-2?taskId=x", timeout=10).status_code


def test_broken_targets_can_be_built_from_many_threads_at_once() -> None:
    # The once-seen set-up error of test_broken_targets: apps built in parallel threads made
    # CPython 3.11's AST constructor fail (werkzeug compiles URL rules with ast.parse).
    prepare_in_process_mock()
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(_serve_and_ask, range(16)))
    assert codes == [401] * 16


def test_a_transport_used_after_close_leaves_no_session_open(in_process_mock: str) -> None:
    # A late callback's hook may still ask for the status after the driver closed its
    # transport; an unclosed session would surface later as a ResourceWarning (an error).
    transport = Transport(in_process_mock, KEY)
    transport.status("task_x")
    transport.close()
    answers: list[int] = []
    worker = threading.Thread(target=lambda: answers.append(transport.status("task_y").status))
    worker.start()
    worker.join()
    assert answers == [404] and transport.open_sessions == 0


def test_a_receiver_without_a_hook_still_records_late_deliveries() -> None:
    receiver = Receiver().start()
    try:
        receiver.on_delivery = None
        requests.post(receiver.url_for("late"), json={"code": 200}, timeout=5)
        assert [d.json for d in receiver.wait("late", 5)] == [{"code": 200}]
    finally:
        receiver.stop()
