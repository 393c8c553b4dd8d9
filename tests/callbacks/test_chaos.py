"""Callback chaos on demand (`callback-delay`, `-duplicate`, `-drop`) and redelivery."""

from __future__ import annotations

from tests.support.mock_client import MockClient, callback_body
from tests.support.receiver import Receiver


def test_callback_delay_delivers_no_sooner_than_complete_time_plus_delay(
        mock: MockClient, receiver: Receiver) -> None:
    task_id = mock.task(callback_body(receiver.url), scenario="callback-delay=2500")
    assert mock.advance_and_deliver(1) == 0
    assert mock.data(task_id)["state"] == "success"
    assert mock.advance_and_deliver(2.499) == 0
    assert mock.advance_and_deliver(0.001) == 1
    (request,) = receiver.wait_for(1)
    attempt = mock.callbacks(task_id)["deliveries"][0]["attempts"][0]
    assert attempt["time"] == request.json()["data"]["completeTime"] + 2500


def test_callback_delay_also_works_as_a_prompt_marker(mock: MockClient,
                                                      receiver: Receiver) -> None:
    response = mock.submit(callback_body(receiver.url, "a cat [mock:callback-delay=500]"))
    assert response.status_code == 200
    assert mock.advance_and_deliver(1) == 0
    assert mock.advance_and_deliver(0.5) == 1


def test_callback_duplicate_delivers_exactly_twice(mock: MockClient,
                                                   receiver: Receiver) -> None:
    task_id = mock.task(callback_body(receiver.url), scenario="callback-duplicate")
    assert mock.advance_and_deliver(1) == 2
    assert mock.advance_and_deliver(3600) == 0
    first, second = receiver.wait_for(2)
    assert first.json() == second.json()
    assert len(receiver.received) == 2
    deliveries = mock.callbacks(task_id)["deliveries"]
    assert [(d["reason"], d["state"]) for d in deliveries] == [("completion", "delivered"),
                                                               ("duplicate", "delivered")]


def test_callback_drop_never_delivers_and_polling_still_answers(mock: MockClient,
                                                                receiver: Receiver) -> None:
    task_id = mock.task(callback_body(receiver.url), scenario="callback-drop")
    assert mock.advance_and_deliver(3600) == 0
    assert receiver.received == []
    assert mock.data(task_id)["state"] == "success"
    (delivery,) = mock.callbacks(task_id)["deliveries"]
    assert (delivery["state"], delivery["attempts"]) == ("dropped", [])


def test_chaos_tokens_combine_with_outcomes(mock: MockClient, receiver: Receiver) -> None:
    mock.task(callback_body(receiver.url), scenario="fail:NSFW_DETECTED; callback-duplicate; "
                                     "callback-delay=100")
    assert mock.advance_and_deliver(1.1) == 2
    assert [p["code"] for p in receiver.payloads()] == [400, 400]


def test_redeliver_sends_the_callback_again(mock: MockClient, receiver: Receiver) -> None:
    task_id = mock.task(callback_body(receiver.url))
    mock.advance_and_deliver(1)
    response = mock.client.post(f"/_mock/tasks/{task_id}/callbacks/redeliver")
    assert response.status_code == 202
    assert response.get_json() == {"taskId": task_id, "delivery": 2, "state": "waiting"}
    assert mock.dispatcher.deliver_due() == 1
    first, second = receiver.wait_for(2)
    assert first.json() == second.json()
    assert [d["reason"] for d in mock.callbacks(task_id)["deliveries"]] == ["completion",
                                                                         "redeliver"]


def test_redeliver_works_for_a_dropped_callback(mock: MockClient, receiver: Receiver) -> None:
    task_id = mock.task(callback_body(receiver.url), scenario="callback-drop")
    mock.advance_and_deliver(1)
    assert mock.client.post(f"/_mock/tasks/{task_id}/callbacks/redeliver").status_code == 202
    assert mock.dispatcher.deliver_due() == 1
    assert len(receiver.wait_for(1)) == 1


def test_redeliver_refuses_what_has_nothing_to_deliver(mock: MockClient,
                                                       receiver: Receiver) -> None:
    running = mock.task(callback_body(receiver.url))
    response = mock.client.post(f"/_mock/tasks/{running}/callbacks/redeliver")
    assert response.status_code == 409
    assert "has not finished" in response.get_json()["data"]["error"]

    polled = mock.task({**callback_body(receiver.url), "request_type": "async"})
    mock.clock.advance(1)
    response = mock.client.post(f"/_mock/tasks/{polled}/callbacks/redeliver")
    assert response.status_code == 409
    assert "request_type 'async'" in response.get_json()["data"]["error"]

    for path in ("/_mock/tasks/task_nope/callbacks", "/_mock/tasks/task_nope/callbacks/redeliver"):
        method = mock.client.get if path.endswith("callbacks") else mock.client.post
        response = method(path)
        assert response.status_code == 404
        assert response.get_json()["code"] == 404
    assert receiver.received == []
