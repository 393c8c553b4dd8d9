"""The paid part on the memory store and a virtual clock: exact windows, slots and charges."""

from __future__ import annotations

import json
from typing import Any

from mock_server.domain.keys import key_id, mask_key
from mock_server.paid.credits import spend_summary
from tests.paid.keys import FREE, PRO, RICH
from tests.support.mock_client import KEY, MakeMock, auth, body

BALANCE = "/api/v1/apikeys/current-balance"


def balance(mock: Any, key: str) -> Any:
    response = mock.client.get(BALANCE, headers=auth(key))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_free_key_gets_ten_requests_a_minute_across_both_endpoints(make_mock: MakeMock) -> None:
    mock = make_mock(key_plans=f"{FREE}=free")
    task_id = mock.task(key=FREE)
    for _ in range(9):
        assert mock.status(task_id, key=FREE).status_code == 200
    refused = mock.status(task_id, key=FREE)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.get_json()["code"] == 429
    assert "10 requests per minute" in refused.get_json()["data"]["error"]
    assert mock.submit(key=FREE).status_code == 429
    assert mock.submit(key=RICH).status_code == 200  # other keys are not throttled
    mock.clock.advance(30)
    assert mock.status(task_id, key=FREE).headers["Retry-After"] == "30"
    mock.clock.advance(30)
    assert mock.status(task_id, key=FREE).status_code == 200


def test_concurrent_tasks_are_limited_until_one_finishes(make_mock: MakeMock) -> None:
    mock = make_mock(key_plans=f"{FREE}=free")
    for seconds in (5, 8, 9):
        mock.task(key=FREE, scenario=f"processing={seconds * 1000}")
    refused = mock.submit(key=FREE)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "5"
    assert "3 concurrent tasks" in refused.get_json()["data"]["error"]
    assert len(spend_summary(mock.app.extensions["flux2_mock"].store, FREE)["tasks"]) == 3
    mock.clock.advance(5)
    assert mock.submit(key=FREE).status_code == 200


def test_stuck_tasks_hold_their_slots(make_mock: MakeMock) -> None:
    mock = make_mock(key_plans=f"{PRO}=pro")
    for _ in range(10):
        mock.task(key=PRO, scenario="stuck")
    mock.clock.advance(3600)
    refused = mock.submit(key=PRO)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "60")


def test_credits_run_out_at_the_task_they_cannot_pay(make_mock: MakeMock) -> None:
    mock = make_mock(key_balances=f"{FREE}=0.20")
    assert balance(mock, FREE) == 0.2
    mock.task(body(mode="flex-text-to-image", resolution="2K"), key=FREE)  # 0.12
    mock.task(key=FREE)  # pro 1K: 0.05
    assert balance(mock, FREE) == 0.03
    refused = mock.submit(key=FREE)
    assert refused.status_code == 402
    assert refused.get_json()["message"] == "Insufficient balance"
    assert refused.get_json()["data"]["balance"] == 0.03
    assert balance(mock, FREE) == 0.03  # a refused task costs nothing


def test_the_400_form_answers_insufficient_credits(make_mock: MakeMock) -> None:
    mock = make_mock(key_balances=f"{FREE}=0.04", insufficient_credits_form="400")
    refused = mock.submit(key=FREE)
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "Insufficient credits"


def test_the_task_form_accepts_a_task_that_fails_uncharged(make_mock: MakeMock) -> None:
    mock = make_mock(key_balances=f"{KEY}=0.05", insufficient_credits_form="task",
                     pending_ms=0, processing_ms=1000)
    paid = mock.task()
    unpaid = mock.task()
    mock.clock.advance(1)
    assert mock.data(paid)["state"] == "success"
    failed = mock.data(unpaid)
    assert (failed["state"], failed["failCode"]) == ("failed", "INSUFFICIENT_CREDITS")
    assert failed["failMsg"] == "Insufficient credits"
    assert balance(mock, KEY) == 0.0
    spend = spend_summary(mock.app.extensions["flux2_mock"].store, KEY)
    assert [t["costUsd"] for t in spend["tasks"]] == [0.05, 0.0]


def test_unlimited_keys_show_a_large_balance_and_say_so(make_mock: MakeMock) -> None:
    mock = make_mock()
    response = mock.client.get(BALANCE, headers=auth(RICH))
    assert response.get_json() == {"code": 200, "message": "success", "data": 1_000_000.0}
    assert response.headers["X-Mock-Balance"] == "unlimited"
    assert mock.client.get(BALANCE).status_code == 401


def test_the_spend_meter_totals_per_key_and_per_task(make_mock: MakeMock) -> None:
    mock = make_mock()
    mock.task(key=RICH)
    mock.task(body(mode="flex-image-to-image", resolution="2K",
                   image_urls=["https://example.com/a.png"]), key=RICH)
    mock.task(key=PRO)
    spend = mock.client.get("/_mock/spend").get_json()
    assert (spend["currency"], spend["totalUsd"], spend["taskCount"]) == ("USD", 0.23, 3)
    by_key = {k["apiKeyId"]: k for k in spend["keys"]}
    assert RICH not in json.dumps(spend) and PRO not in json.dumps(spend)  # masked
    RICH_ID, PRO_ID = key_id(RICH), key_id(PRO)
    assert by_key[RICH_ID]["totalUsd"] == 0.18 and by_key[RICH_ID]["taskCount"] == 2
    assert by_key[RICH_ID]["balanceUsd"] is None and by_key[RICH_ID]["plan"] == "unlimited"
    assert by_key[PRO_ID]["apiKey"] == mask_key(PRO)
    assert [t["costUsd"] for t in spend["tasks"]] == [0.05, 0.13, 0.05]
    one = mock.client.get(f"/_mock/spend?apiKey={PRO}&tasks=0").get_json()
    assert (one["totalUsd"], one["taskCount"], "tasks" in one) == (0.05, 1, False)


def test_status_requests_take_fault_tokens_ignore_others_and_refuse_unknown(
        make_mock: MakeMock) -> None:
    mock = make_mock()
    task_id = mock.task()
    headers = {**auth(), "X-Mock-Scenario": "http=503"}
    faulted = mock.client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id},
                              headers=headers)
    assert faulted.status_code == 503
    assert faulted.get_json()["data"]["error"] == "fault injected on request: http=503"
    headers["X-Mock-Scenario"] = "fail; processing=10"
    assert mock.client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id},
                           headers=headers).status_code == 200
    headers["X-Mock-Scenario"] = "explode"
    unknown = mock.client.get("/api/v1/statusTask/flux-2", query_string={"taskId": task_id},
                              headers=headers)
    assert unknown.status_code == 400
    assert "explode" in unknown.get_json()["data"]["error"]


def test_a_prompt_marker_asks_a_fault_on_submit(make_mock: MakeMock) -> None:
    mock = make_mock()
    answer = mock.submit(body("A lighthouse [mock:http=502]"))
    assert (answer.status_code, answer.get_json()["message"]) == (502, "Bad Gateway")
    assert spend_summary(mock.app.extensions["flux2_mock"].store)["taskCount"] == 0


def test_truncate_damages_the_real_answer_after_the_task_was_accepted(
        make_mock: MakeMock) -> None:
    mock = make_mock()
    answer = mock.submit(scenario="truncate")
    assert int(answer.headers["Content-Length"]) > len(answer.data)
    assert answer.data.startswith(b'{"code":200')
    assert spend_summary(mock.app.extensions["flux2_mock"].store)["taskCount"] == 1
