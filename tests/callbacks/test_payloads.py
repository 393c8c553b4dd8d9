"""Callback bodies are exactly the documented envelopes, and agree with the status answer."""

from __future__ import annotations

import json

import pytest

from flux2_spec.validation import schema_set
from mock_server.callbacks.sender import FAILURE_FIELDS, SUCCESS_FIELDS, callback_payload
from tests.support.mock_client import MakeMock, MockClient, callback_body
from tests.support.receiver import Receiver


def delivered(mock: MockClient, receiver: Receiver, scenario: str | None = None) -> tuple:
    task_id = mock.task(callback_body(receiver.url), scenario=scenario)
    assert mock.advance_and_deliver(1) == 1
    (request,) = receiver.wait_for(1)
    return task_id, request


def test_success_callback_is_the_documented_envelope(mock: MockClient,
                                                     receiver: Receiver) -> None:
    task_id, request = delivered(mock, receiver)
    body = request.json()
    assert request.headers["Content-Type"] == "application/json"
    assert schema_set().errors("callback-success.json", body) == []
    assert (body["code"], body["message"]) == (200, "success")
    assert tuple(body["data"]) == SUCCESS_FIELDS  # the docs' field order
    assert body["data"] == mock.data(task_id)
    assert json.loads(body["data"]["resultJson"])["resultUrls"][0].endswith(
        f"/output/{task_id}/0.jpg")


def test_failure_callback_is_the_flux2_pages_envelope(mock: MockClient,
                                                      receiver: Receiver) -> None:
    task_id, request = delivered(mock, receiver, "fail:CONTENT_VIOLATION")
    body = request.json()
    assert schema_set().errors("callback-failure.json", body) == []
    assert (body["code"], body["message"]) == (400, "failed")
    assert tuple(body["data"]) == FAILURE_FIELDS
    assert body["data"] == mock.data(task_id)
    assert body["data"]["failCode"] == "CONTENT_VIOLATION"
    assert body["data"]["costTime"] == body["data"]["completeTime"] - body["data"]["createTime"]


def test_the_webhooks_pages_failure_envelope_is_a_setting(make_mock: MakeMock,
                                                          receiver: Receiver) -> None:
    mock = make_mock(failure_callback_envelope="webhooks")
    task_id, request = delivered(mock, receiver, "fail")
    body = request.json()
    assert schema_set().errors("callback-failure-webhooks.json", body) == []
    assert not schema_set().is_valid("callback-failure.json", body)
    assert body["data"] == mock.data(task_id)


def test_the_journal_keeps_the_payload_that_was_sent(mock: MockClient,
                                                     receiver: Receiver) -> None:
    task_id, request = delivered(mock, receiver)
    (attempt,) = mock.callbacks(task_id)["deliveries"][0]["attempts"]
    assert attempt["payload"] == request.json()
    assert (attempt["status"], attempt["error"], attempt["url"]) == (200, None, receiver.url)
    assert attempt["time"] == mock.data(task_id)["completeTime"]


@pytest.mark.parametrize("state", ["pending", "processing"])
def test_an_unfinished_task_has_no_callback(state: str) -> None:
    with pytest.raises(ValueError, match=state):
        callback_payload({"taskId": "task_1", "state": state, "createTime": 1})


def test_nothing_is_sent_before_the_task_completes(mock: MockClient,
                                                   receiver: Receiver) -> None:
    task_id = mock.task(callback_body(receiver.url))
    assert mock.advance_and_deliver(0.999) == 0
    assert mock.data(task_id)["state"] == "processing"
    assert receiver.received == []
    assert mock.callbacks(task_id)["deliveries"][0]["state"] == "waiting"


def test_async_tasks_send_no_callback(mock: MockClient, receiver: Receiver) -> None:
    response = mock.submit({**callback_body(receiver.url), "request_type": "async"})
    task_id = response.get_json()["data"]["taskId"]
    assert mock.advance_and_deliver(5) == 0
    assert mock.callbacks(task_id) == {"taskId": task_id, "requestType": "async",
                                     "callbackUrl": None, "deliveries": []}
