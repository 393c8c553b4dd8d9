"""Credits through real HTTP: balances run out at the right task, in each documented form."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.paid.keys import FREE, KEYS, RICH
from tests.support.serve import ServeProcess, auth, serving, submit, text_request, wait_terminal

pytestmark = pytest.mark.e2e

FLEX_2K = text_request(mode="flex-text-to-image", resolution="2K")  # 0.12 USD
PRO_1K = text_request()  # 0.05 USD


def balance(server: ServeProcess, key: str) -> Any:
    answer = requests.get(server.url("/api/v1/apikeys/current-balance"), headers=auth(key),
                          timeout=10)
    assert answer.status_code == 200
    assert (answer.json()["code"], answer.json()["message"]) == (200, "success")
    return answer.json()["data"]


def spend(server: ServeProcess, key: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(server.url("/_mock/spend"), params={"apiKey": key},
                                          timeout=10).json()
    return answer


@pytest.mark.parametrize(("form_name", "status", "message"), [
    ("402", 402, "Insufficient balance"),
    ("400", 400, "Insufficient credits"),
])
def test_an_exhausted_balance_refuses_the_task_it_cannot_pay(form_name: str, status: int,
                                                             message: str) -> None:
    with serving(*KEYS, "--balance", f"{FREE}=0.20", "--profile", "instant",
                 "--store", "memory", env=form(form_name)) as server:
        assert balance(server, FREE) == 0.2
        assert submit(server.base_url, FLEX_2K, key=FREE).status_code == 200
        assert submit(server.base_url, PRO_1K, key=FREE).status_code == 200
        assert balance(server, FREE) == 0.03
        refused = submit(server.base_url, PRO_1K, key=FREE)
        assert refused.status_code == status
        body = refused.json()
        assert (body["code"], body["message"]) == (status, message)
        assert "costs 0.05 USD" in body["data"]["error"]
        assert balance(server, FREE) == 0.03  # a refused task costs nothing
        assert spend(server, FREE)["taskCount"] == 2  # and creates nothing
        assert submit(server.base_url, PRO_1K, key=RICH).status_code == 200


def test_the_task_form_accepts_the_unpaid_task_and_fails_it() -> None:
    with serving(*KEYS, "--balance", f"{FREE}=0.10", "--profile", "instant",
                 "--store", "memory", env=form("task")) as server:
        ids = [submit(server.base_url, PRO_1K, key=FREE).json()["data"]["taskId"]
               for _ in range(3)]
        states = [wait_terminal(server.base_url, task_id, key=FREE) for task_id in ids]
        assert [s["state"] for s in states] == ["success", "success", "failed"]
        assert states[2]["failCode"] == "INSUFFICIENT_CREDITS"
        assert balance(server, FREE) == 0.0
        meter = spend(server, FREE)
        assert [t["costUsd"] for t in meter["tasks"]] == [0.05, 0.05, 0.0]
        assert meter["keys"][0]["balanceUsd"] == 0.0


def test_a_retried_submission_is_charged_once_per_task() -> None:
    with serving(*KEYS, "--balance", f"{FREE}=1", "--profile", "instant",
                 "--store", "memory") as server:
        # The connection drops before the API sees the request: no task, no charge.
        with pytest.raises(requests.ConnectionError):
            submit(server.base_url, PRO_1K, key=FREE, scenario="close")
        assert balance(server, FREE) == 1.0
        # The answer is cut short after the task was accepted: that task is charged once.
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            submit(server.base_url, PRO_1K, key=FREE, scenario="truncate").json()
        retried = submit(server.base_url, PRO_1K, key=FREE)
        assert retried.status_code == 200
        meter = spend(server, FREE)
        assert meter["taskCount"] == 2
        assert [t["costUsd"] for t in meter["tasks"]] == [0.05, 0.05]
        assert balance(server, FREE) == 0.9



def form(name: str) -> dict[str, str]:
    """Return the environment that picks how an exhausted balance answers."""
    return {"FLUX2_MOCK_INSUFFICIENT_CREDITS_FORM": name}
