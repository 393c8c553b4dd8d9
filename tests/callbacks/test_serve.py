"""Callbacks from real `flux2-mock serve` processes: off the request path, durable, exactly once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.mock_client import callback_body
from tests.support.receiver import HANG, Receiver, receiving
from tests.support.serve import ServeProcess, serving, submit, wait_terminal

pytestmark = pytest.mark.e2e
FAST_RETRIES = {"FLUX2_MOCK_CALLBACK_RETRY_S": "0.2,0.2,0.2", "FLUX2_MOCK_CALLBACK_TIMEOUT_S": "2"}


def journal(base_url: str, task_id: str, *, settled: bool = True) -> dict[str, Any]:
    """Return a task's callback journal; `settled`: once no delivery is waiting (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        response = requests.get(f"{base_url}/_mock/tasks/{task_id}/callbacks", timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        waiting = any(d["state"] == "waiting" for d in body["deliveries"])
        if not (settled and waiting) or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def submit_many(base_url: str, url: str, count: int, scenario: str | None = None) -> list[str]:
    ids = []
    for n in range(count):
        response = submit(base_url, callback_body(url, f"task number {n}"), scenario=scenario)
        assert response.status_code == 200, response.text
        ids.append(response.json()["data"]["taskId"])
    return ids


def received_ids(receiver: Receiver) -> Counter[str]:
    return Counter(p["data"]["taskId"] for p in receiver.payloads())


def test_a_served_mock_delivers_each_callback_once_across_two_workers(
        tmp_path: Path, receiver: Receiver) -> None:
    with serving("--workers", "2", "--profile", "fast", store=tmp_path / "tasks.sqlite3",
                 env=FAST_RETRIES) as server:
        ids = submit_many(server.base_url, receiver.url, 120)
        receiver.wait_for(len(ids))
        for task_id in ids:
            (delivery,) = journal(server.base_url, task_id)["deliveries"]
            assert delivery["state"] == "delivered"
            assert [a["status"] for a in delivery["attempts"]] == [200]
        assert received_ids(receiver) == Counter(ids)  # every one, none twice
        data = wait_terminal(server.base_url, ids[0])
        first = next(p for p in receiver.payloads() if p["data"]["taskId"] == ids[0])
        assert first["data"] == data


def test_callbacks_that_fall_due_while_the_server_is_down_go_out_after_restart(
        tmp_path: Path, receiver: Receiver) -> None:
    store = tmp_path / "tasks.sqlite3"
    # This server never delivers (no dispatcher), as if it died the moment it accepted.
    down = ServeProcess("--profile", "instant", store=store,
                        env={"FLUX2_MOCK_CALLBACK_DISPATCH": "manual"}).start()
    try:
        ids = submit_many(down.base_url, receiver.url, 15)
        ids += submit_many(down.base_url, receiver.url, 1, scenario="callback-duplicate")
    finally:
        down.kill()
    assert receiver.received == []
    with serving("--profile", "instant", store=store, env=FAST_RETRIES) as server:
        receiver.wait_for(len(ids) + 1)
        for task_id in ids:
            assert {d["state"] for d in journal(server.base_url, task_id)["deliveries"]} \
                == {"delivered"}
    assert received_ids(receiver) == Counter(ids) + Counter(ids[-1:])


def test_a_callback_in_flight_at_sigkill_is_delivered_after_restart(tmp_path: Path) -> None:
    store = tmp_path / "tasks.sqlite3"
    with receiving([HANG]) as receiver:
        first = ServeProcess("--profile", "instant", store=store,
                             env={"FLUX2_MOCK_CALLBACK_TIMEOUT_S": "60"}).start()
        try:
            (task_id,) = submit_many(first.base_url, receiver.url, 1)
            receiver.wait_for(1)  # the attempt is in flight: the receiver holds it
        finally:
            first.kill()
        with serving("--profile", "instant", store=store) as server:
            # The dead process's lease is taken over at once, not after its 125 s expiry.
            second = receiver.wait_for(2)[1]
            assert second.json()["data"]["taskId"] == task_id
            (delivery,) = journal(server.base_url, task_id)["deliveries"]
            assert delivery["state"] == "delivered"
            assert [a["status"] for a in delivery["attempts"]] == [200]


def test_a_served_mock_retries_then_abandons_and_still_answers(tmp_path: Path) -> None:
    with receiving([500, 500, 500, 500]) as receiver, \
            serving("--profile", "instant", store=tmp_path / "tasks.sqlite3",
                    env=FAST_RETRIES) as server:
        (task_id,) = submit_many(server.base_url, receiver.url, 1)
        receiver.wait_for(4)
        delivery = journal(server.base_url, task_id)["deliveries"][0]
        assert delivery["state"] == "abandoned"
        assert [a["status"] for a in delivery["attempts"]] == [500, 500, 500, 500]
        assert wait_terminal(server.base_url, task_id)["state"] == "success"
        response = requests.post(f"{server.base_url}/_mock/tasks/{task_id}/callbacks/redeliver",
                                 timeout=10)
        assert response.status_code == 202
        assert receiver.wait_for(5)[4].json()["data"]["taskId"] == task_id
